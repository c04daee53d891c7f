import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { InvocationContext, type EventGridEvent } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from '../dev/azurite';
import type { FlowLogKind } from '../dev/flowLogGenerator';
import { seededRandom } from '../dev/flowLogGenerator';
import { simulateNetworkWatcher, type SimulatedCommit } from '../dev/simulator';
import { macOfBlobPath } from '../lib/blobPaths';
import { readConfig, readEventHubTarget, type Env } from '../lib/config';
import { EventHubSender } from '../lib/eventHubSender';
import { EVENT_HUB_OPTIONS, SHAPING_OPTIONS, UsageError, integerOption, parseCommand, sendRetryOptions, settingsEnv, stringOption, type CommandSpec } from './args';
import type { CommandIO } from './io';
import { formatBytes, formatDuration } from './progress';
import { verifyDelivery, type DemoVerdict } from './verify';

export const demoCommand: CommandSpec = {
  name: 'demo',
  usage: 'demo [--out DIR] [--nics N] [--minutes M] [options]',
  summary:
    'Runs the forwarder end to end on embedded parts: starts Azurite from node_modules (in memory, on a free\n' +
    'port), simulates NICs writing flow logs over several minutes (time-accelerated, one record made\n' +
    'malformed on purpose), delivers every BlobCreated event to the real function handler the way Event Grid\n' +
    'does (out of order, concurrently, with failed sends redelivered), writes the event bodies to\n' +
    'DIR/events.ndjson (or to an Event Hub), verifies that every record arrived exactly once, and prints a\n' +
    'summary. Exits 0 when the verification passes.',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'output folder (default demo-out)' },
    nics: { type: 'string', valueName: 'N', description: 'VNet NICs; one NSG NIC is added (default 3)' },
    minutes: { type: 'string', valueName: 'M', description: 'simulated minutes (default 15)' },
    tuples: { type: 'string', valueName: 'N', description: 'tuples per record (default 60)' },
    seed: { type: 'string', valueName: 'N', description: 'random seed (default 2026)' },
    ...EVENT_HUB_OPTIONS,
    ...SHAPING_OPTIONS,
  },
  details: 'Example:\n  npm run demo\n  npm run demo -- --output tuples --packing single',
};

/** Share of deliveries whose send "fails" (the host could not reach Event Hubs) and is redelivered later. */
const FAILED_SEND_RATE = 0.1;

export async function runDemo(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(demoCommand, argv);
  if (positionals.length > 0) throw new UsageError(`demo: unexpected argument "${positionals[0]}"`);
  const started = performance.now();
  const nics = integerOption(values, 'nics', 3, 1, 100);
  const minutes = integerOption(values, 'minutes', 15, 2, 60);
  const seed = integerOption(values, 'seed', 2026, 0, 2 ** 31);
  const outDir = path.resolve(io.cwd, stringOption(values, 'out') ?? 'demo-out');
  const retry = sendRetryOptions(values);

  io.stderr.write('demo: starting Azurite (in memory, free port)...\n');
  await mkdir(outDir, { recursive: true });
  const output = await open(path.join(outDir, 'events.ndjson'), 'w');
  const azurite = await startAzurite().catch(async (error: unknown) => {
    await output.close();
    throw error;
  });
  const savedEnv = process.env;
  let sender: EventHubSender | undefined;
  try {
    const env: Env = {
      ...settingsEnv(demoCommand, values, io.env),
      FlowLogsStorage: azurite.connectionString,
      AzureWebJobsStorage: azurite.connectionString,
    };
    const config = readConfig(env); // fails early, naming the setting, before anything is written
    sender = env.EVENTHUB_NAME ? EventHubSender.create(readEventHubTarget(env), retry) : undefined;
    process.env = { ...savedEnv, ...env }; // the handler reads its settings as the host provides them

    const kinds: FlowLogKind[] = [...Array.from({ length: nics }, (): FlowLogKind => 'vnet'), 'nsg'];
    const brokenNic = 0;
    const brokenMinute = Math.floor(minutes / 2);
    io.stderr.write(`demo: ${kinds.length} NICs (${nics} VNet, 1 NSG) x ${minutes} minutes; record ${brokenMinute + 1} of NIC 1 is written malformed\n`);
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const commits: SimulatedCommit[] = [];
    for await (const commit of simulateNetworkWatcher(service, {
      kinds,
      minutes,
      tuplesPerRecord: integerOption(values, 'tuples', 60, 1, 10_000),
      seed,
      hour: new Date(Date.UTC(2026, 10, 22, 10)),
      tamper: (nicIndex, minute, record) => (nicIndex === brokenNic && minute === brokenMinute ? record.slice(0, record.length >> 1) : record),
    })) {
      commits.push(commit);
    }

    const delivery = await deliverLikeEventGrid(commits, seed, async (bodies, blob) => {
      if (sender) await sender.send(bodies, macOfBlobPath(blob));
      await output.write(bodies.map((body) => `${body}\n`).join(''));
    });
    const verdict = await verifyDelivery(commits, path.join(outDir, 'events.ndjson'), config, service);
    io.stdout.write(summary(verdict, delivery, sender !== undefined, outDir, performance.now() - started));
    return verdict.ok ? 0 : 1;
  } finally {
    process.env = savedEnv;
    await output.close();
    await sender?.close();
    await azurite.stop();
  }
}

