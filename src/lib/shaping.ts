import { randomBytes } from 'node:crypto';
import { Char } from './charCodes';
import { errorMessage } from './errors';
import type { ShapingConfig } from './config';
import type { ByteRange, FramedElement, TupleSpan } from './framing';
import { createPacker, type Packer } from './packing';
import { parseRecord, validateRecord, type FlowLogRecord } from './records';
import { recordWith, splitRecord, type TuplePick } from './split';
import { tupleGroups, type TupleGroup } from './tupleGroups';
import { groupJson, idOpening, tupleJsonBound, writeTupleJson, type GroupJson } from './tupleJson';
import { tupleProblem } from './tuples';

/**
 * Turns framed records into event bodies (docs/contract.md "Event bodies"): records forwarded byte-for-byte
 * or as flat tuple objects, packed into envelopes or one per event, never over MAX_EVENT_BYTES. What cannot
 * be forwarded goes to `onDeadLetter` with its exact bytes and byte range; the rest still goes out.
 *
 * Fast path: when the framer validated every tuple array of a record (tuple spans), only the record's
 * skeleton (the record with each array's content replaced by a marker) is parsed and schema-checked. The
 * markers prove which array belongs to which flow group. Anything else takes the slow path, which parses
 * the whole record and each tuple; both accept exactly the same records.
 */

export interface DeadLetterItem {
  start: number;
  end: number;
  bytes: Buffer;
  reason: string;
}

export interface ShapeStats {
  records: number;
  tuples: number;
  events: number;
  bytesOut: number;
  deadLetters: number;
}

export interface ShaperOptions {
  config: ShapingConfig;
  /** From tupleIdPrefix(): makes tuple ids deterministic per source blob. */
  idPrefix: string;
  onBody(body: string): void;
  onDeadLetter(item: DeadLetterItem): void;
}

/** A record validated on the fast path: its groups, in the order of its validated tuple spans. */
interface FastRecord {
  parsed: FlowLogRecord;
  groups: TupleGroup[];
  spans: TupleSpan[];
}

/** Unguessable, so no string in a record can pose as a marker. */
const MARKER_NONCE = randomBytes(8).toString('hex');
const marker = (index: number): string => `\u0000${MARKER_NONCE}:${index}`;

export class FlowLogShaper {
  readonly stats: ShapeStats = { records: 0, tuples: 0, events: 0, bytesOut: 0, deadLetters: 0 };
  private readonly packer: Packer;
  /** While a record is shaped, its dead letters wait here: they go out only if the whole record is shaped. */
  private heldDeadLetters: DeadLetterItem[] | undefined;
  /** Where a tuple object is written when the body being filled has no room for it in place. */
  private scratch = Buffer.alloc(0);

  constructor(private readonly options: ShaperOptions) {
    this.packer = createPacker(options.config.packing, options.config.maxEventBytes, (body, byteLength) => {
      this.stats.events++;
      this.stats.bytesOut += byteLength;
      options.onBody(body);
    });
  }

  /** Shapes one framed record. One that cannot be shaped, for whatever reason, is set aside, not thrown. */
  add(element: FramedElement): void {
    const { records, tuples } = this.stats;
    const held: DeadLetterItem[] = [];
    this.heldDeadLetters = held;
    try {
      this.shape(element);
    } catch (error) {
      // Set aside whole, once: the dead letters of its parts (malformed tuples) and its counts are dropped.
      held.length = 0;
      this.stats.records = records;
      this.stats.tuples = tuples;
      held.push({ start: element.start, end: element.end, bytes: element.bytes, reason: `record could not be shaped (${errorMessage(error)})` });
    } finally {
      this.heldDeadLetters = undefined;
    }
    for (const item of held) this.deadLetter(item, item.reason);
  }

  private shape(element: FramedElement): void {
    const fast = fastRecord(element);
    if (fast) {
      this.stats.records++;
      if (this.options.config.output === 'tuples') this.addFastTuples(element, fast);
      else this.addFastRecord(element, fast);
      return;
    }
    const parsed = parseRecord(element.bytes);
    if (typeof parsed === 'string') {
      this.deadLetter(element, parsed);
      return;
    }
    this.stats.records++;
    if (this.options.config.output === 'tuples') this.addTuples(element, parsed);
    else this.addRecord(element, parsed);
  }

