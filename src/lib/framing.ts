import { isAscii } from 'node:buffer';
import { Char } from './charCodes';
import { parseRecord } from './records';
import { TUPLE_FORMATS, readTupleArray } from './tupleGrammar';
import type { TupleFormat } from './tuples';

/**
 * Finds record boundaries in bytes of a `{"records":[ r, r, ... ]}` document without parsing the records.
 *
 * Network Watcher appends `,{record}` blocks before the closing `]}`, so a byte range that starts at the end
 * of a claimed record starts with `,` (more records) or `]` (none yet). The framer tracks only JSON string
 * state and which brackets are open, so braces, quotes and escapes inside strings cannot confuse it. It is
 * incremental: feed chunks as they arrive; memory stays bounded by the largest record.
 *
 * A record cut short (a bracket closed by the wrong kind, or one never closed) is broken. Its end is
 * decided by `settle()` or `finish()`: the next `,{"time"...` whose element is a whole flow-log record starts
 * the records again, and the broken bytes before it become one malformed element (parsing then fails and
 * they are dead-lettered). Records begin with their time in every Network Watcher format, which keeps the
 * search to record starts. The decision depends only on the bytes, never on how they were chunked.
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

/** Enough bytes to hold a document's closing `]}` with any whitespace around it. */
export const CLOSING_BYTES = 64;

/** Where the closing `]}` (with any whitespace around it) starts in the last bytes of a document, or undefined. */
export function closingStart(tail: Buffer): number | undefined {
  return /\]\s*\}\s*$/.exec(tail.toString('latin1'))?.index;
}

/** Where a byte range begins: at offset 0 of the document, or just after a claimed record. */
export type FrameStart = 'document' | 'afterRecord';

