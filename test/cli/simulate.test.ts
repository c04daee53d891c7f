import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerClient } from '@azure/storage-blob';
import { CONTAINER_OF } from '../../src/dev/simulator';
import type { DeliveredBlobCreatedEvent } from '../../src/dev/networkWatcherWriter';
import { hourOfBlobPath, macOfBlobPath } from '../../src/lib/blobPaths';
import { startAmqpPeer } from '../support/amqpPeer';
import { lines, runCli } from '../support/cli';
import { recordsOf } from '../support/hour';
import { azuriteConnectionString, azuriteService, downloadBlob, uniqueName } from '../support/storage';

/**
 * `simulate` writes PT1H.json blobs with Network Watcher's exact block layout into the flow-log storage
 * (the test Azurite) and delivers each commit's BlobCreated event: printed, in-process, or by webhook.
 * The simulator's containers are fixed (insights-logs-*), so each test simulates its own hour.
 */

let nextHour = 0;
/** A distinct past hour per test: blob paths (and so blobs) are per NIC and hour. */
function freshHour(): string {
  nextHour++;
  return new Date(Date.UTC(2024, 0, nextHour, 5)).toISOString();
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    FlowLogsStorage: azuriteConnectionString(),
    AzureWebJobsStorage: azuriteConnectionString(),
    CHECKPOINT_CONTAINER: uniqueName('cp'),
    DEAD_LETTER_CONTAINER: uniqueName('dl'),
    ...extra,
  };
}

const FAST = ['--interval-ms', '0'];

function parseEvents(stdout: string): DeliveredBlobCreatedEvent[] {
  return lines(stdout).map((line) => JSON.parse(line) as DeliveredBlobCreatedEvent);
}

function containerOfEvent(event: DeliveredBlobCreatedEvent): { container: ContainerClient; path: string } {
  const match = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(event.subject);
  if (!match?.[1] || !match[2]) throw new Error(`bad subject ${event.subject}`);
  return { container: azuriteService().getContainerClient(match[1]), path: match[2] };
}

/** The distinct blobs the events name, with their last event. */
function lastEvents(events: readonly DeliveredBlobCreatedEvent[]): Map<string, DeliveredBlobCreatedEvent> {
  const last = new Map<string, DeliveredBlobCreatedEvent>();
  for (const event of events) last.set(event.subject, event);
  return last;
}

/** The records of a PT1H.json, from its committed blocks: checks Network Watcher's exact layout on the way. */
async function recordsFromBlocks(container: ContainerClient, path: string): Promise<string[]> {
  const blob = container.getBlockBlobClient(path);
  const { committedBlocks = [] } = await blob.getBlockList('committed');
  const { bytes } = await downloadBlob(container, path);
  const blocks: string[] = [];
  let offset = 0;
  for (const block of committedBlocks) {
    blocks.push(bytes.subarray(offset, offset + block.size).toString('utf8'));
    offset += block.size;
  }
  expect(offset).toBe(bytes.length);
  expect(committedBlocks[0]?.size).toBe(12);
  expect(blocks[0]).toBe('{"records":[');
  expect(committedBlocks.at(-1)?.size).toBe(2);
  expect(blocks.at(-1)).toBe(']}');
  const middle = blocks.slice(1, -1);
  expect(middle.length).toBeGreaterThan(0);
  return middle.map((block, i) => {
    if (i === 0) expect(block.startsWith('{')).toBe(true);
    else expect(block.startsWith(',{')).toBe(true);
    const record = i === 0 ? block : block.slice(1);
    expect(() => JSON.parse(record) as unknown).not.toThrow();
    return record;
  });
}

