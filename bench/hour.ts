import { InvocationContext, type EventGridEvent } from '@azure/functions';
import { startAzurite } from '../src/dev/azurite';
import type { DeliveredBlobCreatedEvent } from '../src/dev/networkWatcherWriter';
import { simulateNetworkWatcher } from '../src/dev/simulator';
import { forwardFlowLogs } from '../src/functions/forwardFlowLogs';
import { BlobServiceClient } from '@azure/storage-blob';

/**
 * One Network Watcher hour (60 commits of one NIC) against Azurite: what the forwarder sends and how long
 * its handler takes per event, beside the whole-blob-per-event approach (download the blob, send it all)
 * measured in the same run on the same blob.
 */

export interface HourResult {
  commits: number;
  tuplesPerCommit: number;
  blobBytes: number;
  recordsWritten: number;
  ours: { bytesForwarded: number; events: number; recordsForwarded: number; meanMs: number; medianMs: number };
  wholeBlob: { bytesForwarded: number; recordsForwarded: number; meanMs: number; medianMs: number };
  duplicationFactor: number;
}

export async function runHour(options: { commits?: number; tuplesPerCommit?: number } = {}): Promise<HourResult> {
  const commits = options.commits ?? 60;
  const tuplesPerCommit = options.tuplesPerCommit ?? 1000;
  const azurite = await startAzurite();
  const savedEnv = process.env;
  try {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    process.env = { ...savedEnv, FlowLogsStorage: azurite.connectionString, AzureWebJobsStorage: azurite.connectionString };
    const hour = new Date(Date.UTC(2026, 10, 22, 10));
    const context = new InvocationContext({ functionName: 'forwardFlowLogs', logHandler: () => undefined });
    const ours = { ms: [] as number[], bytes: 0, events: 0, records: 0 };
    const naive = { ms: [] as number[], bytes: 0, records: 0 };
    let lastEvent: DeliveredBlobCreatedEvent | undefined;
    // Each minute: Network Watcher commits, then both forwarders handle that commit's event.
    for await (const { ref, event } of simulateNetworkWatcher(service, { kinds: ['vnet'], minutes: commits, tuplesPerRecord: tuplesPerCommit, seed: 2026, hour })) {
      const blob = service.getContainerClient(ref.container).getBlobClient(ref.blobPath);
      lastEvent = event;

      let started = performance.now();
      const bodies = await forwardFlowLogs(event as unknown as EventGridEvent, context);
      ours.ms.push(performance.now() - started);
      ours.events += bodies.length;
      for (const body of bodies) {
        ours.bytes += Buffer.byteLength(body);
        ours.records += (JSON.parse(body) as { records: unknown[] }).records.length;
      }

      // The whole-blob approach: download the blob the event names and send all of it.
      started = performance.now();
      const text = (await blob.downloadToBuffer()).toString('utf8');
      naive.ms.push(performance.now() - started);
      naive.bytes += Buffer.byteLength(text);
      naive.records += (JSON.parse(text) as { records: unknown[] }).records.length;
    }
    return {
      commits,
      tuplesPerCommit,
      blobBytes: lastEvent?.data.contentLength ?? 0,
      recordsWritten: commits,
      ours: { bytesForwarded: ours.bytes, events: ours.events, recordsForwarded: ours.records, meanMs: mean(ours.ms), medianMs: median(ours.ms) },
      wholeBlob: { bytesForwarded: naive.bytes, recordsForwarded: naive.records, meanMs: mean(naive.ms), medianMs: median(naive.ms) },
      duplicationFactor: naive.records / commits,
    };
  } finally {
    process.env = savedEnv;
    await azurite.stop();
  }
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

if (require.main === module) {
  runHour().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
