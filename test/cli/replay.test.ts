import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { CheckpointDoc } from '../../src/lib/checkpoints';
import { startAmqpPeer, type AmqpPeer } from '../support/amqpPeer';
import { appendCommit, runCli, writeFlowLogBlob, type WrittenBlob } from '../support/cli';
import { invoke } from '../support/hour';
import { azuriteService, downloadBlob, listBlobNames, uniqueName, useForwarderEnvironment } from '../support/storage';

/**
 * `replay` of Event Grid dead-letter blobs (JSON arrays of BlobCreated events with deadLetterReason) through
 * the function's claims: a claimed-but-unsent event is re-sent exactly, an unclaimed one claims now, and
 * each dead-letter blob is marked so that a second replay sends nothing.
 */

const containers = useForwarderEnvironment();
const HOUR = new Date(Date.UTC(2025, 2, 4, 10));
const FAST_RETRIES = ['--send-retries', '2', '--send-retry-delay-ms', '20'];

let peer: AmqpPeer;
let eventGridDeadLetters: ContainerClient;

beforeAll(async () => {
  peer = await startAmqpPeer({ hubName: 'flowlogs', maxMessageSize: 256 * 1024 });
});
beforeEach(async () => {
  peer.reset();
  eventGridDeadLetters = azuriteService().getContainerClient(uniqueName('egdl'));
  await eventGridDeadLetters.create();
});
afterAll(async () => {
  await peer.close();
  expect(peer.errors).toEqual([]);
});

function cliEnv(hubName = peer.hubName): Record<string, string | undefined> {
  return { ...process.env, EventHubConnection: peer.connectionString(hubName), EVENTHUB_NAME: hubName };
}

/** What Event Grid writes after giving up on a delivery. */
function deadLettered(event: object | undefined): Record<string, unknown> {
  if (event === undefined) throw new Error('no event');
  return {
    ...event,
    deadLetterReason: 'MaxDeliveryAttemptsExceeded',
    deliveryAttempts: 30,
    lastDeliveryOutcome: 'Probation',
    lastHttpStatusCode: 0,
    publishTime: '2025-03-04T10:07:01.0000000Z',
    lastDeliveryAttemptTime: '2025-03-05T10:07:01.0000000Z',
  };
}

async function writeDeadLetterBlob(events: readonly Record<string, unknown>[]): Promise<string> {
  const name = `evgt-flowlogs/to-func-flowfwd/2025/3/5/10/${randomUUID()}.json`;
  const text = JSON.stringify(events);
  await eventGridDeadLetters.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
  return name;
}

function received(): { body: string; partitionKey: string | undefined }[] {
  return peer.batches.flatMap((batch) => batch.events.map((event) => ({ body: event.body.toString('utf8'), partitionKey: batch.partitionKey })));
}

function envelope(...records: string[]): string {
  return `{"records":[${records.join(',')}]}`;
}

interface Scenario {
  vnet: WrittenBlob;
  nsg: WrittenBlob;
  /** The bodies the handler returned for the claimed-but-unsent events, which the host never sent. */
  lostVnet: string[];
  lostNsg: string[];
  blobNames: string[];
  foreign: Record<string, unknown>;
}

/**
 * VNet blob: events 0-1 delivered and sent, event 2 claimed but its send failed, events 3-5 never delivered.
 * NSG blob: event 0 claimed but not sent, events 1-2 never delivered. Event Grid dead-lettered the failures
 * into two blobs, one of which also holds an event of a container the forwarder does not handle.
 */
async function scenario(): Promise<Scenario> {
  const nsgContainer = azuriteService().getContainerClient(uniqueName('nsg'));
  await nsgContainer.create();
  process.env.FLOWLOG_CONTAINERS = `${containers.flowLogs.containerName},${nsgContainer.containerName}`;
  const vnet = await writeFlowLogBlob(containers.flowLogs, { kind: 'vnet', nic: 41, hour: HOUR, commits: 6, tuplesPerRecord: 20 });
  const nsg = await writeFlowLogBlob(nsgContainer, { kind: 'nsg', nic: 42, hour: HOUR, commits: 3, tuplesPerRecord: 20 });
  for (const event of vnet.events.slice(0, 2)) await invoke(event);
  const lostVnet = (await invoke(vnet.events[2])).bodies;
  const lostNsg = (await invoke(nsg.events[0])).bodies;
  const first = vnet.events[0];
  if (!first) throw new Error('no event');
  const foreign = { ...first, id: randomUUID(), subject: first.subject.replace(containers.flowLogs.containerName, 'other-container') };
  const blobNames = [
    await writeDeadLetterBlob([vnet.events[2], vnet.events[3], foreign, vnet.events[4], vnet.events[5]].map(deadLettered)),
    await writeDeadLetterBlob([nsg.events[0], nsg.events[1], nsg.events[2]].map(deadLettered)),
  ];
  return { vnet, nsg, lostVnet, lostNsg, blobNames, foreign };
}

async function checkpointDocs(): Promise<CheckpointDoc[]> {
  const docs: CheckpointDoc[] = [];
  for (const name of await listBlobNames(containers.checkpoints)) docs.push(JSON.parse((await downloadBlob(containers.checkpoints, name)).bytes.toString('utf8')) as CheckpointDoc);
  return docs;
}

