import type { ContainerClient } from '@azure/storage-blob';
import { FlowLogGenerator } from '../../src/dev/flowLogGenerator';
import { NetworkWatcherWriter } from '../../src/dev/networkWatcherWriter';
import type { BlobRef } from '../../src/lib/blobRef';
import { claimRange } from '../../src/lib/claims';
import { FlowLogBlobs, type BlobSnapshot } from '../../src/lib/flowLogBlobs';
import type { CheckpointDoc } from '../../src/lib/checkpoints';
import { readConfig } from '../../src/lib/config';
import { shapeClaim } from '../../src/lib/forward';
import { createRuntime, type Runtime } from '../../src/lib/runtime';
import { writeHour } from '../support/hour';
import { azuriteConnectionString, azuriteService, downloadBlob, listBlobNames, newContainer, refOf, uniqueName } from '../support/storage';

/** Claims against Azurite, looking at the checkpoint documents themselves. */

let flowLogs: ContainerClient;
let runtime: Runtime;
let deadLetters: ContainerClient;

beforeEach(async () => {
  flowLogs = await newContainer('flowlogs');
  deadLetters = azuriteService().getContainerClient(uniqueName('dl'));
  runtime = createRuntime(
    readConfig({
      FlowLogsStorage: azuriteConnectionString(),
      AzureWebJobsStorage: azuriteConnectionString(),
      FLOWLOG_CONTAINERS: flowLogs.containerName,
      CHECKPOINT_CONTAINER: uniqueName('cp'),
      DEAD_LETTER_CONTAINER: deadLetters.containerName,
    }),
  );
});

async function checkpointOf(blobPath: string): Promise<CheckpointDoc> {
  const loaded = await runtime.checkpoints.load(refOf(flowLogs, blobPath));
  if (!loaded) throw new Error('no checkpoint');
  return loaded.doc;
}

it('records contiguous claims per event id, the claimed end and the bytes before it', async () => {
  const hour = await writeHour(flowLogs, { commits: 3 });
  for (const event of hour.events) {
    const outcome = await claimRange({ ref: hour.ref, claimId: event.id, contentLength: event.data.contentLength }, runtime);
    expect(outcome.kind).toBe('claimed');
  }
  const doc = await checkpointOf(hour.ref.blobPath);
  const ends = hour.events.map((event) => event.data.contentLength - 2);
  expect(doc.claims).toEqual({
    [hour.events[0]?.id ?? '']: { start: 0, end: ends[0] },
    [hour.events[1]?.id ?? '']: { start: ends[0], end: ends[1] },
    [hour.events[2]?.id ?? '']: { start: ends[1], end: ends[2] },
  });
  expect(doc.claimedEnd).toBe(ends[2]);
  expect(doc.generation).toBe(1);
  const blob = (await downloadBlob(flowLogs, hour.ref.blobPath)).bytes;
  expect(Buffer.from(doc.tail, 'base64').equals(blob.subarray(doc.claimedEnd - 64, doc.claimedEnd))).toBe(true);
});

it('starts a new generation when the bytes before the claimed end changed, even with the same creation time', async () => {
  const generator = new FlowLogGenerator(3);
  const nic = generator.nic('vnet', 1);
  const path = generator.blobPath(nic, new Date(Date.UTC(2026, 0, 1, 5)));
  const ref = refOf(flowLogs, path);
  const recordA = generator.record(nic, new Date(Date.UTC(2026, 0, 1, 5, 1)), 6);
  const writerA = new NetworkWatcherWriter(flowLogs.getBlockBlobClient(path));
  await writerA.start();
  const commitA = await writerA.append(recordA);
  await claimRange({ ref, claimId: 'a', contentLength: commitA.contentLength }, runtime);

  // Another blob under the same name whose first record has A's length, so `,{` sits at A's claimed end.
  await flowLogs.getBlobClient(path).delete();
  const shorter = JSON.stringify({ ...(JSON.parse(generator.record(nic, new Date(Date.UTC(2026, 0, 1, 5, 2)), 4)) as object), operationName: '' });
  const recordB = shorter.replace('"operationName":""', `"operationName":"${'x'.repeat(recordA.length - shorter.length)}"`);
  expect(recordB.length).toBe(recordA.length);
  const recordC = generator.record(nic, new Date(Date.UTC(2026, 0, 1, 5, 3)), 6);
  const writerB = new NetworkWatcherWriter(flowLogs.getBlockBlobClient(path));
  await writerB.start();
  await writerB.append(recordB);
  const commitC = await writerB.append(recordC);

  // Pretend the blob was recreated within the same second: same creation time in the checkpoint.
  const loaded = await runtime.checkpoints.load(ref);
  const properties = await flowLogs.getBlobClient(path).getProperties();
  if (!loaded) throw new Error('no checkpoint');
  expect(await runtime.checkpoints.save(ref, { ...loaded.doc, createdOn: properties.createdOn?.toISOString() ?? null }, loaded.etag)).toBe(true);

  const outcome = await claimRange({ ref, claimId: 'c', contentLength: commitC.contentLength }, runtime);
  if (outcome.kind !== 'claimed') throw new Error(outcome.kind);
  expect(outcome.generation).toBe(2);
  expect(outcome.records.map((record) => record.bytes.toString())).toEqual([recordB, recordC]);
});

