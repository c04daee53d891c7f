import { readFile } from 'node:fs/promises';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { SimulatedCommit } from '../dev/simulator';
import type { ForwarderConfig } from '../lib/config';
import { parseRecord, validateRecord } from '../lib/records';
import { tupleGroups } from '../lib/tupleGroups';

/**
 * The demo's check: every tuple of every well-formed record written arrived exactly once, every body is
 * valid JSON within MAX_EVENT_BYTES, and the malformed record is in the dead-letter container.
 * Tuples are keyed by NIC, record time and tuple text, so records split across events still match.
 */

export interface DemoVerdict {
  ok: boolean;
  blobs: number;
  commits: number;
  bytesWritten: number;
  recordsWritten: number;
  tuplesWritten: number;
  events: number;
  bytesOut: number;
  largestEvent: number;
  unit: string;
  expected: number;
  forwarded: number;
  missing: number;
  duplicates: number;
  deadLetters: number;
  expectedDeadLetters: number;
  problems: string[];
}

export async function verifyDelivery(commits: readonly SimulatedCommit[], eventsFile: string, config: ForwarderConfig, storage: BlobServiceClient): Promise<DemoVerdict> {
  const problems: string[] = [];
  const expected = new Map<string, number>();
  let malformed = 0;
  let tuplesWritten = 0;
  const blobSizes = new Map<string, number>();
  for (const commit of commits) {
    blobSizes.set(commit.ref.blobPath, commit.event.data.contentLength);
    const keys = recordTupleKeys(commit.record);
    if (!keys) malformed++;
    for (const key of keys ?? []) expected.set(key, (expected.get(key) ?? 0) + 1);
    tuplesWritten += keys?.length ?? 0;
  }

  const lines = (await readFile(eventsFile, 'utf8')).split('\n').filter((line) => line.length > 0);
  const forwarded = new Map<string, number>();
  let bytesOut = 0;
  let largestEvent = 0;
  for (const [index, line] of lines.entries()) {
    const size = Buffer.byteLength(line);
    bytesOut += size;
    largestEvent = Math.max(largestEvent, size);
    if (size > config.maxEventBytes) problems.push(`event ${index} has ${size} bytes, over MAX_EVENT_BYTES ${config.maxEventBytes}`);
    let body: unknown;
    try {
      body = JSON.parse(line);
    } catch {
      problems.push(`event ${index} is not valid JSON`);
      continue;
    }
    for (const key of bodyTupleKeys(body, config)) forwarded.set(key, (forwarded.get(key) ?? 0) + 1);
  }

  let missing = 0;
  let duplicates = 0;
  let count = 0;
  for (const [key, want] of expected) {
    const got = forwarded.get(key) ?? 0;
    count += Math.min(got, want);
    missing += Math.max(0, want - got);
    duplicates += Math.max(0, got - want);
  }
  const unexpected = [...forwarded.keys()].filter((key) => !expected.has(key)).length;
  if (unexpected > 0) problems.push(`${unexpected} tuples forwarded that were never written`);
  if (missing > 0) problems.push(`${missing} tuples missing`);
  if (duplicates > 0) problems.push(`${duplicates} tuples forwarded more than once`);

  let deadLetters = 0;
  for await (const item of storage.getContainerClient(config.deadLetterContainer).listBlobsFlat()) if (item.name) deadLetters++;
  if (deadLetters !== malformed) problems.push(`${deadLetters} dead letters, expected ${malformed}`);

  return {
    ok: problems.length === 0,
    blobs: blobSizes.size,
    commits: commits.length,
    bytesWritten: [...blobSizes.values()].reduce((sum, size) => sum + size, 0),
    recordsWritten: commits.length,
    tuplesWritten,
    events: lines.length,
    bytesOut,
    largestEvent,
    unit: 'tuples',
    expected: tuplesWritten,
    forwarded: count,
    missing,
    duplicates,
    deadLetters,
    expectedDeadLetters: malformed,
    problems,
  };
}

/** `mac|recordTime|tuple` for each tuple of a written record; undefined for a malformed record. */
function recordTupleKeys(recordJson: string): string[] | undefined {
  const parsed = parseRecord(Buffer.from(recordJson));
  if (typeof parsed === 'string') return undefined;
  return tupleGroups(parsed).flatMap((group) => group.tuples.map((tuple) => `${group.context.macAddress}|${group.context.recordTime}|${tuple}`));
}

function bodyTupleKeys(body: unknown, config: ForwarderConfig): string[] {
  const items = config.packing === 'envelope' && isEnvelope(body) ? body.records : [body];
  if (config.output === 'tuples') return items.map(tupleObjectKey);
  return items.flatMap((item) => {
    const parsed = validateRecord(item);
    return typeof parsed === 'string' ? [`invalid record: ${parsed}`] : tupleGroups(parsed).flatMap((group) => group.tuples.map((tuple) => `${group.context.macAddress}|${group.context.recordTime}|${tuple}`));
  });
}

function isEnvelope(body: unknown): body is { records: unknown[] } {
  return typeof body === 'object' && body !== null && 'records' in body && Array.isArray(body.records);
}

/** A tuple object turned back into its key: the tuple text is rebuilt from the fields in Microsoft's order. */
function tupleObjectKey(item: unknown): string {
  if (typeof item !== 'object' || item === null) return 'not an object';
  const t = item as Record<string, unknown>;
  const counters = [t.packetsSent, t.bytesSent, t.packetsReceived, t.bytesReceived].map((value) => (value === null ? '' : String(value)));
  const ms = Date.parse(String(t.time));
  const isNsg = t.category === 'NetworkSecurityGroupFlowEvent';
  const state = { begin: 'B', continuing: 'C', end: 'E', deny: 'D' }[String(t.flowState)] ?? '';
  const fields = isNsg
    ? [ms / 1000, t.srcIP, t.dstIP, t.srcPort, t.dstPort, t.protocol === 6 ? 'T' : 'U', t.direction === 'inbound' ? 'I' : 'O', t.decision === 'allow' ? 'A' : 'D', state, ...counters]
    : [ms, t.srcIP, t.dstIP, t.srcPort, t.dstPort, t.protocol, t.direction === 'inbound' ? 'I' : 'O', state, t.encryption, ...counters];
  return `${String(t.macAddress)}|${String(t.recordTime)}|${fields.map(String).join(',')}`;
}