export interface FramerOptions {
  /**
   * A top-level `]` closes the records array (whole documents). Claimed ranges and convert stop before the
   * document's closing `]}`, so there a `]` between records is malformed input, not the end.
   */
  closingInRange: boolean;
  /**
   * push() settles a long open element as it grows, setting aside the pieces of a long broken stretch as soon
   * as no record can start in them, to bound memory (streams of any length: convert). Off for claims, whose
   * end must be a record boundary, and for probes, which look at one element only.
   */
  settleWhileOpen?: boolean;
  /** MAX_RECORD_BYTES and SETTLE_STEP_BYTES, smaller in tests. */
  limits?: { maxRecordBytes: number; settleStepBytes: number };
}

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
/** What starts a record: `,` `{` `"time"` with JSON whitespace between. */
const RECORD_START = /^,[ \t\n\r]*\{[ \t\n\r]*"time"/;
const TIME_KEY = Buffer.from('"time"');
/** Longest prefix that RECORD_START needs to see before it can say no (generous for whitespace). */
const RECORD_START_BYTES = 64;
/**
 * Larger than any Network Watcher record (a minute of one NIC's flows). An element still open after this
 * many bytes is no record; a broken stretch is set aside in pieces of at most this size, at fixed offsets
 * from its start, so that neither chunking nor settling changes them, and dead letters stay bounded.
 */
const MAX_RECORD_BYTES = 64 << 20;
/** While an element stays open, what it holds is looked at again each time it grows by this much. */
const SETTLE_STEP_BYTES = 16 << 20;

const HEADER = 0;
const BEFORE_FIRST = 1; // after `[`, before the first element
const AFTER_ELEMENT = 2; // expecting `,` or `]`
const EXPECT_ELEMENT = 3; // after `,`
const IN_ELEMENT = 4;
const CLOSED = 5;
const MISMATCH = 6;
const BROKEN = 7; // an element cut short: its end is decided by settle() or finish()

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
  /** In the open element's bytes: where the search for a record start goes on. */
  private searchFrom = 1;
  private readonly maxRecordBytes: number;
  private readonly settleStepBytes: number;
  /** How large the open element may grow before push() settles what it can. */
  private settleAt: number;

  constructor(
    private readonly baseOffset: number,
    start: FrameStart,
    private readonly options: FramerOptions = { closingInRange: true },
  ) {
    this.state = start === 'document' ? HEADER : AFTER_ELEMENT;
    this.offset = baseOffset;
    this.lastEnd = baseOffset;
    this.maxRecordBytes = options.limits?.maxRecordBytes ?? MAX_RECORD_BYTES;
    this.settleStepBytes = options.limits?.settleStepBytes ?? SETTLE_STEP_BYTES;
    this.settleAt = this.settleStepBytes;
  }

  /**
   * Feeds the next bytes of the range; returns the elements completed in them, in order (only the first
   * `stopAfter`, if given: a probe needs one).
   */
  push(chunk: Buffer, stopAfter = Infinity): FramedElement[] {
    const elements = this.scan(chunk, stopAfter);
    if (this.options.settleWhileOpen === true && (this.state === IN_ELEMENT || this.state === BROKEN) && this.pendingLength() >= this.settleAt) {
      this.settleAt = this.pendingLength() + this.settleStepBytes;
      elements.push(...this.recover(false, true));
    }
    return elements;
  }

  /**
   * Decides what the bytes fed so far can decide about a broken or open element: the broken bytes up to the
   * next whole record are one malformed element, and framing goes on from that record. An element still
   * open at the end of the bytes stays open (a later push may complete it).
   */
  settle(): FramedElement[] {
    return this.recover(false, false);
  }

  /**
   * The range ends here, on a record boundary (a claimed range, a commit's records, the end of a document):
   * an element still open never closes. Returns what the open bytes hold: malformed parts and the records
   * found after them.
   */
  finish(): FramedElement[] {
    return this.recover(true, false);
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

  private scan(chunk: Buffer, stopAfter: number): FramedElement[] {
    const elements: FramedElement[] = [];
    const chunkOffset = this.offset;
    const length = chunk.length;
    let i = 0;
    let strictBoundary = this.offset === this.baseOffset && this.state === AFTER_ELEMENT;
    const closes = this.options.closingInRange;
    while (i < length && this.state !== CLOSED && this.state !== MISMATCH && this.state !== BROKEN) {
      if (this.state === IN_ELEMENT) {
        i = this.scanElement(chunk, i, chunkOffset, elements);
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
          if (code === Char.COMMA) this.state = EXPECT_ELEMENT;
          else if (code === Char.CLOSE_BRACKET && closes) this.state = CLOSED;
          else if (strictBoundary) this.fail('notRecordBoundary');
          else this.beginElement(chunkOffset + i); // a missing comma, or a stray `]`: let parsing judge the bytes
          strictBoundary = false;
          if (this.state !== IN_ELEMENT) i++;
          break;
        case BEFORE_FIRST:
        case EXPECT_ELEMENT:
          if (code === Char.CLOSE_BRACKET && closes) {
            this.state = CLOSED;
            i++;
          } else {
            this.beginElement(chunkOffset + i);
          }
          break;
      }
    }
    if (this.state === IN_ELEMENT || this.state === BROKEN) {
      const tail = chunk.subarray(Math.max(0, this.elementStart - chunkOffset));
      this.pending.push(tail);
      this.pendingAscii &&= isAscii(tail);
    }
    this.offset = chunkOffset + length;
    return elements;
  }

  /**
   * Scans element bytes from `i`. An object or array ends at its matching bracket; anything else (garbage)
   * ends before the next top-level `,` (or `]`, where that closes the array), so it can be set aside
   * without losing the records after it.
   */
  private scanElement(chunk: Buffer, i: number, chunkOffset: number, out: FramedElement[]): number {
    const length = chunk.length;
    if (chunkOffset + i === this.elementStart) {
      const first = chunk[i];
      this.elementIsContainer = first === Char.OPEN_BRACE || first === Char.OPEN_BRACKET;
    }
    const open = this.open;
    let inString = this.inString;
    let escaped = this.escaped;
    let stringStart = -1; // where the current string began in this chunk, if it did
    for (; i < length; i++) {
      const code = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (code === Char.BACKSLASH) escaped = true;
        else if (code === Char.QUOTE) {
          inString = false;
          if (i - stringStart === TUPLES_KEY.length + 1 && stringStart >= 0 && chunk[i + 1] === Char.COLON && chunk[i + 2] === Char.OPEN_BRACKET && chunk.toString('latin1', stringStart + 1, i) === TUPLES_KEY) {
            const after = this.skipTupleArray(chunk, i + 3, chunkOffset);
            if (after !== -1) i = after - 1;
          }
        }
        continue;
      }
      if (code === Char.QUOTE) {
        inString = true;
        stringStart = i;
      } else if (code === Char.OPEN_BRACE || code === Char.OPEN_BRACKET) {
        open.push(code);
      } else if (code === Char.CLOSE_BRACE || code === Char.CLOSE_BRACKET) {
        if (open.length > 0) {
          if (open.pop() !== (code === Char.CLOSE_BRACE ? Char.OPEN_BRACE : Char.OPEN_BRACKET)) {
            this.state = BROKEN;
            this.inString = false;
            return length;
          }
          if (open.length === 0 && this.elementIsContainer) {
            this.completeElement(chunk, chunkOffset, i + 1, out);
            this.state = AFTER_ELEMENT;
            return i + 1;
          }
        } else if (code === Char.CLOSE_BRACKET && this.options.closingInRange) {
          this.completeElement(chunk, chunkOffset, i, out);
          this.state = CLOSED;
          return i + 1;
        }
      } else if (code === Char.COMMA && open.length === 0) {
        this.completeElement(chunk, chunkOffset, i, out);
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
  private completeElement(chunk: Buffer, chunkOffset: number, endIndex: number, out: FramedElement[]): void {
    const whole = this.pending.length === 0;
    const untrimmed = whole ? chunk.subarray(Math.max(0, this.elementStart - chunkOffset), endIndex) : Buffer.concat([...this.pending, chunk.subarray(0, endIndex)]);
    let length = untrimmed.length;
    while (length > 0 && isWhitespace(untrimmed[length - 1] as number)) length--;
    const bytes = untrimmed.subarray(0, length);
    const elementAscii = whole ? isAscii(bytes) : this.pendingAscii && isAscii(chunk.subarray(0, endIndex));
    this.pending = [];
    const end = this.elementStart + bytes.length;
    this.lastEnd = end;
    if (bytes.length === 0) return;
    const element: FramedElement = { start: this.elementStart, end, bytes, ascii: elementAscii, tupleSpans: this.spans };
    // Across chunks a tuple array may have been cut in two: frame the joined element alone for its spans.
    out.push(whole ? element : reframed(element));
  }

  /**
   * Resolves the open element: at the first record start whose element is a whole record, the bytes before
   * it are set aside and framing goes on from there (as often as the bytes allow: a loop, not recursion).
   * At the end of the range (`atEnd`) an element still open is set aside whole.
   */
  private recover(atEnd: boolean, inPieces: boolean): FramedElement[] {
    const out: FramedElement[] = [];
    while (this.state === IN_ELEMENT || this.state === BROKEN) {
      const bytes = this.pendingBytes();
      if (bytes.length > this.maxRecordBytes) this.state = BROKEN; // too long to be a record
      const at = this.findRecordStart(bytes, atEnd);
      if (at === undefined) {
        if (atEnd) {
          this.setAside(bytes.length, out);
          this.state = AFTER_ELEMENT;
        } else if (inPieces) {
          this.setAsidePieces(out);
        }
        break;
      }
      // A record starts at `at`: the bytes before it are set aside, framing goes on from there.
      this.cutAt(at, out);
      this.scanRecovering(bytes.subarray(at), out);
    }
    return out;
  }

  /** Sets aside the open element's bytes before `at` (relative to its start); framing goes on from `at`. */
  private cutAt(at: number, out: FramedElement[]): void {
    const start = this.elementStart + at;
    this.setAside(at, out);
    this.pending = [];
    this.state = AFTER_ELEMENT;
    this.offset = start;
  }

  /**
   * Frames the bytes after a cut, in segments that end at record starts. An element still open at a record
   * start whose element is a whole record is cut there at once, so that a run of broken records costs one
   * pass over the bytes rather than one per broken record.
   */
  private scanRecovering(rest: Buffer, out: FramedElement[]): void {
    let from = 0;
    while (from < rest.length) {
      const next = nextRecordStart(rest, from + 1);
      const to = next === -1 ? rest.length : next;
      out.push(...this.scan(rest.subarray(from, to), Infinity));
      from = to;
      if (next === -1 || (this.state !== IN_ELEMENT && this.state !== BROKEN)) continue;
      if (nextElementIsRecord(rest.subarray(next), this.maxRecordBytes) === 'record') this.cutAt(this.offset - this.elementStart, out);
    }
  }

  /**
   * The first record start from `searchFrom` whose element is a whole record. Undefined when there is none
   * yet; without `atEnd`, the search waits at a record start whose element is not complete in these bytes.
   */
  private findRecordStart(bytes: Buffer, atEnd: boolean): number | undefined {
    for (let comma = nextRecordStart(bytes, this.searchFrom); comma !== -1; comma = nextRecordStart(bytes, comma + 1)) {
      const verdict = nextElementIsRecord(bytes.subarray(comma), this.maxRecordBytes);
      if (verdict === 'record') return comma;
      if (verdict === 'needMoreBytes' && !atEnd) {
        this.searchFrom = comma;
        return undefined;
      }
    }
    if (!atEnd) {
      // A record start cut short by the end of the bytes (nothing can follow it): wait there for more.
      const tail = Math.max(this.searchFrom, bytes.length - RECORD_START_BYTES);
      for (let comma = bytes.indexOf(Char.COMMA, tail); comma !== -1; comma = bytes.indexOf(Char.COMMA, comma + 1)) {
        if (mayBecomeRecordStart(bytes.toString('latin1', comma))) {
          this.searchFrom = comma;
          return undefined;
        }
      }
    }
    this.searchFrom = Math.max(1, bytes.length - RECORD_START_BYTES);
    return undefined;
  }

  /** Hands on `bytes[0, at)` of the open element as one malformed element; what is left of it starts at `at`. */
  private setAside(at: number, out: FramedElement[]): void {
    const bytes = this.pendingBytes();
    // In pieces of at most MAX_RECORD_BYTES from the stretch's start, whatever the chunks and the mode.
    for (let from = 0; from < at; from += this.maxRecordBytes) {
      const malformed = trimmedElement(this.elementStart + from, bytes.subarray(from, Math.min(at, from + this.maxRecordBytes)));
      if (malformed) {
        out.push(malformed);
        this.lastEnd = malformed.end;
      }
    }
    this.elementStart += at;
    this.pending = [bytes.subarray(at)];
    this.searchFrom = 0;
    this.settleAt = this.settleStepBytes;
  }

  /** A broken stretch with no record start in its first pieces: those pieces are set aside. */
  private setAsidePieces(out: FramedElement[]): void {
    const piece = this.maxRecordBytes;
    while (this.state === BROKEN && this.searchFrom >= piece + RECORD_START_BYTES) {
      // The rest is still the broken stretch: it stays BROKEN.
      const searched = this.searchFrom;
      this.setAside(piece, out);
      this.searchFrom = searched - piece;
    }
  }

  private pendingLength(): number {
    return this.pending.reduce((sum, bytes) => sum + bytes.length, 0);
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
    this.searchFrom = 1;
    this.open = [];
    this.inString = false;
    this.escaped = false;
    this.elementIsContainer = false;
    this.pending = [];
    this.pendingAscii = true;
    this.spans = [];
  }

  private fail(kind: NonNullable<FrameSummary['mismatch']>): void {
    this.state = MISMATCH;
    this.mismatchKind = kind;
  }
}

/** The element framed on its own (as if after a `,` in a records array), so its text and spans are whole. */
function reframed(element: FramedElement): FramedElement {
  const framer = new RecordFramer(element.start - 1, 'afterRecord', { closingInRange: false, settleWhileOpen: false });
  const [again] = framer.push(Buffer.concat([Buffer.from(','), element.bytes]));
  return again?.start === element.start && again.end === element.end ? { ...again, ascii: element.ascii } : element;
}

/** Frames one whole byte range at once. */
export function frameRange(bytes: Buffer, baseOffset: number, start: FrameStart): { elements: FramedElement[]; summary: FrameSummary } {
  const framer = new RecordFramer(baseOffset, start);
  const elements = framer.push(bytes);
  return { elements, summary: framer.summary() };
}

/**
 * Whether the element after this `,` is a whole flow-log record, or whether its end is not in these bytes
 * yet. An element not complete within MAX_RECORD_BYTES is no record.
 */
function nextElementIsRecord(bytes: Buffer, maxRecordBytes: number): 'record' | 'notRecord' | 'needMoreBytes' {
  const window = bytes.subarray(0, maxRecordBytes);
  const probe = new RecordFramer(0, 'afterRecord', { closingInRange: false, settleWhileOpen: false });
  const [element] = probe.push(window, 1);
  if (!element) return probe.summary().incompleteFrom !== undefined && !probe.isBroken() && window.length === bytes.length ? 'needMoreBytes' : 'notRecord';
  return typeof parseRecord(element.bytes) === 'object' ? 'record' : 'notRecord';
}

/** The index of the `,` of the first record start (RECORD_START) at or after `from`, or -1. */
function nextRecordStart(bytes: Buffer, from: number): number {
  for (let key = bytes.indexOf(TIME_KEY, from); key !== -1; key = bytes.indexOf(TIME_KEY, key + 1)) {
    const comma = bytes.lastIndexOf(Char.COMMA, key);
    if (comma >= from && RECORD_START.test(bytes.toString('latin1', comma, comma + RECORD_START_BYTES))) return comma;
  }
  return -1;
}

/** Whether these bytes, cut short, could still grow into a record start: `,`, `{` and a prefix of `"time"`. */
function mayBecomeRecordStart(prefix: string): boolean {
  if (prefix.length >= RECORD_START_BYTES) return false;
  const match = /^,[ \t\n\r]*(\{[ \t\n\r]*)?([^]*)$/.exec(prefix);
  if (!match) return false;
  return match[1] === undefined ? match[2] === '' : '"time"'.startsWith(match[2] ?? '');
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
