import { isAscii } from 'node:buffer';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './charCodes';
import { parseRecord } from './records';
import { TUPLE_FORMATS, readTupleArray } from './tupleGrammar';
import type { TupleFormat } from './tuples';

/**
 * Finds record boundaries in bytes of a `{"records":[ r, r, ... ]}` document without parsing the records.
 *
 * Network Watcher appends `,{record}` blocks before the closing `]}`, so a byte range that starts at the end
 * of a claimed record starts with `,` (more records) or `]` (none yet). The framer tracks only JSON string
 * state and which brackets are open, so braces, quotes and escapes inside strings cannot confuse it. It is
 * incremental: feed chunks as they arrive and memory stays bounded by the largest record (or, in a broken
 * stretch, by MAX_BROKEN_BYTES).
 *
 * A record cut short (a bracket closed by the wrong kind, or never closed) is broken: the framer
 * resynchronises at the first following `,{` whose element is a whole flow-log record, hands the broken
 * bytes on as one malformed element (they fail parsing and are dead-lettered), and frames on from there,
 * so one broken record does not take the good ones after it down with it.
 *
 * Fast path: most of a record's bytes are its `"flowTuples":[...]` arrays. When one follows the tuple
 * grammar, the grammar's validator reads through it in place and the framer notes it as a validated tuple
 * span, so shaping need not look at those tuples again.
 */

/** The content of one `"flowTuples":[...]` array (between the brackets) whose tuples all follow `format`. */
export interface TupleSpan {
  start: number;
  end: number;
  format: TupleFormat;
  count: number;
}

/** Bytes of a blob and where they stand in it. */
export interface ByteRange {
  /** Absolute offset of the first byte in the blob. */
  start: number;
  /** Absolute offset just after the last byte. */
  end: number;
  bytes: Buffer;
}

export interface FramedElement extends ByteRange {
  /** All ASCII: decoded as latin1, string indexes are byte offsets. */
  ascii: boolean;
  /** Its validated tuple arrays, in document order. */
  tupleSpans: TupleSpan[];
}

/** The dead-letter reason for bytes that do not start like `{"records":[`. */
export const NOT_A_DOCUMENT = 'not a flow log document ({"records":[...]})';

/** Where a byte range begins: at offset 0 of the document, or just after a claimed record. */
export type FrameStart = 'document' | 'afterRecord';

export interface FrameSummary {
  /** Offset just after the last complete element (or the range start if there was none). */
  end: number;
  /** The records array's closing `]` was seen. */
  closed: boolean;
  /** A started element whose end was not in the bytes seen: its start offset. */
  incompleteFrom: number | undefined;
  /** The bytes did not start the way `start` promised: not a flow-log document, or not a record boundary. */
  mismatch: 'notFlowLogDocument' | 'notRecordBoundary' | undefined;
}

const HEADER_TOKENS = ['{', '"records"', ':', '['];
const TUPLES_KEY = 'flowTuples';

const HEADER = 0;
const BEFORE_FIRST = 1; // after `[`, before the first element
const AFTER_ELEMENT = 2; // expecting `,` or `]`
const EXPECT_ELEMENT = 3; // after `,`
const IN_ELEMENT = 4;
const CLOSED = 5;
const MISMATCH = 6;
const BROKEN = 7; // an element cut short: its end is unknown until a resynchronisation point is found

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

export class RecordFramer {
  private state: number;
  private offset: number;
  private lastEnd: number;
  private headerToken = 0;
  private headerPos = 0;
  /** The open brackets of the current element, innermost last. */
  private open: number[] = [];
  private inString = false;
  private escaped = false;
  private elementStart = 0;
  private elementIsContainer = false;
  /** Chunks (or tails of chunks) holding the current element, when it spans chunks. */
  private pending: Buffer[] = [];
  private pendingAscii = true;
  private spans: TupleSpan[] = [];
  /** Network Watcher blobs hold one format: try the last one seen first. */
  private formats: readonly TupleFormat[] = TUPLE_FORMATS;
  private mismatchKind: FrameSummary['mismatch'];
  /** While broken: where in the pending bytes the search for a resynchronisation point goes on. */
  private resyncFrom = 1;