  /** Bytes that could not be framed as a record. */
  addMalformed(element: ByteRange, reason: string): void {
    this.deadLetter(element, reason);
  }

  /** Emits the last partly filled body. */
  finish(): void {
    this.packer.flush();
  }

  private addFastRecord(element: FramedElement, fast: FastRecord): void {
    this.stats.tuples += fast.spans.reduce((sum, span) => sum + span.count, 0);
    if (this.packer.add(element.bytes, element.bytes.length, element.ascii)) return;
    const picks = fast.groups.map((group, k) => ({ outer: group.outer, inner: group.inner, tuples: spanTuples(fast, element, k) }));
    this.addParts(element, fast.parsed, picks, false);
  }

  private addFastTuples(element: FramedElement, fast: FastRecord): void {
    const idOpen = idOpening(`${this.options.idPrefix}-${element.start}-`);
    const bytes = element.bytes;
    let index = 0;
    for (const [k, group] of fast.groups.entries()) {
      const span = fast.spans[k] as TupleSpan;
      if (span.count === 0) continue;
      const shared = groupJson(group.context, group.format);
      // The array's content, `"t1","t2",...`: each tuple is read in place between its quotes.
      const end = span.end - element.start;
      for (let from = span.start - element.start + 1; from < end; index++) {
        const to = bytes.indexOf(Char.QUOTE, from);
        if (this.packTuple(bytes, from, to, idOpen, index, shared)) {
          this.stats.tuples++;
        } else {
          // The tuple's JSON string, quotes included.
          const range = { start: element.start + from - 1, end: element.start + to + 1, bytes: bytes.subarray(from - 1, to + 1) };
          this.deadLetter(range, `tuple ${index} of the record at offset ${element.start}: ${this.tooLarge('tuple object')}`);
        }
        from = to + 3;
      }
    }
  }

  /** Packs the object of the tuple at `src[from, to)`, in place when the body has room; false if it never fits. */
  private packTuple(src: Uint8Array, from: number, to: number, idOpen: Buffer, index: number, group: GroupJson): boolean {
    const bound = tupleJsonBound(to - from, idOpen, group);
    const at = this.packer.room(bound);
    if (at !== -1) {
      this.packer.commit(writeTupleJson(this.packer.buffer, at, src, from, to, idOpen, index, group), group.ascii);
      return true;
    }
    if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(Math.max(bound, 2 * this.scratch.length));
    const end = writeTupleJson(this.scratch, 0, src, from, to, idOpen, index, group);
    return this.packer.add(this.scratch.subarray(0, end), end, group.ascii);
  }

  private addRecord(element: FramedElement, parsed: FlowLogRecord): void {
    const { picks, tuples, hadBadTuples } = this.validTuples(element, parsed);
    this.stats.tuples += tuples;
    if (!hadBadTuples && this.packer.add(element.bytes, element.bytes.length, element.ascii)) return;
    this.addParts(element, parsed, picks, hadBadTuples);
  }

  /**
   * A record rebuilt without its malformed tuples (`rebuilt`: every field and flow group kept, even emptied
   * ones), or split into parts when it does not fit one event.
   */
  private addParts(element: FramedElement, parsed: FlowLogRecord, picks: TuplePick[], rebuilt: boolean): void {
    if (rebuilt) {
      const whole = JSON.stringify(recordWith(parsed, picks));
      const bytes = Buffer.byteLength(whole);
      if (this.packer.add(whole, bytes)) return;
    }
    const withTuples = picks.filter((pick) => pick.tuples.length > 0);
    const parts = withTuples.length > 0 ? splitRecord(parsed, withTuples, this.packer.itemBudget) : undefined;
    if (!parts) {
      this.deadLetter(element, `${this.tooLarge('record')}${withTuples.length > 0 ? ' even with a single tuple' : ', and it has no tuples to split it by'}`);
      return;
    }
    for (const part of parts) this.packer.add(part, Buffer.byteLength(part));
  }

  private tooLarge(what: string): string {
    return `${what} does not fit MAX_EVENT_BYTES (${this.options.config.maxEventBytes})`;
  }

