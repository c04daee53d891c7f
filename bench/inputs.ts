import { FlowLogGenerator, type FlowLogKind } from '../src/dev/flowLogGenerator';
import { frameRange } from '../src/lib/framing';
import { parseRecord } from '../src/lib/records';
import { tupleCount, tupleGroups } from '../src/lib/tupleGroups';

/**
 * Deterministic benchmark inputs: whole PT1H.json documents of a target size, built from the same
 * generator as the simulator (realistic tuples: IPv4 and some IPv6, B/C/E/D states, zero and empty
 * counters), and a one-minute append.
 */

export function flowLogDocument(kind: FlowLogKind, targetBytes: number, tuplesPerRecord: number, seed = 42): Buffer {
  const generator = new FlowLogGenerator(seed);
  const parts: string[] = [];
  let size = 14;
  for (let i = 0; size < targetBytes; i++) {
    const nic = generator.nic(kind, 1 + (i % 50));
    const record = generator.record(nic, new Date(Date.UTC(2026, 10, 22, 10, 1 + (i % 59))), tuplesPerRecord);
    parts.push(record);
    size += Buffer.byteLength(record) + 1;
  }
  return Buffer.from(`{"records":[${parts.join(',')}]}`);
}

/** The record one busy NIC appends in one minute: about `bytes` long. */
export function minuteAppend(bytes: number, seed = 7): string {
  const generator = new FlowLogGenerator(seed);
  const nic = generator.nic('vnet', 1);
  const probe = generator.record(nic, new Date(Date.UTC(2026, 10, 22, 10, 1)), 100);
  const tuples = Math.max(1, Math.round((bytes / Buffer.byteLength(probe)) * 100));
  return new FlowLogGenerator(seed).record(nic, new Date(Date.UTC(2026, 10, 22, 10, 1)), tuples);
}

/** Records and tuples of a generated input, every record validated. */
export function countRecords(blob: Buffer): { records: number; tuples: number } {
  let records = 0;
  let tuples = 0;
  for (const element of frameRange(blob, 0, 'document').elements) {
    const parsed = parseRecord(element.bytes);
    if (typeof parsed === 'string') throw new Error(`bench input has an invalid record: ${parsed}`);
    records++;
    tuples += tupleCount(tupleGroups(parsed));
  }
  return { records, tuples };
}