  /** `resync: false` for probes, which only look at one element. */
  constructor(
    private readonly baseOffset: number,
    start: FrameStart,
    private readonly options: { resync: boolean } = { resync: true },
  ) {
    this.state = start === 'document' ? HEADER : AFTER_ELEMENT;
    this.offset = baseOffset;
    this.lastEnd = baseOffset;
  }

  /**
   * Feeds the next bytes of the range; returns the elements completed in them, in order (after the first
   * `stopAfter` elements, if given: probes need one).
   */
  push(chunk: Buffer, stopAfter = Infinity): FramedElement[] {
    const elements: FramedElement[] = [];
    const chunkOffset = this.offset;
    const ascii = isAscii(chunk);
    const length = chunk.length;
    let i = 0;
    let strictBoundary = this.offset === this.baseOffset && this.state === AFTER_ELEMENT;
    while (i < length && this.state !== CLOSED && this.state !== MISMATCH && this.state !== BROKEN) {
      if (this.state === IN_ELEMENT) {
        i = this.scanElement(chunk, ascii, i, chunkOffset, elements);
        if (elements.length >= stopAfter) return elements;
        continue;
      }
      const code = chunk[i] as number;
      if (isWhitespace(code) && !(this.state === HEADER && this.headerPos > 0)) {
        i++;
        continue;
      }
      switch (this.state) {
        case HEADER:
          i = this.matchHeader(code, i);
          break;
        case AFTER_ELEMENT:
          if (code === COMMA) this.state = EXPECT_ELEMENT;
          else if (code === CLOSE_BRACKET) this.state = CLOSED;
          else if (strictBoundary) this.fail('notRecordBoundary');
          else this.beginElement(chunkOffset + i); // a missing comma: keep the bytes, let parsing judge them
          strictBoundary = false;
          if (this.state !== IN_ELEMENT) i++;
          break;
        case BEFORE_FIRST:
        case EXPECT_ELEMENT:
          if (code === CLOSE_BRACKET) {
            this.state = CLOSED;
            i++;
          } else {
            this.beginElement(chunkOffset + i);
          }
          break;
      }
    }
    if (this.state === IN_ELEMENT || this.state === BROKEN) {
      this.pending.push(chunk.subarray(Math.max(0, this.elementStart - chunkOffset)));
      this.pendingAscii &&= ascii;
    }
    this.offset = chunkOffset + length;
    if (this.state === BROKEN && this.options.resync) elements.push(...this.resync(false));
    return elements;
  }

  isBroken(): boolean {
    return this.state === BROKEN;
  }

  /** Still reading the document's `{"records":[` (only in 'document' mode). */
  readingHeader(): boolean {
    return this.state === HEADER;
  }

  /** What the bytes fed so far amount to. */
  summary(): FrameSummary {
    return {
      end: this.lastEnd,
      closed: this.state === CLOSED,
      incompleteFrom: this.state === IN_ELEMENT || this.state === BROKEN ? this.elementStart : undefined,
      mismatch: this.mismatchKind,
    };
  }

  /**
   * The range ends here, on a record boundary (a claimed range, a commit's records, the end of a document):
   * an element still open never closes. Returns what the open bytes hold: malformed parts and the records
   * found after them.
   */
  finish(): FramedElement[] {
    const out: FramedElement[] = [];
    while (this.state === IN_ELEMENT || this.state === BROKEN) {
      this.state = BROKEN;
      const recovered = this.resync(true);
      if (recovered.length > 0) {
        out.push(...recovered);
        continue;
      }
      const bytes = this.pendingBytes();
      this.pending = [];
      this.state = AFTER_ELEMENT;
      const malformed = trimmedElement(this.elementStart, bytes);
      if (malformed) {
        this.lastEnd = malformed.end;
        out.push(malformed);
      }
    }
    return out;
  }