  private addTuples(element: FramedElement, parsed: FlowLogRecord): void {
    const idOpen = idOpening(`${this.options.idPrefix}-${element.start}-`);
    let index = 0;
    let searchFrom = 0;
    for (const group of tupleGroups(parsed)) {
      const shared = groupJson(group.context, group.format);
      for (const text of group.tuples) {
        const problem = tupleProblem(text, group.format);
        // A tuple that follows the grammar is ASCII: latin1 gives its bytes.
        if (problem === undefined && this.packTuple(Buffer.from(text, 'latin1'), 0, text.length, idOpen, index, shared)) this.stats.tuples++;
        else searchFrom = this.deadLetterTuple(element, text, searchFrom, index, problem ?? this.tooLarge('tuple object'));
        index++;
      }
    }
  }

  /** The record's well-formed tuples by group; malformed ones go to dead letters. */
  private validTuples(element: FramedElement, parsed: FlowLogRecord): { picks: TuplePick[]; tuples: number; hadBadTuples: boolean } {
    const picks: TuplePick[] = [];
    let tuples = 0;
    let hadBadTuples = false;
    let index = 0;
    let searchFrom = 0;
    for (const group of tupleGroups(parsed)) {
      const kept: string[] = [];
      for (const text of group.tuples) {
        const problem = tupleProblem(text, group.format);
        if (problem !== undefined) {
          hadBadTuples = true;
          searchFrom = this.deadLetterTuple(element, text, searchFrom, index, problem);
        } else {
          kept.push(text);
        }
        index++;
      }
      tuples += kept.length;
      picks.push({ outer: group.outer, inner: group.inner, tuples: kept });
    }
    return { picks, tuples, hadBadTuples };
  }

  /** Dead-letters one tuple with its own byte range, found after `searchFrom` in the record's bytes. */
  private deadLetterTuple(element: FramedElement, text: string, searchFrom: number, index: number, reason: string): number {
    const literal = Buffer.from(JSON.stringify(text));
    const at = element.bytes.indexOf(literal, searchFrom);
    const why = `tuple ${index} of the record at offset ${element.start}: ${reason}`;
    if (at === -1) {
      // Written with escapes we did not reproduce: keep the whole record so the tuple's bytes are kept.
      this.deadLetter(element, why);
      return searchFrom;
    }
    const start = element.start + at;
    this.deadLetter({ start, end: start + literal.length, bytes: element.bytes.subarray(at, at + literal.length) }, why);
    return at + literal.length;
  }

  private deadLetter(element: ByteRange, reason: string): void {
    const item = { start: element.start, end: element.end, bytes: element.bytes, reason };
    if (this.heldDeadLetters) {
      this.heldDeadLetters.push(item);
      return;
    }
    this.stats.deadLetters++;
    this.options.onDeadLetter(item);
  }
}

/** The record, checked on its skeleton, if every flow group's tuples were validated by the framer. */
function fastRecord(element: FramedElement): FastRecord | undefined {
  if (!element.ascii) return undefined;
  const { bytes, start, tupleSpans: spans } = element;
  // The skeleton: the record with each tuple array's content replaced by a marker string (ASCII: latin1).
  let skeleton = '';
  let last = 0;
  for (const [k, span] of spans.entries()) {
    skeleton += `${bytes.toString('latin1', last, span.start - start)}"${marker(k).replace('\u0000', '\\u0000')}"`;
    last = span.end - start;
  }
  skeleton += bytes.toString('latin1', last);
  let value: unknown;
  try {
    value = JSON.parse(skeleton);
  } catch {
    return undefined;
  }
  const parsed = validateRecord(value);
  if (typeof parsed === 'string') return undefined;
  const groups = tupleGroups(parsed);
  if (groups.length !== spans.length) return undefined;
  for (const [k, group] of groups.entries()) {
    if (group.tuples.length !== 1 || group.tuples[0] !== marker(k) || spans[k]?.format !== group.format) return undefined;
  }
  return { parsed, groups, spans };
}

/** The tuple strings of group `k`: its span's content is `"t1","t2",...` with no escapes. */
function spanTuples(fast: FastRecord, element: FramedElement, k: number): string[] {
  const span = fast.spans[k] as TupleSpan;
  if (span.end === span.start) return [];
  return element.bytes.toString('latin1', span.start - element.start + 1, span.end - element.start - 1).split('","');
}
