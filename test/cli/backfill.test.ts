import { once } from 'node:events';
import { createServer } from 'node:net';
import type { ContainerClient } from '@azure/storage-blob';
import { formatBytes } from '../../src/cli/progress';
import { blobName } from '../../src/lib/blobRef';
import type { CheckpointDoc } from '../../src/lib/checkpoints';
import type { ShapingConfig } from '../../src/lib/config';
import { convertStream } from '../../src/lib/convert';
import { startAmqpPeer, type AmqpPeer } from '../support/amqpPeer';
import { appendCommit, runCli, writeFlowLogBlob, type WrittenBlob } from '../support/cli';
import { invoke, recordsOf } from '../support/hour';
import { azuriteService, downloadBlob, listBlobNames, uniqueName, useForwarderEnvironment } from '../support/storage';

/**
 * `backfill` against Azurite and the loopback AMQP peer: blobs of several hours in two containers, sent
 * through the function's checkpoint claims, in batches within the link's maximum message size, with the
 * blob's MAC address as partition key; then a live event and a second backfill send nothing twice.
 */

const MAX_EVENT_BYTES = 20_000;
const MAX_MESSAGE_SIZE = 64 * 1024;
const containers = useForwarderEnvironment({ MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) });
const FAST_RETRIES = ['--send-retries', '3', '--send-retry-delay-ms', '20'];
const H = (hour: number): Date => new Date(Date.UTC(2025, 2, 4, hour));
const RECORDS: ShapingConfig = { output: 'records', packing: 'envelope', maxEventBytes: MAX_EVENT_BYTES };
const WINDOW = ['--since', '2025-03-04T10:00Z', '--until', '2025-03-04T12:00Z'];

let peer: AmqpPeer;
let nsgContainer: ContainerClient;

beforeAll(async () => {
  peer = await startAmqpPeer({ hubName: 'flowlogs', partitionCount: 4, maxMessageSize: MAX_MESSAGE_SIZE });
});
beforeEach(async () => {
  peer.reset();
  nsgContainer = azuriteService().getContainerClient(uniqueName('nsg'));
  await nsgContainer.create();
  process.env.FLOWLOG_CONTAINERS = `${containers.flowLogs.containerName},${nsgContainer.containerName}`;
});
afterAll(async () => {
  await peer.close();
  expect(peer.errors).toEqual([]);
});

/** The command line's environment: the function's settings (process.env, set per test) plus the Event Hub. */
function cliEnv(hubName = peer.hubName): Record<string, string | undefined> {
  return { ...process.env, EventHubConnection: peer.connectionString(hubName), EVENTHUB_NAME: hubName };
}

interface Fleet {
  /** Blobs inside the window [10:00, 12:00). */
  inside: WrittenBlob[];
  outside: WrittenBlob[];
}

/** VNet NICs 1 and 2 and NSG NIC 3 over hours 09-12; NIC 1's 10:00 blob has one record larger than an event. */
async function writeFleet(): Promise<Fleet> {
  const vnet = containers.flowLogs;
  const written = await Promise.all([
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 1, hour: H(9), commits: 4, tuplesPerRecord: 20 }),
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 1, hour: H(10), commits: 12, tuplesPerRecord: (minute) => (minute === 4 ? 400 : 40) }),
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 1, hour: H(11), commits: 8, tuplesPerRecord: 40 }),
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 1, hour: H(12), commits: 3, tuplesPerRecord: 20 }),
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 2, hour: H(10), commits: 10, tuplesPerRecord: 30 }),
    writeFlowLogBlob(vnet, { kind: 'vnet', nic: 2, hour: H(11), commits: 6, tuplesPerRecord: 30 }),
    writeFlowLogBlob(nsgContainer, { kind: 'nsg', nic: 3, hour: H(10), commits: 9, tuplesPerRecord: 50 }),
    writeFlowLogBlob(nsgContainer, { kind: 'nsg', nic: 3, hour: H(11), commits: 7, tuplesPerRecord: 50 }),
  ]);
  // Not a flow-log blob: never listed.
  await vnet.getBlockBlobClient('notes/y=2025/m=03/d=04/h=10/readme.txt').upload('hello', 5);
  return { inside: written.filter((blob) => blob.hour >= H(10) && blob.hour < H(12)), outside: written.filter((blob) => blob.hour < H(10) || blob.hour >= H(12)) };
}