  /**
   * Looks for the first `,{` in the broken bytes whose element is a whole flow-log record. Found: returns the
   * broken bytes before it as one malformed element, then frames on from there. Not found yet: returns
   * nothing and waits for more bytes (at the end of the range, `atEnd`, an incomplete element is no record).
   */
  private resync(atEnd: boolean): FramedElement[] {
    const bytes = this.pendingBytes();
    for (let comma = bytes.indexOf(COMMA, this.resyncFrom); comma !== -1; comma = bytes.indexOf(COMMA, comma + 1)) {
      let next = comma + 1;
      while (next < bytes.length && isWhitespace(bytes[next] as number)) next++;
      if (next === bytes.length && !atEnd) {
        this.resyncFrom = comma;
        return this.setAsideScanned();
      }
      if (bytes[next] !== OPEN_BRACE) continue;
      const verdict = nextElementIsRecord(bytes.subarray(comma));
      if (verdict === 'needMoreBytes' && !atEnd) {
        this.resyncFrom = comma;
        return this.setAsideScanned();
      }
      if (verdict !== 'record') continue;
      const out: FramedElement[] = [];
      const malformed = trimmedElement(this.elementStart, bytes.subarray(0, comma));
      if (malformed) out.push(malformed);
      this.lastEnd = malformed?.end ?? this.elementStart;
      this.pending = [];
      this.state = AFTER_ELEMENT;
      this.offset = this.elementStart + comma;
      out.push(...this.push(bytes.subarray(comma)));
      return out;
    }
    this.resyncFrom = Math.max(1, bytes.length - 1);
    return atEnd ? [] : this.setAsideScanned();
  }

  /**
   * Keeps memory bounded while a long stretch stays broken: the bytes already searched without a
   * resynchronisation point are handed on as a malformed element (a dead letter of their own).
   */
  private setAsideScanned(): FramedElement[] {
    const bytes = this.pendingBytes();
    if (bytes.length < MAX_BROKEN_BYTES) return [];
    const cut = this.resyncFrom;
    const malformed = trimmedElement(this.elementStart, bytes.subarray(0, cut));
    this.pending = [bytes.subarray(cut)];
    this.elementStart += cut;
    this.resyncFrom = 0; // the kept bytes start at a candidate's comma
    if (!malformed) return [];
    this.lastEnd = malformed.end;
    return [malformed];
  }

  private pendingBytes(): Buffer {
    if (this.pending.length !== 1) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0] as Buffer;
  }

  private matchHeader(code: number, i: number): number {
    const token = HEADER_TOKENS[this.headerToken] as string;
    if (code !== token.charCodeAt(this.headerPos)) {
      this.fail('notFlowLogDocument');
      return i;
    }
    this.headerPos++;
    if (this.headerPos === token.length) {
      this.headerPos = 0;
      this.headerToken++;
      if (this.headerToken === HEADER_TOKENS.length) this.state = BEFORE_FIRST;
    }
    return i + 1;
  }

  private beginElement(absoluteStart: number): void {
    this.state = IN_ELEMENT;
    this.elementStart = absoluteStart;
    this.resyncFrom = 1;
    this.open = [];
    this.inString = false;
    this.escaped = false;
    this.elementIsContainer = false;
    this.pending = [];
    this.pendingAscii = true;
    this.spans = [];
  }

  /**
   * Scans element bytes from `i`. An object or array ends at its matching bracket; anything else (garbage)
   * ends before the next top-level `,` or `]`, so it can be set aside without losing the records after it.
   */
  private scanElement(chunk: Buffer, ascii: boolean, i: number, chunkOffset: number, out: FramedElement[]): number {
    const length = chunk.length;
    if (chunkOffset + i === this.elementStart) {
      const first = chunk[i];
      this.elementIsContainer = first === OPEN_BRACE || first === OPEN_BRACKET;
    }
    const open = this.open;
    let inString = this.inString;
    let escaped = this.escaped;
    let stringStart = -1; // where the current string began in this chunk, if it did
    for (; i < length; i++) {
      const code = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (code === BACKSLASH) escaped = true;
        else if (code === QUOTE) {
          inString = false;
          if (i - stringStart === TUPLES_KEY.length + 1 && stringStart >= 0 && chunk[i + 1] === COLON && chunk[i + 2] === OPEN_BRACKET && chunk.toString('latin1', stringStart + 1, i) === TUPLES_KEY) {
            const after = this.skipTupleArray(chunk, i + 3, chunkOffset);
            if (after !== -1) i = after - 1;
          }
        }
        continue;
      }
      if (code === QUOTE) {
        inString = true;
        stringStart = i;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        open.push(code);
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        if (open.length > 0) {
          if (open.pop() !== (code === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) {
            this.state = BROKEN;
            this.inString = false;
            return length;
          }
          if (open.length === 0 && this.elementIsContainer) {
            this.completeElement(chunk, ascii, chunkOffset, i + 1, out);
            this.state = AFTER_ELEMENT;
            return i + 1;
          }
        } else if (code === CLOSE_BRACKET) {
          this.completeElement(chunk, ascii, chunkOffset, i, out);
          this.state = CLOSED;
          return i + 1;
        }
      } else if (code === COMMA && open.length === 0) {
        this.completeElement(chunk, ascii, chunkOffset, i, out);
        this.state = EXPECT_ELEMENT;
        return i + 1;
      }
    }
    this.inString = inString;
    this.escaped = escaped;
    return i;
  }

  /** At `from` (just after `"flowTuples":[`): if the tuple grammar reads through `]`, notes the span and returns the index after it. */
  private skipTupleArray(chunk: Buffer, from: number, chunkOffset: number): number {
    for (const format of this.formats) {
      const array = readTupleArray(chunk, from, format);
      if (!array) continue;
      if (format !== this.formats[0]) this.formats = [format, ...TUPLE_FORMATS.filter((f) => f !== format)];
      this.spans.push({ start: chunkOffset + from, end: chunkOffset + array.end - 1, format, count: array.count });
      return array.end;
    }
    return -1;
  }

  /** Emits the element ending at `chunk[endIndex]` (exclusive), trimming trailing whitespace. */
  private completeElement(chunk: Buffer, ascii: boolean, chunkOffset: number, endIndex: number, out: FramedElement[]): void {
    const startIndex = Math.max(0, this.elementStart - chunkOffset);
    let trimmed = endIndex;
    while (trimmed > startIndex && isWhitespace(chunk[trimmed - 1] as number)) trimmed--;
    const whole = this.pending.length === 0;
    const bytes = whole ? chunk.subarray(startIndex, trimmed) : Buffer.concat([...this.pending, chunk.subarray(0, trimmed)]);
    const elementAscii = whole ? ascii : this.pendingAscii && isAscii(chunk.subarray(0, trimmed));
    this.pending = [];
    const end = this.elementStart + bytes.length;
    this.lastEnd = end;
    if (bytes.length === 0) return;
    const element: FramedElement = { start: this.elementStart, end, bytes, ascii: elementAscii, tupleSpans: this.spans };
    // Across chunks a tuple array may have been cut in two: frame the joined element alone for its spans.
    out.push(whole ? element : reframed(element));
  }

  private fail(kind: NonNullable<FrameSummary['mismatch']>): void {
    this.state = MISMATCH;
    this.mismatchKind = kind;
  }
}

