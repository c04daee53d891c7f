import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FlowLogGenerator } from '../../src/dev/flowLogGenerator';
import { NetworkWatcherWriter, blobCreatedEvent } from '../../src/dev/networkWatcherWriter';
import { invoke, recordsOf, writeHour } from '../support/hour';
import { listBlobNames, useForwarderEnvironment } from '../support/storage';

/** Deleted, replaced, foreign and forged blobs, and bad settings, against Azurite through the handler. */

const containers = useForwarderEnvironment();

async function deliver(events: readonly unknown[]): Promise<string[]> {
  const bodies: string[] = [];
  for (const event of events) bodies.push(...(await invoke(event)).bodies);
  return bodies;
}

function outcomeOf(logs: { message: string }[]): { outcome: string; reason?: string } {
  return JSON.parse(logs[0]?.message ?? '{}') as { outcome: string; reason?: string };
}

describe('a blob deleted and written again under the same name', () => {
  it('a late event of the old blob claims only whole records of the new one: its size says nothing about it', async () => {
    const generator = new FlowLogGenerator(21);
    const nic = generator.nic('vnet', 9);
    const hour = new Date(Date.UTC(2026, 10, 22, 10));
    const path = generator.blobPath(nic, hour);
    const newRecords = [1, 2, 3, 4, 5].map((minute) => generator.record(nic, new Date(hour.getTime() + minute * 60_000), 10));
    // The old blob's size lands on a comma inside the new blob's second record.
    const newBlob = `{"records":[${newRecords.join(',')}]}`;
    const secondStart = newBlob.indexOf(newRecords[1] ?? '');
    const landing = newBlob.indexOf(',', secondStart + 200);
    const padded = JSON.stringify({ ...(JSON.parse(generator.record(nic, hour, 2)) as object), operationName: '' });
    const oldRecord = padded.replace('"operationName":""', `"operationName":"${'x'.repeat(landing - 12 - padded.length)}"`);
    expect(14 + oldRecord.length - 2).toBe(landing);

    const blob = containers.flowLogs.getBlockBlobClient(path);
    const ref = { account: containers.flowLogs.accountName, container: containers.flowLogs.containerName, blobPath: path };
    const oldWriter = new NetworkWatcherWriter(blob);
    await oldWriter.start();
    const oldEvent = blobCreatedEvent(ref, await oldWriter.append(oldRecord), blob.url);
    expect(recordsOf((await invoke(oldEvent)).bodies)).toEqual([oldRecord]);

    await blob.delete();
    const writer = new NetworkWatcherWriter(blob);
    await writer.start();
    const newEvents = [];
    for (const record of newRecords) newEvents.push(blobCreatedEvent(ref, await writer.append(record), blob.url));
    const forwarded = [...(await invoke(newEvents[0])).bodies, ...(await invoke(oldEvent)).bodies];
    for (const event of newEvents.slice(1)) forwarded.push(...(await invoke(event)).bodies);
    expect(recordsOf(forwarded)).toEqual(newRecords);
    expect(await listBlobNames(containers.deadLetters)).toEqual([]);
  });

  it('a record cut short whose brackets the document\'s closing `]}` would balance is set aside, and the next commit forwards only what is new', async () => {
    const torn = '{"time":"2026-11-22T10:02:00.0000000Z","flowLogVersion":4,"x":[1';
    const hour = await writeHour(containers.flowLogs, { commits: 4, recordAt: (minute, generated) => (minute === 1 ? torn : generated) });
    const bodies = await deliver(hour.events);
    expect(recordsOf(bodies)).toEqual([hour.records[0], hour.records[2], hour.records[3]]);
    const names = await listBlobNames(containers.deadLetters);
    expect(names).toHaveLength(1);
    expect((await containers.deadLetters.getBlobClient(names[0] ?? '').downloadToBuffer()).toString()).toBe(torn);
  });

  it('forwards the new, shorter blob from its start', async () => {
    const nic = 4242;
    const before = await writeHour(containers.flowLogs, { commits: 8, nic, seed: 1 });
    expect(recordsOf(await deliver(before.events))).toEqual(before.records);
    await containers.flowLogs.getBlobClient(before.ref.blobPath).delete();

    const after = await writeHour(containers.flowLogs, { commits: 3, nic, seed: 2 });
    expect(after.ref).toEqual(before.ref);
    expect(recordsOf(await deliver(after.events))).toEqual(after.records);
  });

  it('forwards the new, longer blob from its start even within the same second', async () => {
    const nic = 777;
    const before = await writeHour(containers.flowLogs, { commits: 2, nic, seed: 5 });
    await deliver(before.events);
    await containers.flowLogs.getBlobClient(before.ref.blobPath).delete();
    const after = await writeHour(containers.flowLogs, { commits: 6, nic, seed: 6 });
    expect(recordsOf(await deliver(after.events.slice(3)))).toEqual(after.records);
    // A late event of the old blob now claims nothing it has not: no duplicates.
    expect(await deliver(before.events)).toEqual([]);
  });

  it('returns [] with a warning for a blob that no longer exists', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 2 });
    await containers.flowLogs.getBlobClient(hour.ref.blobPath).delete();
    const { bodies, logs } = await invoke(hour.events[1]);
    expect(bodies).toEqual([]);
    expect(logs[0]?.level).toBe('warning');
    expect(outcomeOf(logs)).toEqual(expect.objectContaining({ outcome: 'ignored', reason: 'blob no longer exists' }));
  });
});