/** The bodies the function returns for the whole blob (the same framing, shaping and packing). */
async function expectedBodies(container: ContainerClient, blob: WrittenBlob, config: ShapingConfig = RECORDS): Promise<string[]> {
  const { bytes } = await downloadBlob(container, blob.ref.blobPath);
  const bodies: string[] = [];
  const conversion = convertStream(
    (async function* () {
      yield bytes;
    })(),
    { config, sourceId: blobName(blob.ref), onDeadLetter: () => undefined },
  );
  for (let result = await conversion.next(); !result.done; result = await conversion.next()) bodies.push(...result.value);
  return bodies;
}

function containerOf(blob: WrittenBlob): ContainerClient {
  return blob.kind === 'nsg' ? nsgContainer : containers.flowLogs;
}

interface Arrival {
  body: string;
  partitionKey: string | undefined;
  batch: number;
}

function arrivals(): Arrival[] {
  return peer.batches.flatMap((batch, index) => batch.events.map((event) => ({ body: event.body.toString('utf8'), partitionKey: batch.partitionKey, batch: index })));
}

/** Every blob's bodies arrived exactly once, in order, under its MAC address; nothing else arrived. */
async function expectExactlyOnce(blobs: readonly WrittenBlob[]): Promise<number> {
  const received = arrivals();
  let total = 0;
  for (const blob of blobs) {
    const expected = await expectedBodies(containerOf(blob), blob);
    const wanted = new Set(expected);
    const mine = received.filter((arrival) => wanted.has(arrival.body));
    expect(mine.map((arrival) => arrival.body)).toEqual(expected);
    expect(new Set(mine.map((arrival) => arrival.partitionKey))).toEqual(new Set([blob.mac]));
    // The bodies carry every record: whole, or split by tuples when larger than an event.
    const parts = recordsOf(expected);
    expect(new Set(parts.map((part) => (JSON.parse(part) as { time: string }).time))).toEqual(new Set(blob.records.map((record) => (JSON.parse(record) as { time: string }).time)));
    for (const record of blob.records) if (Buffer.byteLength(record) < MAX_EVENT_BYTES - 14) expect(parts).toContain(record);
    total += expected.length;
  }
  expect(received).toHaveLength(total);
  return total;
}

async function checkpointDocs(container: ContainerClient = containers.checkpoints): Promise<Map<string, CheckpointDoc>> {
  const docs = new Map<string, CheckpointDoc>();
  for (const name of await listBlobNames(container)) docs.set(name, JSON.parse((await downloadBlob(container, name)).bytes.toString('utf8')) as CheckpointDoc);
  return docs;
}

function pendingClaims(docs: Map<string, CheckpointDoc>): string[] {
  return [...docs.entries()].flatMap(([name, doc]) => Object.entries(doc.claims).filter(([, claim]) => claim.pending).map(([id]) => `${name}#${id}`));
}