/** The element framed on its own (as if after a `,` in a records array), so its text and spans are whole. */
function reframed(element: FramedElement): FramedElement {
  const framer = new RecordFramer(element.start - 1, 'afterRecord');
  const [again] = framer.push(Buffer.concat([Buffer.from(','), element.bytes]));
  return again?.start === element.start && again.end === element.end ? { ...again, ascii: element.ascii } : element;
}

/** Frames one whole byte range at once. */
export function frameRange(bytes: Buffer, baseOffset: number, start: FrameStart): { elements: FramedElement[]; summary: FrameSummary } {
  const framer = new RecordFramer(baseOffset, start);
  const elements = framer.push(bytes);
  return { elements, summary: framer.summary() };
}

/** Broken bytes held at most while searching on (beyond that, searched bytes are set aside). */
const MAX_BROKEN_BYTES = 8 << 20;

/**
 * Whether the element after this `,` is a whole flow-log record (not, say, an inner flow object of a broken
 * record), or whether its end is not in these bytes yet.
 */
function nextElementIsRecord(bytes: Buffer): 'record' | 'notRecord' | 'needMoreBytes' {
  const probe = new RecordFramer(0, 'afterRecord', { resync: false });
  const [element] = probe.push(bytes, 1);
  if (!element) return probe.summary().incompleteFrom !== undefined && !probe.isBroken() ? 'needMoreBytes' : 'notRecord';
  return typeof parseRecord(element.bytes) === 'object' ? 'record' : 'notRecord';
}

function trimmedElement(start: number, bytes: Buffer): FramedElement | undefined {
  let from = 0;
  let to = bytes.length;
  while (from < to && isWhitespace(bytes[from] as number)) from++;
  while (to > from && isWhitespace(bytes[to - 1] as number)) to--;
  if (to <= from) return undefined;
  const trimmed = bytes.subarray(from, to);
  return { start: start + from, end: start + to, bytes: trimmed, ascii: isAscii(trimmed), tupleSpans: [] };
}