export interface DeliveryStats {
  deliveries: number;
  failedSends: number;
  outcomes: Record<string, number>;
}

/**
 * Delivers every commit's event to the handler as Event Grid does: in waves of concurrent deliveries, out of
 * order, and with about one send in ten failing (its bodies are dropped, as when the host cannot reach
 * Event Hubs) and the event redelivered in a later wave.
 */
async function deliverLikeEventGrid(commits: readonly SimulatedCommit[], seed: number, send: (bodies: string[], blob: string) => Promise<void>): Promise<DeliveryStats> {
  const forwardFlowLogs = await loadHandler();
  const random = seededRandom(seed + 1);
  const stats: DeliveryStats = { deliveries: 0, failedSends: 0, outcomes: {} };
  const context = new InvocationContext({
    functionName: 'forwardFlowLogs',
    logHandler: (_level, ...args) => {
      const outcome = /"outcome":"([a-z-]+)"/.exec(args.map(String).join(' '))?.[1] ?? 'unknown';
      stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1;
    },
  });
  let queue = [...commits];
  while (queue.length > 0) {
    const wave = queue.splice(0, 8).sort(() => random() - 0.5);
    const retries: SimulatedCommit[] = [];
    await Promise.all(
      wave.map(async (commit) => {
        stats.deliveries++;
        const bodies = await forwardFlowLogs(commit.event as unknown as EventGridEvent, context);
        if (random() < FAILED_SEND_RATE) {
          stats.failedSends++;
          retries.push(commit);
        } else {
          await send(bodies, commit.ref.blobPath);
        }
      }),
    );
    queue = [...queue, ...retries];
  }
  return stats;
}

function summary(verdict: DemoVerdict, delivery: DeliveryStats, toEventHub: boolean, outDir: string, ms: number): string {
  const outcomes = Object.entries(delivery.outcomes)
    .map(([outcome, count]) => `${count} ${outcome}`)
    .join(', ');
  return [
    '',
    `flowlog-forwarder demo: ${verdict.ok ? 'PASSED' : 'FAILED'}`,
    `  blobs written        ${verdict.blobs} (${formatBytes(verdict.bytesWritten)}), ${verdict.recordsWritten} records, ${verdict.tuplesWritten} tuples`,
    `  deliveries           ${delivery.deliveries} for ${verdict.commits} commits (${delivery.failedSends} failed ${delivery.failedSends === 1 ? 'send' : 'sends'} redelivered): ${outcomes}`,
    `  events               ${verdict.events} (${formatBytes(verdict.bytesOut)}, largest ${formatBytes(verdict.largestEvent)}) -> ${toEventHub ? 'Event Hub and ' : ''}${path.join(outDir, 'events.ndjson')}`,
    `  ${verdict.unit.padEnd(21)}${verdict.forwarded} forwarded of ${verdict.expected} expected; ${verdict.missing} missing, ${verdict.duplicates} duplicates`,
    `  dead letters         ${verdict.deadLetters} (expected ${verdict.expectedDeadLetters}: the malformed record)`,
    `  time                 ${formatDuration(ms)}`,
    ...verdict.problems.map((problem) => `  problem: ${problem}`),
    '',
  ].join('\n');
}

/**
 * The function's own module. Outside the Functions host, @azure/functions says it switches to test mode
 * and skips registration; that is expected here, so those two warnings are not shown.
 */
async function loadHandler(): Promise<(event: EventGridEvent, context: InvocationContext) => Promise<string[]>> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/test mode/.test(args.map(String).join(' '))) warn(...args);
  };
  try {
    return (await import('../functions/forwardFlowLogs')).forwardFlowLogs;
  } finally {
    console.warn = warn;
  }
}
