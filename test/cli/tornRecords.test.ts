import { blobName } from '../../src/lib/blobRef';
import { appendCommit, runCli, truncated, writeFlowLogBlob } from '../support/cli';
import { invoke, recordsOf } from '../support/hour';
import { downloadBlob, listBlobNames, useForwarderEnvironment } from '../support/storage';

/**
 * Torn (malformed) records, through convert and the function, which share src/lib's framing and claims:
 * each is set aside as exactly its own bytes, and every good record around it is forwarded once.
 */

const containers = useForwarderEnvironment();
const HOUR = new Date(Date.UTC(2025, 2, 4, 10));

/** A record cut right after `"flowLogVersion":4`: its braces are one short, and no string is left open. */
function tornBeforeFlowRecords(record: string): string {
  return record.slice(0, record.indexOf(',"flowLogGUID"'));
}

describe('a record torn outside a string, last in the blob', () => {
  it('the next commit forwards exactly its new record', async () => {
    const blob = await writeFlowLogBlob(containers.flowLogs, { nic: 51, hour: HOUR, commits: 3, tuplesPerRecord: 3, recordAt: (minute, record) => (minute === 2 ? tornBeforeFlowRecords(record) : record) });
    for (const event of blob.events) await invoke(event);
    const added = await appendCommit(containers.flowLogs, blob, 8);
    expect(recordsOf((await invoke(added.event)).bodies)).toEqual([added.record]);
  });

  it('convert sets it aside as exactly its own bytes', async () => {
    const blob = await writeFlowLogBlob(containers.flowLogs, { nic: 52, hour: HOUR, commits: 3, tuplesPerRecord: 3, recordAt: (minute, record) => (minute === 2 ? tornBeforeFlowRecords(record) : record) });
    const { bytes } = await downloadBlob(containers.flowLogs, blob.ref.blobPath);
    const start = bytes.length - 2 - Buffer.byteLength(blob.records[2] ?? '');
    const run = await runCli(['convert', '-', '--source', blobName(blob.ref)], { stdin: bytes });
    expect(run.stderr.split('\n').filter((line) => line.startsWith('dead letter')).map((line) => /^dead letter \[(\d+), (\d+)\)/.exec(line)?.slice(1).map(Number))).toEqual([[start, bytes.length - 2]]);
  });
});

describe('two torn records in one claim', () => {
  it('the good records between and after them are still forwarded', async () => {
    const blob = await writeFlowLogBlob(containers.flowLogs, { nic: 53, hour: HOUR, commits: 6, tuplesPerRecord: 3, recordAt: (minute, record) => (minute === 2 || minute === 4 ? truncated(record) : record) });
    const { bodies } = await invoke(blob.events.at(-1));
    expect(recordsOf(bodies)).toEqual([0, 1, 3, 5].map((i) => blob.records[i]));
  });
});

describe('a torn record whose events arrive after the whole hour is written', () => {
  it('each later record is forwarded by its own event, and the torn one is set aside once', async () => {
    const blob = await writeFlowLogBlob(containers.flowLogs, { nic: 54, hour: HOUR, commits: 5, tuplesPerRecord: 3, recordAt: (minute, record) => (minute === 2 ? truncated(record) : record) });
    const perEvent: string[][] = [];
    for (const event of blob.events) perEvent.push(recordsOf((await invoke(event)).bodies));
    // Event 2 cannot tell its torn record from one still being written; event 3 sees the next record start.
    expect(perEvent).toEqual([[blob.records[0]], [blob.records[1]], [], [blob.records[3]], [blob.records[4]]]);
    const deadLetters = await listBlobNames(containers.deadLetters);
    expect(deadLetters).toHaveLength(1);
    expect((await containers.deadLetters.getBlobClient(deadLetters[0] ?? '').downloadToBuffer()).toString()).toBe(blob.records[2]);
  });
});
