import { InvocationContext, type EventGridEvent } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import { FlowLogGenerator, type FlowLogKind } from '../../src/dev/flowLogGenerator';
import { NetworkWatcherWriter, blobCreatedEvent, type DeliveredBlobCreatedEvent } from '../../src/dev/networkWatcherWriter';
import { forwardFlowLogs } from '../../src/functions/forwardFlowLogs';
import type { BlobRef } from '../../src/lib/blobRef';
import { refOf } from './storage';

/** A PT1H.json written commit by commit, with the BlobCreated event of each commit and the records written. */
export interface WrittenHour {
  ref: BlobRef;
  events: DeliveredBlobCreatedEvent[];
  records: string[];
}

export async function writeHour(
  container: ContainerClient,
  options: { kind?: FlowLogKind; commits: number; tuplesPerRecord?: number; seed?: number; nic?: number; recordAt?: (minute: number, generated: string) => string },
): Promise<WrittenHour> {
  const generator = new FlowLogGenerator(options.seed ?? 1);
  const nic = generator.nic(options.kind ?? 'vnet', options.nic ?? Math.floor(Math.random() * 1e6));
  const hour = new Date(Date.UTC(2026, 10, 22, 10));
  const blobPath = generator.blobPath(nic, hour);
  const blob = container.getBlockBlobClient(blobPath);
  const writer = new NetworkWatcherWriter(blob);
  await writer.start();
  const ref = refOf(container, blobPath);
  const events: DeliveredBlobCreatedEvent[] = [];
  const records: string[] = [];
  for (let minute = 0; minute < options.commits; minute++) {
    const generated = generator.record(nic, new Date(hour.getTime() + (minute + 1) * 60_000), options.tuplesPerRecord ?? 8);
    const record = options.recordAt ? options.recordAt(minute, generated) : generated;
    records.push(record);
    events.push(blobCreatedEvent(ref, await writer.append(record), blob.url));
  }
  return { ref, events, records };
}

export interface Invocation {
  bodies: string[];
  logs: { level: string; message: string }[];
}

/** Calls the function's handler as the host would, outside the host (the library's test mode). */
export async function invoke(event: unknown): Promise<Invocation> {
  const logs: { level: string; message: string }[] = [];
  const context = new InvocationContext({
    functionName: 'forwardFlowLogs',
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
  });
  const bodies = await forwardFlowLogs(event as EventGridEvent, context);
  return { bodies, logs };
}

/** The records inside event bodies of `records` output, in order. */
export function recordsOf(bodies: readonly string[], packing: 'envelope' | 'single' = 'envelope'): string[] {
  if (packing === 'single') return bodies.map((body) => JSON.stringify(JSON.parse(body)));
  return bodies.flatMap((body) => (JSON.parse(body) as { records: unknown[] }).records.map((record) => JSON.stringify(record)));
}

export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
