import { randomUUID } from 'node:crypto';
import { hourOfBlobPath } from '../lib/blobPaths';
import { blobName, isSafeBlobPath, type BlobRef } from '../lib/blobRef';
import { pendingClaimIds } from '../lib/claims';
import { readConfig, readEventHubTarget } from '../lib/config';
import { EventHubSender } from '../lib/eventHubSender';
import { createRuntime, type Runtime } from '../lib/runtime';
import { addResult, claimAndSend, emptyResult, partitionKeyOf, resendPendingClaims, type ClaimSendResult } from '../lib/sendClaims';
import { EVENT_HUB_OPTIONS, SHAPING_OPTIONS, STORAGE_OPTIONS, UsageError, integerOption, listOption, parseCommand, sendRetryOptions, settingsEnv, stringOption, timeOption, type CommandSpec } from './args';
import type { CommandIO } from './io';
import { Progress, formatBytes, formatDuration } from './progress';
import { runPool } from './pool';

export const backfillCommand: CommandSpec = {
  name: 'backfill',
  usage: 'backfill --since TIME [--until TIME] [--container C]... [--dry-run] [options]',
  summary:
    'Forwards the flow-log blobs of a time window (from their y=/m=/d=/h= path segments) that were written\n' +
    'before the function existed or while it was stopped. Each blob goes through the same checkpoint claims\n' +
    'as the function: a live event arriving later sends only newer records, and running backfill again sends\n' +
    'nothing twice. Events go to Event Hubs in batches, with the MAC address as partition key.',
  options: {
    since: { type: 'string', valueName: 'TIME', description: 'first hour: ISO 8601 (2026-11-22T10:00Z) or relative (-24h, -7d)' },
    until: { type: 'string', valueName: 'TIME', description: 'end of the window, exclusive (default: now)' },
    container: { type: 'string', short: 'c', multiple: true, valueName: 'NAME', description: 'flow-log container (default: FLOWLOG_CONTAINERS)' },
    account: { type: 'string', valueName: 'NAME', description: 'flow-log storage account (default: the account of FlowLogsStorage)' },
    concurrency: { type: 'string', valueName: 'N', description: 'blobs processed at once (default 4)' },
    'dry-run': { type: 'boolean', description: 'list the blobs and the bytes not yet claimed; claim and send nothing' },
    ...STORAGE_OPTIONS,
    ...EVENT_HUB_OPTIONS,
    ...SHAPING_OPTIONS,
  },
  details:
    'Examples:\n' +
    '  flowlog-forwarder backfill --since -24h --dry-run\n' +
    '  flowlog-forwarder backfill --since 2026-11-01 --until 2026-11-08 -c insights-logs-flowlogflowevent',
};

export interface ListedBlob {
  ref: BlobRef;
  size: number;
  hour: Date;
  /** The version listed: the claim trusts its size only if it is still the version read. */
  etag: string | undefined;
}

export async function runBackfill(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(backfillCommand, argv);
  if (positionals.length > 0) throw new UsageError(`backfill: unexpected argument "${positionals[0]}"`);
  const since = timeOption(values, 'since');
  if (!since) throw new UsageError('backfill: --since is required');
  const until = timeOption(values, 'until') ?? new Date();
  if (until <= since) throw new UsageError('backfill: --until must be later than --since');
  const concurrency = integerOption(values, 'concurrency', 4, 1, 64);
  const retry = sendRetryOptions(values);
  const env = settingsEnv(backfillCommand, values, io.env);
  const runtime = createRuntime(readConfig(env));
  const account = stringOption(values, 'account') ?? runtime.config.flowLogStorage.accountName;
  if (!runtime.config.allowedAccounts.includes(account)) {
    throw new UsageError(`backfill: --account ${account} is not in FLOWLOG_ALLOWED_ACCOUNTS (${runtime.config.allowedAccounts.join(', ')})`);
  }
  const containers = listOption(values, 'container');
  const blobs = await listBlobs(runtime, account, containers.length > 0 ? containers : runtime.config.flowLogContainers, since, until);
  const totalBytes = blobs.reduce((sum, blob) => sum + blob.size, 0);

  if (values['dry-run']) return dryRun(blobs, runtime, io);

  const sender = EventHubSender.create(readEventHubTarget(env), retry);
  const progress = new Progress(io, 'backfill', blobs.length, totalBytes);
  const total = emptyResult();
  const runId = `backfill:${new Date().toISOString()}:${randomUUID().slice(0, 8)}`;
  try {
    // One NIC's blobs (one partition key) go one after the other, oldest hour first, so its events stay in order.
    await runPool(byPartitionKey(blobs), concurrency, async (group) => {
      for (const blob of group) {
        const result = await resendPendingClaims(blob.ref, runtime, sender);
        addResult(result, await claimAndSend(blob.ref, runId, blob.size, blob.etag, runtime, sender));
        addResult(total, result);
        progress.update({ items: 1, bytes: blob.size, events: result.events });
      }
    });
  } finally {
    progress.finish();
    await sender.close();
  }
  io.stdout.write(`${summaryLine('backfill', blobs.length, total, sender.stats.batches, progress.elapsedMs())}\n`);
  return 0;
}