describe('replay', () => {
  it('re-sends claimed events exactly, claims the others now, reports ignored events, and a second replay sends nothing', async () => {
    const s = await scenario();
    expect(s.lostVnet).toEqual([envelope(s.vnet.records[2] ?? '')]);
    const run = await runCli(['replay', '--container', eventGridDeadLetters.containerName, ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(0);

    const arrived = received();
    const byKey = (mac: string): string[] => arrived.filter((item) => item.partitionKey === mac).map((item) => item.body);
    expect(byKey(s.vnet.mac)).toEqual([...s.lostVnet, ...s.vnet.records.slice(3).map((record) => envelope(record))]);
    expect(byKey(s.nsg.mac)).toEqual([...s.lostNsg, ...s.nsg.records.slice(1).map((record) => envelope(record))]);
    expect(arrived).toHaveLength(4 + 3);
    expect(run.stderr).toBe(`replay: ${s.blobNames[0]} event 2 ignored: container other-container is not in FLOWLOG_CONTAINERS\n`);
    expect(run.stdout).toMatch(/^replay: 2 blobs, [\d.]+ KB claimed, 7 records, 140 tuples -> 7 events \([\d.]+ KB\) in 7 batches, 0 dead letters, \d+s; 1 events ignored, 0 blobs unreadable, 0 dead-letter blobs replayed before\n$/);

    // Every claim is settled, and the claims cover each blob up to its last event.
    for (const doc of await checkpointDocs()) {
      expect(Object.values(doc.claims).filter((claim) => claim.pending)).toEqual([]);
      const blob = doc.blob.endsWith(s.vnet.ref.blobPath) ? s.vnet : s.nsg;
      expect(doc.claimedEnd).toBe((blob.events.at(-1)?.data.contentLength ?? 0) - 2);
    }
    // The dead-letter blobs are marked as replayed.
    for (const [i, name] of s.blobNames.entries()) {
      const { metadata } = await downloadBlob(eventGridDeadLetters, name);
      expect(metadata.replayedevents).toBe(String([5, 3][i]));
      expect(Number.isNaN(Date.parse(metadata.replayedat ?? ''))).toBe(false);
    }

    peer.reset();
    const again = await runCli(['replay', '--container', eventGridDeadLetters.containerName, ...FAST_RETRIES], { env: cliEnv() });
    expect(again.code).toBe(0);
    expect(peer.batches).toEqual([]);
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(/^replay: 0 blobs, 0 B claimed, 0 records, 0 tuples -> 0 events \(0 B\) in 0 batches, 0 dead letters, \d+s; 0 events ignored, 0 blobs unreadable, 2 dead-letter blobs replayed before\n$/);

    // Replay claimed under the event ids: a late delivery of one is a redelivery of that claim, and a new
    // commit's event brings only the new record.
    expect((await invoke(s.vnet.events[3])).bodies).toEqual([envelope(s.vnet.records[3] ?? '')]);
    const added = await appendCommit(containers.flowLogs, s.vnet, 6);
    expect((await invoke(added.event)).bodies).toEqual([envelope(added.record)]);
  });

  it('resumes a replay whose send failed where it stopped: every record arrives once', async () => {
    const s = await scenario();
    const failed = await runCli(['replay', '--container', eventGridDeadLetters.containerName, ...FAST_RETRIES], { env: cliEnv('nohub') });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^replay failed: sending to Event Hubs failed: .*nohub/m);
    expect(peer.batches).toEqual([]);

    const retried = await runCli(['replay', '--container', eventGridDeadLetters.containerName, ...FAST_RETRIES], { env: cliEnv() });
    expect(retried.code).toBe(0);
    const bodies = received().map((item) => item.body);
    expect(bodies.sort()).toEqual(
      [...s.lostVnet, ...s.vnet.records.slice(3).map((record) => envelope(record)), ...s.lostNsg, ...s.nsg.records.slice(1).map((record) => envelope(record))].sort(),
    );
    for (const doc of await checkpointDocs()) expect(Object.values(doc.claims).filter((claim) => claim.pending)).toEqual([]);
  });

  it('leaves a dead-letter blob that is not a JSON array of events unmarked, replays the others, and exits 1', async () => {
    const s = await scenario();
    await eventGridDeadLetters.getBlockBlobClient('broken.json').upload('{"not":"an array"}', 18);
    const run = await runCli(['replay', '--container', eventGridDeadLetters.containerName, ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('replay: dead-letter blob broken.json is not a JSON array of Event Grid events; left unmarked\n');
    expect(run.stdout).toMatch(/; 1 events ignored, 1 blobs unreadable, 0 dead-letter blobs replayed before\n$/);
    expect(received()).toHaveLength(7);
    expect((await eventGridDeadLetters.getBlobClient('broken.json').getProperties()).metadata).toEqual({});
    for (const name of s.blobNames) expect((await eventGridDeadLetters.getBlobClient(name).getProperties()).metadata?.replayedat).toBeDefined();
  });

  it('exits 2 naming the container when the dead-letter container does not exist', async () => {
    const run = await runCli(['replay', '--container', 'no-such-container', ...FAST_RETRIES], { env: cliEnv() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('replay: container no-such-container does not exist');
  });
});
