import type { OutputMode, PackingMode } from '../src/lib/config';
import { convertStream } from '../src/lib/convert';
import { naiveRecords, naiveTuples, parseOnly } from './baselines';

/**
 * Throughput of our shaping path (the exact code `convert` runs, fed 1 MiB chunks as a file read gives
 * them) beside the obvious approaches, best of several repetitions, all in one process run.
 */

export interface ThroughputRow {
  name: string;
  bestMs: number;
  mbPerSecond: number;
  tuplesPerSecond: number;
  events: number;
  bytesOut: number;
  /** Mean body size / MAX_EVENT_BYTES, for envelope packing. */
  fill: number | null;
}

const CHUNK = 1 << 20;
export const MAX_EVENT_BYTES = 1_000_000;

/**
 * Every approach's bodies are consumed the same way: measured in UTF-8 bytes, as sending or writing them
 * would, so a lazily built string pays for being materialised inside the measurement.
 */
export async function oursOnce(blob: Buffer, output: OutputMode, packing: PackingMode): Promise<{ events: number; bytesOut: number; tuples: number; deadLetters: number }> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let offset = 0; offset < blob.length; offset += CHUNK) yield blob.subarray(offset, offset + CHUNK);
  }
  const conversion = convertStream(chunks(), { config: { output, packing, maxEventBytes: MAX_EVENT_BYTES }, sourceId: 'bench/insights-logs-flowlogflowevent/PT1H.json', onDeadLetter: () => undefined });
  let result = await conversion.next();
  let consumed = 0;
  while (!result.done) {
    for (const body of result.value) consumed += Buffer.byteLength(body);
    result = await conversion.next();
  }
  if (consumed !== result.value.bytesOut) throw new Error(`bodies hold ${consumed} bytes, the shaper counted ${result.value.bytesOut}`);
  return result.value;
}

async function best(repetitions: number, run: () => Promise<unknown> | unknown): Promise<number> {
  let bestMs = Infinity;
  for (let i = 0; i < repetitions; i++) {
    if (global.gc) global.gc();
    const started = performance.now();
    await run();
    bestMs = Math.min(bestMs, performance.now() - started);
  }
  return bestMs;
}

export async function measureThroughput(blob: Buffer, tupleCount: number, repetitions: number): Promise<ThroughputRow[]> {
  const rows: ThroughputRow[] = [];
  const row = (name: string, bestMs: number, events: number, bytesOut: number, fill: number | null): ThroughputRow => ({
    name,
    bestMs,
    mbPerSecond: blob.length / 1e6 / (bestMs / 1000),
    tuplesPerSecond: tupleCount / (bestMs / 1000),
    events,
    bytesOut,
    fill,
  });

  rows.push(row('parse-only', await best(repetitions, () => parseOnly(blob)), 0, 0, null));
  let naive = { events: 0, bytes: 0 };
  const naiveRecordsMs = await best(repetitions, () => {
    naive = { events: 0, bytes: 0 };
    naiveRecords(blob, MAX_EVENT_BYTES, (body) => {
      naive.events++;
      naive.bytes += Buffer.byteLength(body);
    });
  });
  rows.push(row('naive-records', naiveRecordsMs, naive.events, naive.bytes, naive.bytes / naive.events / MAX_EVENT_BYTES));
  const naiveTuplesMs = await best(repetitions, () => {
    naive = { events: 0, bytes: 0 };
    naiveTuples(blob, (body) => {
      naive.events++;
      naive.bytes += Buffer.byteLength(body);
    });
  });
  rows.push(row('naive-tuples', naiveTuplesMs, naive.events, naive.bytes, null));

  for (const [output, packing] of [
    ['records', 'envelope'],
    ['records', 'single'],
    ['tuples', 'envelope'],
    ['tuples', 'single'],
  ] as const) {
    let stats = { events: 0, bytesOut: 0, tuples: 0, deadLetters: 0 };
    const ms = await best(repetitions, async () => {
      stats = await oursOnce(blob, output, packing);
    });
    if (stats.tuples !== tupleCount || stats.deadLetters !== 0) throw new Error(`ours ${output}x${packing} saw ${stats.tuples} tuples and ${stats.deadLetters} dead letters, expected ${tupleCount} and 0`);
    rows.push(row(`ours ${output}x${packing}`, ms, stats.events, stats.bytesOut, packing === 'envelope' ? stats.bytesOut / stats.events / MAX_EVENT_BYTES : null));
  }
  return rows;
}