/** The flow-log blobs of the window, oldest hour first. */
export async function listBlobs(runtime: Runtime, account: string, containers: readonly string[], since: Date, until: Date): Promise<ListedBlob[]> {
  const service = runtime.blobs.serviceClient(account);
  const blobs: ListedBlob[] = [];
  const firstHour = new Date(Math.floor(since.getTime() / 3_600_000) * 3_600_000);
  for (const container of containers) {
    const client = service.getContainerClient(container);
    if (!(await client.exists())) continue;
    for await (const item of client.listBlobsFlat()) {
      const hour = hourOfBlobPath(item.name);
      if (!hour || hour < firstHour || hour >= until || !isSafeBlobPath(item.name)) continue;
      blobs.push({ ref: { account, container, blobPath: item.name }, size: item.properties.contentLength ?? 0, etag: item.properties.etag, hour });
    }
  }
  return blobs.sort((a, b) => a.hour.getTime() - b.hour.getTime() || a.ref.blobPath.localeCompare(b.ref.blobPath));
}

/** The blobs grouped by the partition key they are sent with (the MAC address), each group in listing order. */
function byPartitionKey(blobs: readonly ListedBlob[]): ListedBlob[][] {
  const groups = new Map<string, ListedBlob[]>();
  for (const blob of blobs) {
    const key = partitionKeyOf(blob.ref);
    const group = groups.get(key);
    if (group) group.push(blob);
    else groups.set(key, [blob]);
  }
  return [...groups.values()];
}

async function dryRun(blobs: ListedBlob[], runtime: Runtime, io: CommandIO): Promise<number> {
  let unclaimed = 0;
  let unsent = 0;
  for (const blob of blobs) {
    const doc = (await runtime.checkpoints.load(blob.ref))?.doc;
    const claimedEnd = doc?.claimedEnd ?? 0;
    const pending = Math.max(0, blob.size - claimedEnd - (claimedEnd > 0 ? 2 : 0));
    // Claims an earlier run recorded but did not send: the next backfill re-sends them first.
    const claimedUnsent = doc ? pendingClaimIds(doc).reduce((sum, id) => sum + (doc.claims[id]?.end ?? 0) - (doc.claims[id]?.start ?? 0), 0) : 0;
    unclaimed += pending;
    unsent += claimedUnsent;
    const unsentNote = claimedUnsent > 0 ? ` (+${formatBytes(claimedUnsent)} claimed, not sent)` : '';
    io.stdout.write(`${blob.hour.toISOString()}  ${formatBytes(blob.size).padStart(9)}  ${formatBytes(pending).padStart(9)} new  ${blob.ref.container}/${blob.ref.blobPath}${unsentNote}\n`);
  }
  const unsentNote = unsent > 0 ? `, ${formatBytes(unsent)} claimed but not sent (re-sent by the next backfill)` : '';
  io.stdout.write(`backfill (dry run): ${blobs.length} blobs, ${formatBytes(unclaimed)} not yet claimed${unsentNote}; nothing claimed or sent\n`);
  return 0;
}

export function summaryLine(command: string, blobs: number, result: ClaimSendResult, batches: number, ms: number): string {
  return (
    `${command}: ${blobs} blobs, ${formatBytes(result.bytesClaimed)} claimed, ${result.records} records, ${result.tuples} tuples -> ` +
    `${result.events} events (${formatBytes(result.bytesOut)}) in ${batches} batches, ${result.deadLetters} dead letters, ${formatDuration(ms)}`
  );
}