it('sets an unclosed record aside, keeps the records after it, and re-sends the same on redelivery', async () => {
  const unclosed = '{"time":"2026-11-22T10:03:00Z","flowRecords":{"flows":[{"flowGroups":[{"rule":"r","flowTuples":["1,2';
  const hour = await writeHour(flowLogs, { commits: 5, recordAt: (minute, generated) => (minute === 2 ? unclosed : generated) });
  const last = hour.events[4];
  if (!last) throw new Error('no event');
  const request = { ref: hour.ref, claimId: last.id, contentLength: last.data.contentLength };

  const first = await claimRange(request, runtime);
  if (first.kind !== 'claimed') throw new Error(first.kind);
  expect(first.end).toBe(last.data.contentLength - 2);
  const shaped = await shapeClaim(hour.ref, last.id, first, runtime);
  const deadLetterNames = await listBlobNames(deadLetters);

  const again = await claimRange(request, runtime);
  if (again.kind !== 'redelivered') throw new Error(again.kind);
  expect({ start: again.start, end: again.end }).toEqual({ start: first.start, end: first.end });
  const reshaped = await shapeClaim(hour.ref, last.id, again, runtime);
  expect(reshaped).toEqual(shaped);
  expect(shaped.stats.deadLetters).toBe(1);
  expect(shaped.stats.records).toBe(4);
  expect(JSON.parse(shaped.bodies[0] ?? '{}')).toEqual({ records: [0, 1, 3, 4].map((i) => JSON.parse(hour.records[i] ?? '')) });
  expect(deadLetterNames).toHaveLength(1);
});

it('treats event ids that are names of Object.prototype members as any other id', async () => {
  class RecordingBlobs extends FlowLogBlobs {
    readonly reads: [number, number][] = [];
    override read(ref: BlobRef, start: number, end: number): Promise<BlobSnapshot | undefined> {
      this.reads.push([start, end]);
      return super.read(ref, start, end);
    }
  }
  const blobs = new RecordingBlobs(runtime.config.flowLogStorage, runtime.config.allowedAccounts);
  const io = { blobs, checkpoints: runtime.checkpoints };
  const hour = await writeHour(flowLogs, { commits: 2 });
  const [first, second] = hour.events;
  if (!first || !second) throw new Error('no events');
  const claimed = await claimRange({ ref: hour.ref, claimId: 'constructor', contentLength: first.data.contentLength, eTag: first.data.eTag }, io);
  expect(claimed).toMatchObject({ kind: 'claimed', start: 0, end: first.data.contentLength - 2 });
  const again = await claimRange({ ref: hour.ref, claimId: 'hasOwnProperty', contentLength: second.data.contentLength, eTag: second.data.eTag }, io);
  expect(again).toMatchObject({ kind: 'claimed', start: first.data.contentLength - 2, end: second.data.contentLength - 2 });
  // Each claim read only its new bytes (and the 64 before the claimed end): no redelivery read of a prototype member.
  expect(blobs.reads).toEqual([
    [0, first.data.contentLength],
    [first.data.contentLength - 2 - 64, second.data.contentLength],
  ]);
});