describe('simulate --deliver none', () => {
  it('prints one BlobCreated event per commit, for blobs with the exact Network Watcher block layout', async () => {
    const hour = freshHour();
    // Only the flag names the storage: without it, simulate would write to UseDevelopmentStorage=true.
    const run = await runCli(['simulate', '--flow-logs-storage', azuriteConnectionString(), '--nics', '3', '--minutes', '4', '--tuples', '6', '--hour', hour, ...FAST], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`simulate: 12 commits of 3 vnet blobs for ${hour}, events delivered: none\n`);
    const events = parseEvents(run.stdout);
    expect(events).toHaveLength(12);
    const account = azuriteService().accountName;
    for (const event of events) {
      expect(event.eventType).toBe('Microsoft.Storage.BlobCreated');
      expect(event.topic).toMatch(new RegExp(`/providers/Microsoft\\.Storage/storageAccounts/${account}$`));
      expect(event.data.api).toBe('PutBlockList');
      const { container, path } = containerOfEvent(event);
      expect(container.containerName).toBe(CONTAINER_OF.vnet);
      expect(event.data.url).toBe(container.getBlobClient(path).url);
      expect(hourOfBlobPath(path)?.toISOString()).toBe(hour);
    }
    const blobs = lastEvents(events);
    expect(blobs.size).toBe(3);
    for (const [subject, last] of blobs) {
      const mine = events.filter((event) => event.subject === subject);
      const { container, path } = containerOfEvent(last);
      const records = await recordsFromBlocks(container, path);
      // One commit per minute: record i is minute i+1, and each event reports the size after its commit.
      expect(records.map((record) => (JSON.parse(record) as { time: string }).time)).toEqual(
        [1, 2, 3, 4].map((minute) => new Date(Date.parse(hour) + minute * 60_000).toISOString().replace('Z', '0000Z')),
      );
      const sizes = records.map((_, i) => 14 + records.slice(0, i + 1).reduce((sum, record) => sum + Buffer.byteLength(record), 0) + i);
      expect(mine.map((event) => event.data.contentLength)).toEqual(sizes);
      for (const record of records) expect((JSON.parse(record) as { macAddress: string }).macAddress).toBe(macOfBlobPath(path));
    }
  });

  it('writes NSG flow logs (version 2) with --kind nsg into the NSG container', async () => {
    const hour = freshHour();
    const run = await runCli(['simulate', '--kind', 'nsg', '--nics', '1', '--minutes', '3', '--hour', hour, ...FAST], { env: env() });
    expect(run.code).toBe(0);
    const events = parseEvents(run.stdout);
    expect(events).toHaveLength(3);
    const { container, path } = containerOfEvent(events[2] as DeliveredBlobCreatedEvent);
    expect(container.containerName).toBe(CONTAINER_OF.nsg);
    const records = (await recordsFromBlocks(container, path)).map((record) => JSON.parse(record) as { category: string; properties: { Version: number } });
    expect(records.map((record) => [record.category, record.properties.Version])).toEqual(Array.from({ length: 3 }, () => ['NetworkSecurityGroupFlowEvent', 2]));
  });

  it('--seed makes the records deterministic: the same seed writes the same bytes, another seed others', async () => {
    const hour = freshHour();
    const contents = async (seed: string): Promise<string[]> => {
      const run = await runCli(['simulate', '--nics', '2', '--minutes', '3', '--seed', seed, '--hour', hour, ...FAST], { env: env() });
      expect(run.code).toBe(0);
      const events = parseEvents(run.stdout);
      return Promise.all([...lastEvents(events).values()].map(async (event) => {
        const { container, path } = containerOfEvent(event);
        return `${event.data.contentLength}:${(await downloadBlob(container, path)).bytes.toString('utf8')}`;
      }));
    };
    const first = await contents('7');
    const second = await contents('7');
    const other = await contents('8');
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(other.map((text) => text.split(':')[0])).not.toEqual(first.map((text) => text.split(':')[0]));
  });
});

