import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import type { FlowLogKind } from '../dev/flowLogGenerator';
import { simulateNetworkWatcher } from '../dev/simulator';
import { readConfig, readEventHubTarget, readShapingConfig } from '../lib/config';
import { EventHubSender } from '../lib/eventHubSender';
import { forwardEvent } from '../lib/forward';
import { macOfBlobPath } from '../lib/blobPaths';
import { createRuntime } from '../lib/runtime';
import { EVENT_HUB_OPTIONS, SHAPING_OPTIONS, STORAGE_OPTIONS, UsageError, integerOption, parseCommand, sendRetryOptions, settingsEnv, stringOption, timeOption, type CommandSpec } from './args';
import type { CommandIO } from './io';

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  usage: 'simulate [--nics N] [--kind vnet|nsg] [--minutes M] [--deliver none|inprocess|webhook] [options]',
  summary:
    'Writes realistic flow logs the way Network Watcher does (one hourly PT1H.json per NIC, a block per\n' +
    'minute inserted before the closing block, the block list re-committed), to Azurite by default, and\n' +
    'delivers the BlobCreated event of every commit: printed as JSON lines (none), to the forwarder in this\n' +
    'process (inprocess; bodies printed, or sent with --event-hub-*), or to a running Functions host (webhook).',
  options: {
    nics: { type: 'string', short: 'n', valueName: 'N', description: 'NICs, one blob each (default 3)' },
    kind: { type: 'string', valueName: 'vnet|nsg', description: 'VNet flow logs (v4, default) or NSG flow logs (v2)' },
    minutes: { type: 'string', short: 'm', valueName: 'M', description: 'simulated minutes, one commit per NIC each (default 10, at most 60)' },
    tuples: { type: 'string', valueName: 'N', description: 'tuples per record (default 40)' },
    'interval-ms': { type: 'string', valueName: 'MS', description: 'real time per simulated minute (default 1000; 0: as fast as possible)' },
    seed: { type: 'string', valueName: 'N', description: 'random seed: the same seed writes the same records (default 1)' },
    hour: { type: 'string', valueName: 'TIME', description: 'the hour the blobs cover (default: the current hour)' },
    deliver: { type: 'string', valueName: 'MODE', description: 'none (print the events), inprocess or webhook (default: none, or webhook with --webhook)' },
    webhook: {
      type: 'string',
      valueName: 'URL',
      description: 'Functions host endpoint, e.g. http://localhost:7071/runtime/webhooks/eventgrid?functionName=forwardFlowLogs',
    },
    ...STORAGE_OPTIONS,
    ...EVENT_HUB_OPTIONS,
    ...SHAPING_OPTIONS,
  },
  details:
    'Examples (Azurite running with its default ports):\n' +
    '  flowlog-forwarder simulate --nics 2 --minutes 5 --deliver inprocess\n' +
    '  flowlog-forwarder simulate --webhook "http://localhost:7071/runtime/webhooks/eventgrid?functionName=forwardFlowLogs"',
};

type Delivery = 'none' | 'inprocess' | 'webhook';

export async function runSimulate(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(simulateCommand, argv);
  if (positionals.length > 0) throw new UsageError(`simulate: unexpected argument "${positionals[0]}"`);
  const kind = stringOption(values, 'kind') ?? 'vnet';
  if (kind !== 'vnet' && kind !== 'nsg') throw new UsageError(`simulate: --kind must be vnet or nsg, not "${kind}"`);
  const webhook = stringOption(values, 'webhook');
  const delivery = stringOption(values, 'deliver') ?? (webhook ? 'webhook' : 'none');
  if (delivery !== 'none' && delivery !== 'inprocess' && delivery !== 'webhook') throw new UsageError(`simulate: --deliver must be none, inprocess or webhook, not "${delivery}"`);
  if (delivery === 'webhook' && !webhook) throw new UsageError('simulate: --deliver webhook needs --webhook URL');
  const nics = integerOption(values, 'nics', 3, 1, 1000);
  const intervalMs = integerOption(values, 'interval-ms', 1000, 0, 3_600_000);
  const hour = timeOption(values, 'hour') ?? new Date();
  hour.setUTCMinutes(0, 0, 0);

  const env = { FlowLogsStorage: 'UseDevelopmentStorage=true', AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...settingsEnv(simulateCommand, values, io.env) };
  readShapingConfig(env); // rejects a bad --output, --packing or --max-event-bytes even when nothing is shaped (--deliver none, webhook)
  const connectionString = env.FlowLogsStorage;
  if (!connectionString) throw new UsageError('simulate: writing needs a connection string in FlowLogsStorage or --flow-logs-storage');
  const deliver = await deliverer(delivery as Delivery, env, webhook, io, sendRetryOptions(values));
  const commits = simulateNetworkWatcher(BlobServiceClient.fromConnectionString(connectionString), {
    kinds: Array.from({ length: nics }, () => kind as FlowLogKind),
    minutes: integerOption(values, 'minutes', 10, 1, 60),
    tuplesPerRecord: integerOption(values, 'tuples', 40, 0, 100_000),
    seed: integerOption(values, 'seed', 1, 0, 2 ** 31),
    hour,
  });
  let count = 0;
  let lastMinute = 0;
  try {
    for await (const commit of commits) {
      if (commit.minute !== lastMinute && intervalMs > 0) await sleep(intervalMs);
      lastMinute = commit.minute;
      await deliver.event(commit.event);
      count++;
    }
  } finally {
    await deliver.close();
  }
  io.stderr.write(`simulate: ${count} commits of ${nics} ${kind} blobs for ${hour.toISOString()}, events delivered: ${delivery}\n`);
  return 0;
}

interface Deliverer {
  event(event: object): Promise<void>;
  close(): Promise<void>;
}

async function deliverer(
  delivery: Delivery,
  env: Record<string, string | undefined>,
  webhook: string | undefined,
  io: CommandIO,
  retry: ReturnType<typeof sendRetryOptions>,
): Promise<Deliverer> {
  if (delivery === 'none') {
    return { event: async (event) => void io.stdout.write(`${JSON.stringify(event)}\n`), close: async () => undefined };
  }
  if (delivery === 'webhook') {
    return {
      event: async (event) => {
        const response = await fetch(webhook ?? '', { method: 'POST', headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' }, body: JSON.stringify([event]) });
        if (!response.ok) io.stderr.write(`simulate: the host answered ${response.status} ${response.statusText} (Event Grid would retry)\n`);
      },
      close: async () => undefined,
    };
  }
  const runtime = createRuntime(readConfig(env));
  const sender = env.EVENTHUB_NAME ? EventHubSender.create(readEventHubTarget(env), retry) : undefined;
  return {
    event: async (event) => {
      const { bodies, summary } = await forwardEvent(event, runtime);
      if (sender) await sender.send(bodies, summary.blob ? macOfBlobPath(summary.blob) : undefined);
      else io.stdout.write(bodies.map((body) => `${body}\n`).join(''));
      io.stderr.write(`${JSON.stringify(summary)}\n`);
    },
    close: async () => sender?.close(),
  };
}
