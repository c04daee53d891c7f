import type { ShapingConfig } from './config';
import type { FramedElement } from './framing';
import { createPacker, type Packer } from './packing';
import { parseRecord, type FlowLogRecord } from './records';
import { splitRecord, type TuplePick } from './split';
import { tupleGroups } from './tupleGroups';
import { contextJson, tupleJson } from './tupleJson';
import { parseTuple } from './tuples';

/**
 * Turns framed records into event bodies (docs/contract.md "Event bodies"): records forwarded byte-for-byte
 * or as flat tuple objects, packed into envelopes or one per event, never over MAX_EVENT_BYTES. What cannot
 * be forwarded goes to `onDeadLetter` with its exact bytes and byte range; the rest still goes out.
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

export class FlowLogShaper {
  readonly stats: ShapeStats = { records: 0, tuples: 0, events: 0, bytesOut: 0, deadLetters: 0 };
  private readonly packer: Packer;

  constructor(private readonly options: ShaperOptions) {
    this.packer = createPacker(options.config.packing, options.config.maxEventBytes, (body, byteLength) => {
      this.stats.events++;
      this.stats.bytesOut += byteLength;
      options.onBody(body);
    });
  }

  /** Shapes one framed record. */
  add(element: FramedElement): void {
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
  addMalformed(element: FramedElement, reason: string): void {
    this.deadLetter(element, reason);
  }

  /** Emits the last partly filled body. */
  finish(): void {
    this.packer.flush();
  }

  private addRecord(element: FramedElement, parsed: FlowLogRecord): void {
    const { picks, tuples, hadBadTuples } = this.validTuples(element, parsed);
    this.stats.tuples += tuples;
    if (!hadBadTuples && this.packer.add(element.bytes.toString('utf8'), element.bytes.length)) return;
    const parts = splitRecord(parsed, picks, this.packer.itemBudget);
    if (!parts) {
      this.deadLetter(element, `record does not fit MAX_EVENT_BYTES (${this.options.config.maxEventBytes}) even with a single tuple`);
      return;
    }
    for (const part of parts) this.packer.add(part, Buffer.byteLength(part));
  }

  private addTuples(element: FramedElement, parsed: FlowLogRecord): void {
    let index = 0;
    let searchFrom = 0;
    for (const group of tupleGroups(parsed)) {
      const context = contextJson(group.context);
      for (const text of group.tuples) {
        const tuple = parseTuple(text, group.format);
        if (typeof tuple === 'string') {
          searchFrom = this.deadLetterTuple(element, text, searchFrom, index, tuple);
        } else {
          const json = tupleJson(`${this.options.idPrefix}-${element.start}-${index}`, tuple, context);
          if (this.packer.add(json, Buffer.byteLength(json))) this.stats.tuples++;
          else searchFrom = this.deadLetterTuple(element, text, searchFrom, index, `tuple object does not fit MAX_EVENT_BYTES (${this.options.config.maxEventBytes})`);
        }
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
        const tuple = parseTuple(text, group.format);
        if (typeof tuple === 'string') {
          hadBadTuples = true;
          searchFrom = this.deadLetterTuple(element, text, searchFrom, index, tuple);
        } else {
          kept.push(text);
        }
        index++;
      }
      tuples += kept.length;
      if (kept.length > 0) picks.push({ outer: group.outer, inner: group.inner, tuples: kept });
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

  private deadLetter(element: FramedElement, reason: string): void {
    this.stats.deadLetters++;
    this.options.onDeadLetter({ start: element.start, end: element.end, bytes: element.bytes, reason });
  }
}