describe('simulate --deliver inprocess', () => {
  it('prints event bodies that carry every written record exactly once', async () => {
    const hour = freshHour();
    const run = await runCli(['simulate', '--nics', '2', '--minutes', '5', '--tuples', '10', '--hour', hour, '--deliver', 'inprocess', ...FAST], { env: env() });
    expect(run.code).toBe(0);
    const written: string[] = [];
    for (const kindPath of await blobsOfHour(hour)) written.push(...(await recordsFromBlocks(kindPath.container, kindPath.path)));
    expect(written).toHaveLength(10);
    expect(recordsOf(lines(run.stdout)).sort()).toEqual(written.sort());
    // One summary line per event, each forwarding exactly one record.
    const summaries = run.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { outcome: string; records: number });
    expect(summaries.map((summary) => [summary.outcome, summary.records])).toEqual(Array.from({ length: 10 }, () => ['forwarded', 1]));
  });

  it('sends the bodies to the Event Hub given with --event-hub-*, keyed by MAC address', async () => {
    const peer = await startAmqpPeer({ hubName: 'simulated' });
    try {
      const hour = freshHour();
      const run = await runCli(
        ['simulate', '--nics', '2', '--minutes', '3', '--hour', hour, '--deliver', 'inprocess', '--event-hub-connection', peer.connectionString(), '--event-hub-name', 'simulated', ...FAST],
        { env: env() },
      );
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('');
      const written = new Map<string, string[]>();
      for (const blob of await blobsOfHour(hour)) written.set(macOfBlobPath(blob.path) ?? '', await recordsFromBlocks(blob.container, blob.path));
      expect(written.size).toBe(2);
      for (const [mac, records] of written) {
        const bodies = peer.batches.filter((batch) => batch.partitionKey === mac).flatMap((batch) => batch.events.map((event) => event.body.toString('utf8')));
        expect(recordsOf(bodies)).toEqual(records);
      }
      expect(peer.receivedEvents()).toHaveLength(6);
    } finally {
      await peer.close();
    }
  });

  it('shapes the bodies with --output tuples --packing single', async () => {
    const hour = freshHour();
    const run = await runCli(['simulate', '--nics', '1', '--minutes', '2', '--tuples', '5', '--hour', hour, '--deliver', 'inprocess', '--output', 'tuples', '--packing', 'single', ...FAST], { env: env() });
    expect(run.code).toBe(0);
    const bodies = lines(run.stdout).map((line) => JSON.parse(line) as { id: string; macAddress: string });
    expect(bodies).toHaveLength(10);
    expect(new Set(bodies.map((body) => body.id)).size).toBe(10);
  });
});

describe('simulate --deliver webhook', () => {
  it('POSTs [event] with aeg-event-type: Notification for every commit', async () => {
    const received: { method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders; body: unknown }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ method: request.method, url: request.url, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        response.writeHead(received.length === 2 ? 500 : 200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runtime/webhooks/eventgrid?functionName=forwardFlowLogs`;
    try {
      const hour = freshHour();
      const run = await runCli(['simulate', '--nics', '2', '--minutes', '2', '--hour', hour, '--webhook', url, ...FAST], { env: env() });
      expect(run.code).toBe(0);
      expect(received).toHaveLength(4);
      for (const request of received) {
        expect(request.method).toBe('POST');
        expect(request.url).toBe('/runtime/webhooks/eventgrid?functionName=forwardFlowLogs');
        expect(request.headers['aeg-event-type']).toBe('Notification');
        expect(request.headers['content-type']).toBe('application/json');
        expect(Array.isArray(request.body) && request.body.length === 1).toBe(true);
      }
      const events = received.map((request) => (request.body as DeliveredBlobCreatedEvent[])[0] as DeliveredBlobCreatedEvent);
      expect(new Set(events.map((event) => event.id)).size).toBe(4);
      for (const event of lastEvents(events).values()) {
        const { container, path } = containerOfEvent(event);
        expect((await downloadBlob(container, path)).bytes.length).toBe(event.data.contentLength);
      }
      expect(run.stderr).toContain('simulate: the host answered 500 Internal Server Error');
      expect(run.stderr).toContain('events delivered: webhook\n');
    } finally {
      server.close();
    }
  });

  it('exits 2 when --deliver webhook has no --webhook URL', async () => {
    const run = await runCli(['simulate', '--deliver', 'webhook'], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--deliver webhook needs --webhook URL');
  });
});

/** The simulated blobs of an hour, in both flow-log containers. */
async function blobsOfHour(hour: string): Promise<{ container: ContainerClient; path: string }[]> {
  const found: { container: ContainerClient; path: string }[] = [];
  for (const name of Object.values(CONTAINER_OF)) {
    const container = azuriteService().getContainerClient(name);
    if (!(await container.exists())) continue;
    for await (const item of container.listBlobsFlat()) if (hourOfBlobPath(item.name)?.toISOString() === hour) found.push({ container, path: item.name });
  }
  return found;
}