describe('events the forwarder must not act on', () => {
  let server: Server;
  let requests: string[];
  let serverUrl: string;

  beforeAll(async () => {
    requests = [];
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      response.end('{"records":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('never fetches a forged data.url, whatever the topic says', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 1 });
    const event = hour.events[0];
    if (!event) throw new Error('no event');
    const forged = [
      { ...event, id: 'forged-1', data: { ...event.data, url: `${serverUrl}/steal` } },
      { ...event, id: 'forged-2', topic: event.topic.replace(hour.ref.account, 'attackeraccount'), data: { ...event.data, url: `${serverUrl}/attackeraccount/x` } },
    ];
    for (const forgedEvent of forged) {
      const { bodies, logs } = await invoke(forgedEvent);
      expect(bodies).toEqual([]);
      expect(outcomeOf(logs).outcome).toBe('ignored');
    }
    // Same account, container and path on another host: the blob is read from the configured endpoint.
    const otherHost = { ...event, id: 'forged-3', data: { ...event.data, url: `${serverUrl}/${hour.ref.account}/${hour.ref.container}/${hour.ref.blobPath}` } };
    expect(recordsOf((await invoke(otherHost)).bodies)).toEqual(hour.records);
    expect(requests).toEqual([]);
  });

  it('ignores other event types, containers and accounts, and invalid events, with a warning', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 1 });
    const event = hour.events[0];
    if (!event) throw new Error('no event');
    const cases: [unknown, RegExp][] = [
      [{ ...event, eventType: 'Microsoft.Storage.BlobDeleted' }, /not Microsoft\.Storage\.BlobCreated/],
      [{ ...event, subject: event.subject.replace(containers.flowLogs.containerName, 'other-container') }, /not in FLOWLOG_CONTAINERS/],
      [{ ...event, topic: event.topic.replace(hour.ref.account, 'someotheraccount') }, /not in FLOWLOG_ALLOWED_ACCOUNTS/],
      [{ ...event, data: { ...event.data, contentLength: 'big' } }, /contentLength/],
      [{ hello: 'world' }, /not an Event Grid event/],
      ['a string', /not an Event Grid event/],
    ];
    for (const [input, reason] of cases) {
      const { bodies, logs } = await invoke(input);
      expect(bodies).toEqual([]);
      expect(logs).toHaveLength(1);
      expect(logs[0]?.level).toBe('warning');
      expect(outcomeOf(logs).reason).toMatch(reason);
    }
    expect(await listBlobNames(containers.checkpoints)).toEqual([]);
  });
});

describe('settings', () => {
  it.each([
    ['FLOWLOG_OUTPUT', 'json', /FLOWLOG_OUTPUT .*"records" or "tuples"/],
    ['FLOWLOG_PACKING', 'batch', /FLOWLOG_PACKING .*"envelope" or "single"/],
    ['MAX_EVENT_BYTES', '2000000', /MAX_EVENT_BYTES .*4096 to 1048520/],
    ['FlowLogsStorage', '', /FlowLogsStorage is not set/],
    ['CHECKPOINT_CONTAINER', 'Bad_Name', /CHECKPOINT_CONTAINER .*container name/],
  ])('fails the invocation when %s is %p, naming the setting and the accepted values', async (name, value, message) => {
    process.env[name] = value;
    const hour = await writeHour(containers.flowLogs, { commits: 1 });
    const logs: string[] = [];
    await expect(invoke(hour.events[0]).catch((error: unknown) => {
      logs.push(String(error));
      throw error;
    })).rejects.toThrow(message);
    expect(logs[0]).toMatch(/Accepted:/);
  });
});