describe('backfill', () => {
  it('sends every record of the window once, in batches within the link limit, keyed by MAC; a live event and a second backfill add only what is new', async () => {
    const fleet = await writeFleet();
    const run = await runCli(['backfill', ...WINDOW, ...FAST_RETRIES], { env: cliEnv() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const events = await expectExactlyOnce(fleet.inside);
    // The blobs outside the window sent nothing and have no checkpoint.
    const docs = await checkpointDocs();
    expect([...docs.keys()].sort()).toEqual(fleet.inside.map((blob) => blobName(blob.ref)).sort());
    expect(pendingClaims(docs)).toEqual([]);
    for (const blob of fleet.inside) expect(docs.get(blobName(blob.ref))?.claimedEnd).toBe((blob.events.at(-1)?.data.contentLength ?? 0) - 2);

    // Batches: within the link's limit, one partition key each, every event of a batch with that key, several per blob.
    expect(peer.rejections).toEqual([]);
    for (const batch of peer.batches) {
      expect(batch.isBatch).toBe(true);
      expect(batch.encodedBytes).toBeLessThanOrEqual(MAX_MESSAGE_SIZE);
      expect(batch.partitionKey).toMatch(/^[0-9A-F]{12}$/);
      for (const event of batch.events) {
        expect(event.partitionKey).toBe(batch.partitionKey);
        expect(event.body.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      }
    }
    expect(new Set(peer.batches.map((batch) => batch.partitionKey))).toEqual(new Set(fleet.inside.map((blob) => blob.mac)));
    expect(peer.batches.length).toBeGreaterThan(fleet.inside.length);
    const records = fleet.inside.reduce((sum, blob) => sum + blob.records.length, 0);
    expect(run.stdout).toMatch(new RegExp(`^backfill: 6 blobs, [\\d.]+ [KM]?B claimed, ${records} records, \\d+ tuples -> ${events} events \\([\\d.]+ [KM]?B\\) in ${peer.batches.length} batches, 0 dead letters, \\d+s\\n$`));
    report('first backfill', run.stdout);

    // A new commit after the backfill: its live event returns only the new record.
    const live = fleet.inside.find((blob) => blob.kind === 'vnet' && blob.hour.getTime() === H(11).getTime());
    if (!live) throw new Error('no blob');
    const added = await appendCommit(containers.flowLogs, live, 12);
    const { bodies } = await invoke(added.event);
    expect(recordsOf(bodies)).toEqual([added.record]);

    // A second backfill sends nothing.
    peer.reset();
    const again = await runCli(['backfill', ...WINDOW, ...FAST_RETRIES], { env: cliEnv() });
    expect(again.code).toBe(0);
    expect(peer.batches).toEqual([]);
    expect(again.stdout).toMatch(/^backfill: 6 blobs, 0 B claimed, 0 records, 0 tuples -> 0 events \(0 B\) in 0 batches, 0 dead letters/);

    // A commit nobody has sent yet (its event lost): the next backfill sends just that record.
    const quiet = fleet.inside.find((blob) => blob.kind === 'nsg');
    if (!quiet) throw new Error('no blob');
    const unsent = await appendCommit(nsgContainer, quiet, 5);
    const third = await runCli(['backfill', ...WINDOW, ...FAST_RETRIES], { env: cliEnv() });
    expect(third.code).toBe(0);
    expect(arrivals().map((arrival) => [arrival.partitionKey, recordsOf([arrival.body])])).toEqual([[quiet.mac, [unsent.record]]]);
  });

  it('selects blobs by the y=/m=/d=/h= segments of their path (from the hour holding --since, before --until) and by --container', async () => {
    const fleet = await writeFleet();
    const all = [...fleet.inside, ...fleet.outside];
    const early = await runCli(['backfill', '--since', '2025-03-04T09:30Z', '--until', '2025-03-04T10:59Z', '-c', containers.flowLogs.containerName, ...FAST_RETRIES], { env: cliEnv() });
    expect(early.code).toBe(0);
    await expectExactlyOnce(all.filter((blob) => blob.kind === 'vnet' && blob.hour <= H(10)));
    expect(early.stdout).toMatch(/^backfill: 3 blobs,/);

    peer.reset();
    const late = await runCli(['backfill', '--since', '2025-03-04T11:00Z', '--until', '2025-03-04T13:00Z', ...FAST_RETRIES], { env: cliEnv() });
    expect(late.code).toBe(0);
    await expectExactlyOnce(all.filter((blob) => blob.hour >= H(11)));
    expect(late.stdout).toMatch(/^backfill: 4 blobs,/);
  });

  it('--dry-run lists the blobs and what is not yet claimed, and claims and sends nothing', async () => {
    const fleet = await writeFleet();
    const before = await checkpointDocs();
    const dry = await runCli(['backfill', ...WINDOW, '--dry-run'], { env: { ...process.env } }); // no Event Hub needed
    expect(dry.code).toBe(0);
    expect(peer.batches).toEqual([]);
    expect(await checkpointDocs()).toEqual(before);
    expect(before.size).toBe(0);
    const listed = dry.stdout.split('\n').filter((line) => line.startsWith('2025-'));
    const sizes = await Promise.all(fleet.inside.map(async (blob) => ({ blob, size: (await downloadBlob(containerOf(blob), blob.ref.blobPath)).bytes.length })));
    expect(listed.sort()).toEqual(
      sizes
        .map(({ blob, size }) => `${blob.hour.toISOString()}  ${formatBytes(size).padStart(9)}  ${formatBytes(size).padStart(9)} new  ${blob.ref.container}/${blob.ref.blobPath}`)
        .sort(),
    );
    const total = sizes.reduce((sum, { size }) => sum + size, 0);
    expect(dry.stdout).toContain(`backfill (dry run): 6 blobs, ${formatBytes(total)} not yet claimed; nothing claimed or sent\n`);

    // After a backfill of the VNet container, only the NSG blobs have bytes left.
    await runCli(['backfill', ...WINDOW, '-c', containers.flowLogs.containerName, ...FAST_RETRIES], { env: cliEnv() });
    const after = await runCli(['backfill', ...WINDOW, '--dry-run'], { env: { ...process.env } });
    for (const { blob, size } of sizes) {
      const line = after.stdout.split('\n').find((text) => text.endsWith(blob.ref.blobPath));
      expect(line).toContain(`  ${formatBytes(blob.kind === 'nsg' ? size : 0).padStart(9)} new  `);
    }
  });

  it('--since and --until may be relative to now; --until defaults to now', async () => {
    const now = Date.now();
    const currentHour = new Date(Math.floor(now / 3_600_000) * 3_600_000);
    const recent = await writeFlowLogBlob(containers.flowLogs, { nic: 21, hour: currentHour, commits: 2 });
    await writeFlowLogBlob(containers.flowLogs, { nic: 22, hour: new Date(currentHour.getTime() - 3 * 86_400_000), commits: 2 });
    const dry = await runCli(['backfill', '--since', '-24h', '--dry-run'], { env: { ...process.env } });
    expect(dry.code).toBe(0);
    expect(dry.stdout.split('\n').filter((line) => line.includes('PT1H.json'))).toEqual([expect.stringContaining(recent.ref.blobPath)]);
    const week = await runCli(['backfill', '--since', '-7d', '--until', '-1d', '--dry-run'], { env: { ...process.env } });
    expect(week.stdout).toMatch(/^backfill \(dry run\): 1 blobs,/m);
  });

  it('--output tuples --packing single: every tuple object once, many events per batch, within the limit', async () => {
    const fleet = await writeFleet();
    const blobs = fleet.inside.filter((blob) => blob.hour.getTime() === H(11).getTime());
    const run = await runCli(['backfill', '--since', '2025-03-04T11:00Z', '--until', '2025-03-04T12:00Z', '--output', 'tuples', '--packing', 'single', ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(0);
    const received = arrivals();
    let tuples = 0;
    for (const blob of blobs) {
      const expected = await expectedBodies(containerOf(blob), blob, { output: 'tuples', packing: 'single', maxEventBytes: MAX_EVENT_BYTES });
      const mine = received.filter((arrival) => arrival.partitionKey === blob.mac).map((arrival) => arrival.body);
      expect(mine).toEqual(expected);
      expect(new Set(mine.map((body) => (JSON.parse(body) as { macAddress: string }).macAddress))).toEqual(new Set([blob.mac]));
      tuples += expected.length;
    }
    expect(received).toHaveLength(tuples);
    expect(tuples).toBe(8 * 40 + 6 * 30 + 7 * 50);
    expect(peer.batches.length).toBeLessThan(tuples / 20);
    for (const batch of peer.batches) expect(batch.encodedBytes).toBeLessThanOrEqual(MAX_MESSAGE_SIZE);
  });

  it('keeps one NIC\'s events in order across its hourly blobs', async () => {
    await writeFleet();
    const run = await runCli(['backfill', ...WINDOW, ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(0);
    const timesByKey = new Map<string, string[]>();
    for (const arrival of arrivals()) {
      const times = recordsOf([arrival.body]).map((record) => (JSON.parse(record) as { time: string }).time);
      timesByKey.set(arrival.partitionKey ?? '', [...(timesByKey.get(arrival.partitionKey ?? '') ?? []), ...times]);
    }
    expect(timesByKey.size).toBe(3);
    for (const times of timesByKey.values()) expect(times).toEqual([...times].sort());
  });

  it('retries injected transient faults: nothing lost, nothing duplicated', async () => {
    const fleet = await writeFleet();
    peer.failNext(3);
    const run = await runCli(['backfill', ...WINDOW, '--concurrency', '2', ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(0);
    expect(peer.rejections.map((rejection) => rejection.condition)).toEqual(['com.microsoft:server-busy', 'com.microsoft:server-busy', 'com.microsoft:server-busy']);
    await expectExactlyOnce(fleet.inside);
    expect(pendingClaims(await checkpointDocs())).toEqual([]);
  });

  it('leaves the claims of a failed send pending, and the next backfill re-sends them: every record arrives once', async () => {
    const fleet = await writeFleet();
    const failed = await runCli(['backfill', ...WINDOW, '--concurrency', '2', ...FAST_RETRIES], { env: cliEnv('nohub') });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^backfill failed: sending to Event Hubs failed: .*nohub/m);
    expect(peer.batches).toEqual([]);
    const pending = pendingClaims(await checkpointDocs());
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.length).toBeLessThanOrEqual(2);

    // The dry run tells the pending claims apart.
    const dry = await runCli(['backfill', ...WINDOW, '--dry-run'], { env: { ...process.env } });
    expect(dry.stdout).toMatch(/^backfill \(dry run\): 6 blobs, [\d.]+ KB not yet claimed, [\d.]+ KB claimed but not sent \(re-sent by the next backfill\); nothing claimed or sent$/m);
    expect(dry.stdout.split('\n').filter((line) => line.includes('claimed, not sent)'))).toHaveLength(pending.length);

    const retried = await runCli(['backfill', ...WINDOW, ...FAST_RETRIES], { env: cliEnv() });
    expect(retried.code).toBe(0);
    await expectExactlyOnce(fleet.inside);
    expect(pendingClaims(await checkpointDocs())).toEqual([]);
  });

  it('draws a progress line on a terminal and clears it before the summary', async () => {
    await writeFleet();
    const run = await runCli(['backfill', ...WINDOW, '--concurrency', '1', ...FAST_RETRIES], { env: cliEnv(), tty: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\rbackfill \[#{20}\] 6\/6 blobs {2}[\d.]+ KB\/[\d.]+ KB {2}\d+ events {2}.*\/s {2}ETA -\x1b\[K/);
    expect(run.stderr.endsWith('\r\x1b[K')).toBe(true);
  });

  it('exits 1 when the Event Hub cannot be reached, after the configured retries', async () => {
    await writeFleet();
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => server.close(resolve));
    const started = Date.now();
    const run = await runCli(['backfill', ...WINDOW, '--send-retries', '1', '--send-retry-delay-ms', '10'], {
      env: { ...process.env, EventHubConnection: `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`, EVENTHUB_NAME: 'flowlogs' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^backfill failed: sending to Event Hubs failed/m);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('backfill error messages', () => {
  it('say why the Event Hub could not be reached', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => server.close(resolve));
    await writeFlowLogBlob(containers.flowLogs, { nic: 31, hour: H(10), commits: 1 });
    const run = await runCli(['backfill', ...WINDOW, '--send-retries', '1', '--send-retry-delay-ms', '10'], {
      env: { ...process.env, EventHubConnection: `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`, EVENTHUB_NAME: 'flowlogs' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^backfill failed: sending to Event Hubs failed: .*ECONNREFUSED/m);
  });
});

/** With BACKFILL_FIGURES=1, prints what the peer received (events, batches, bytes per batch, partition keys). */
function report(label: string, summary: string): void {
  if (!process.env.BACKFILL_FIGURES) return;
  const batches = peer.batches.map((batch, i) => `  batch ${i}: key ${String(batch.partitionKey)}, ${batch.events.length} events, ${batch.encodedBytes} bytes (bodies ${batch.events.map((event) => event.body.length).join('+')})`);
  process.stdout.write(`${label}: ${peer.receivedEvents().length} events in ${peer.batches.length} batches\n${batches.join('\n')}\n${summary}`);
}
