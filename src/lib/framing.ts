/**
 * Finds record boundaries in bytes of a `{"records":[ r, r, ... ]}` document without parsing the records.
 *
 * Network Watcher appends `,{record}` blocks before the closing `]}`, so a byte range that starts at the end
 * of a claimed record starts with `,` (more records) or `]` (none yet). The framer tracks only JSON string
 * state and nesting depth, so braces, quotes and escapes inside strings cannot confuse it. It is incremental:
 * feed chunks as they arrive and memory stays bounded by the largest record.
 */

export interface FramedElement {
  /** Absolute offset of the element's first byte in the blob. */
  start: number;
  /** Absolute offset just after its last byte. */
  end: number;
  bytes: Buffer;
}

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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const HEADER_TOKENS = [[OPEN_BRACE], [...Buffer.from('"records"')], [0x3a], [OPEN_BRACKET]];

const HEADER = 0;
const BEFORE_FIRST = 1; // after `[`, before the first element
const AFTER_ELEMENT = 2; // expecting `,` or `]`
const EXPECT_ELEMENT = 3; // after `,`
const IN_ELEMENT = 4;
const CLOSED = 5;
const MISMATCH = 6;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export class RecordFramer {
  private state: number;
  private offset: number;
  private lastEnd: number;
  private headerToken = 0;
  private headerPos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private elementStart = 0;
  private elementIsContainer = false;
  /** Chunks (or tails of chunks) holding the current element, when it spans chunks. */
  private pending: Buffer[] = [];
  private mismatchKind: FrameSummary['mismatch'];

  constructor(
    private readonly baseOffset: number,
    start: FrameStart,
  ) {
    this.state = start === 'document' ? HEADER : AFTER_ELEMENT;
    this.offset = baseOffset;
    this.lastEnd = baseOffset;
  }

  /** Feeds the next bytes of the range; returns the elements completed in them, in order. */
  push(chunk: Buffer): FramedElement[] {
    const elements: FramedElement[] = [];
    const chunkOffset = this.offset;
    const length = chunk.length;
    let i = 0;
    let strictBoundary = this.offset === this.baseOffset && this.state === AFTER_ELEMENT;
    while (i < length && this.state !== CLOSED && this.state !== MISMATCH) {
      if (this.state === IN_ELEMENT) {
        i = this.scanElement(chunk, i, chunkOffset, elements);
        continue;
      }
      const byte = chunk[i] as number;
      if (isWhitespace(byte) && !(this.state === HEADER && this.headerPos > 0)) {
        i++;
        continue;
      }
      switch (this.state) {
        case HEADER:
          i = this.matchHeader(byte, i);
          break;
        case AFTER_ELEMENT:
          if (byte === COMMA) this.state = EXPECT_ELEMENT;
          else if (byte === CLOSE_BRACKET) this.state = CLOSED;
          else if (strictBoundary) this.fail('notRecordBoundary');
          else this.beginElement(chunkOffset + i); // a missing comma: keep the bytes, let parsing judge them
          strictBoundary = false;
          if (this.state !== IN_ELEMENT) i++;
          break;
        case BEFORE_FIRST:
        case EXPECT_ELEMENT:
          if (byte === CLOSE_BRACKET) {
            this.state = CLOSED;
            i++;
          } else {
            this.beginElement(chunkOffset + i);
          }
          break;
      }
    }
    if (this.state === IN_ELEMENT) {
      const from = Math.max(0, this.elementStart - chunkOffset);
      this.pending.push(chunk.subarray(from));
    }
    this.offset = chunkOffset + length;
    return elements;
  }

  /** What the bytes fed so far amount to. */
  summary(): FrameSummary {
    return {
      end: this.lastEnd,
      closed: this.state === CLOSED,
      incompleteFrom: this.state === IN_ELEMENT ? this.elementStart : undefined,
      mismatch: this.mismatchKind,
    };
  }

  /**
   * The bytes fed so far are known to end at a record boundary (a claimed range re-read, or recovery):
   * a pending element ends here too. Returns it, if there was one.
   */
  finishAtBoundary(): FramedElement | undefined {
    if (this.state !== IN_ELEMENT) return undefined;
    const out: FramedElement[] = [];
    const pending = this.pending;
    this.pending = [];
    this.completeElement(Buffer.concat(pending), this.elementStart, pending.reduce((n, b) => n + b.length, 0), out);
    this.state = AFTER_ELEMENT;
    return out[0];
  }

  private matchHeader(byte: number, i: number): number {
    const token = HEADER_TOKENS[this.headerToken] as number[];
    if (byte !== token[this.headerPos]) {
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
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.elementIsContainer = false;
    this.pending = [];
  }

  /**
   * Scans element bytes from `i`. An object or array ends at its matching bracket; anything else (garbage)
   * ends before the next top-level `,` or `]`, so it can be set aside without losing the records after it.
   */
  private scanElement(chunk: Buffer, i: number, chunkOffset: number, out: FramedElement[]): number {
    const length = chunk.length;
    const atStart = chunkOffset + i === this.elementStart;
    if (atStart) {
      const first = chunk[i] as number;
      this.elementIsContainer = first === OPEN_BRACE || first === OPEN_BRACKET;
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let nextBackslash = -1; // found lazily once per chunk: most chunks have none
    for (; i < length; i++) {
      const byte = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        else {
          // Jump to the next quote or backslash: tuples are long strings with neither.
          if (nextBackslash < i) {
            const found = chunk.indexOf(BACKSLASH, i);
            nextBackslash = found === -1 ? length : found;
          }
          const nextQuote = chunk.indexOf(QUOTE, i + 1);
          i = Math.min(nextQuote === -1 ? length : nextQuote, nextBackslash) - 1;
        }
        continue;
      }
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (depth > 0) {
          depth--;
          if (depth === 0 && this.elementIsContainer) {
            this.completeElement(chunk, chunkOffset, i + 1, out);
            this.state = AFTER_ELEMENT;
            return i + 1;
          }
        } else if (byte === CLOSE_BRACKET) {
          this.completeElement(chunk, chunkOffset, i, out);
          this.state = CLOSED;
          return i + 1;
        }
      } else if (byte === COMMA && depth === 0) {
        this.completeElement(chunk, chunkOffset, i, out);
        this.state = EXPECT_ELEMENT;
        return i + 1;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return i;
  }

  /** Emits the element ending at `chunk[endIndex]` (exclusive), trimming trailing whitespace. */
  private completeElement(chunk: Buffer, chunkOffset: number, endIndex: number, out: FramedElement[]): void {
    const startIndex = Math.max(0, this.elementStart - chunkOffset);
    let bytes = this.pending.length === 0 ? chunk.subarray(startIndex, endIndex) : Buffer.concat([...this.pending, chunk.subarray(0, endIndex)]);
    this.pending = [];
    let trimmed = bytes.length;
    while (trimmed > 0 && isWhitespace(bytes[trimmed - 1] as number)) trimmed--;
    if (trimmed < bytes.length) bytes = bytes.subarray(0, trimmed);
    const end = this.elementStart + bytes.length;
    this.lastEnd = end;
    if (bytes.length > 0) out.push({ start: this.elementStart, end, bytes });
  }

  private fail(kind: NonNullable<FrameSummary['mismatch']>): void {
    this.state = MISMATCH;
    this.mismatchKind = kind;
  }
}

/** Frames one whole byte range at once. */
export function frameRange(bytes: Buffer, baseOffset: number, start: FrameStart): { elements: FramedElement[]; summary: FrameSummary } {
  const framer = new RecordFramer(baseOffset, start);
  const elements = framer.push(bytes);
  return { elements, summary: framer.summary() };
}

const MAX_RESYNC_ATTEMPTS = 64;

/**
 * Splits bytes that should hold whole records but do not frame (an unbalanced brace or quote in a
 * malformed record) into the malformed part and the records after it. It resynchronises at the first
 * `,{` from which the rest frames cleanly to the end, so one broken record does not take its
 * successors down with it. Everything not returned as a record is returned as malformed, never dropped.
 */
export function recoverRecords(start: number, bytes: Buffer): { malformed: FramedElement | undefined; records: FramedElement[] } {
  let attempts = 0;
  for (let comma = bytes.indexOf(COMMA, 1); comma !== -1 && attempts < MAX_RESYNC_ATTEMPTS; comma = bytes.indexOf(COMMA, comma + 1)) {
    let next = comma + 1;
    while (next < bytes.length && isWhitespace(bytes[next] as number)) next++;
    if (bytes[next] !== OPEN_BRACE) continue;
    attempts++;
    const framer = new RecordFramer(start + comma, 'afterRecord');
    const records = framer.push(bytes.subarray(comma));
    const summary = framer.summary();
    const rest = bytes.subarray(summary.end - start);
    if (summary.mismatch || summary.closed || summary.incompleteFrom !== undefined || !rest.every(isWhitespace)) continue;
    return { malformed: trimmedElement(start, bytes.subarray(0, comma)), records };
  }
  return { malformed: trimmedElement(start, bytes), records: [] };
}

function trimmedElement(start: number, bytes: Buffer): FramedElement | undefined {
  let from = 0;
  let to = bytes.length;
  while (from < to && isWhitespace(bytes[from] as number)) from++;
  while (to > from && isWhitespace(bytes[to - 1] as number)) to--;
  return to > from ? { start: start + from, end: start + to, bytes: bytes.subarray(from, to) } : undefined;
}
