import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { main } from '../../src/cli/main';
import { blobName } from '../../src/lib/blobRef';
import { lines, runCli, truncated, writeFlowLogBlob, type WrittenBlob } from '../support/cli';
import { invoke, recordsOf } from '../support/hour';
import { azuriteService, downloadBlob, listBlobNames, uniqueName, useForwarderEnvironment } from '../support/storage';

/**
 * `convert` on a downloaded PT1H.json gives, line for line, the bodies the function returns for the blob's
 * last BlobCreated event on a fresh checkpoint, in every output and packing mode, and sets aside the same
 * input with the same byte ranges and reasons.
 */

const containers = useForwarderEnvironment();
const HOUR = new Date(Date.UTC(2026, 10, 22, 10));
const MODES = [
  ['records', 'envelope'],
  ['records', 'single'],
  ['tuples', 'envelope'],
  ['tuples', 'single'],
] as const;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'convert-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface DeadLetter {
  start: number;
  end: number;
  reason: string;
  bytes: Buffer;
}

interface HandlerRun {
  bodies: string[];
  deadLetters: DeadLetter[];
}

/** The handler's answer to the blob's last event on a fresh checkpoint, with the dead letters it wrote. */
async function handlerRun(blob: WrittenBlob, settings: Record<string, string>): Promise<HandlerRun> {
  const deadLetterContainer = azuriteService().getContainerClient(uniqueName('dl'));
  const saved = process.env;
  process.env = { ...saved, CHECKPOINT_CONTAINER: uniqueName('cp'), DEAD_LETTER_CONTAINER: deadLetterContainer.containerName, ...settings };
  try {
    const last = blob.events[blob.events.length - 1];
    const { bodies } = await invoke(last);
    return { bodies, deadLetters: await deadLettersIn(deadLetterContainer) };
  } finally {
    process.env = saved;
  }
}

async function deadLettersIn(container: ContainerClient): Promise<DeadLetter[]> {
  const found: DeadLetter[] = [];
  for (const name of await listBlobNames(container)) {
    const { bytes, metadata } = await downloadBlob(container, name);
    found.push({ start: Number(metadata.rangestart), end: Number(metadata.rangeend), reason: metadata.reason ?? '', bytes });
  }
  return found.sort((a, b) => a.start - b.start);
}

async function blobFile(blob: WrittenBlob): Promise<{ file: string; bytes: Buffer }> {
  const { bytes } = await downloadBlob(containers.flowLogs, blob.ref.blobPath);
  const file = path.join(dir, `${uniqueName('PT1H')}.json`);
  await writeFile(file, bytes);
  return { file, bytes };
}

/** VNet, 12 commits, the 6th record torn in half. */
function vnetBlob(): Promise<WrittenBlob> {
  return writeFlowLogBlob(containers.flowLogs, { kind: 'vnet', nic: 11, hour: HOUR, commits: 12, tuplesPerRecord: 30, recordAt: (minute, record) => (minute === 5 ? truncated(record) : record) });
}

/** NSG v2, 9 commits, the 4th record valid JSON but not a flow-log record. */
function nsgBlob(): Promise<WrittenBlob> {
  return writeFlowLogBlob(containers.flowLogs, {
    kind: 'nsg',
    nic: 12,
    hour: HOUR,
    commits: 9,
    tuplesPerRecord: 25,
    recordAt: (minute, record) => (minute === 3 ? '{"time":"2026-11-22T10:04:00.0000000Z","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":2}}' : record),
  });
}

/** VNet with records far larger than 4096 bytes (split by tuples) and one with a tuple of 12 fields. */
function largeBlob(): Promise<WrittenBlob> {
  return writeFlowLogBlob(containers.flowLogs, {
    kind: 'vnet',
    nic: 13,
    hour: HOUR,
    commits: 5,
    tuplesPerRecord: (minute) => (minute % 2 === 0 ? 150 : 10),
    recordAt: (minute, record) => (minute === 1 ? record.replace(/(,NX,[^,"]*,[^,"]*,[^,"]*),[^,"]*"/, '$1"') : record),
  });
}

/** VNet, 6 commits, the last record torn. */
function tornLastBlob(): Promise<WrittenBlob> {
  return writeFlowLogBlob(containers.flowLogs, { kind: 'vnet', nic: 14, hour: HOUR, commits: 6, tuplesPerRecord: 12, recordAt: (minute, record) => (minute === 5 ? truncated(record) : record) });
}

const FOREIGN = '{"rec0rds":[{"time":"2026-11-22T10:01:00Z"}]}';
const NOT_A_DOCUMENT = 'not a flow log document ({"records":[...]})';

/** A blob in the flow-log container that is not a flow-log document, with its BlobCreated event. */
async function foreignDocument(): Promise<WrittenBlob> {
  const blob = await writeFlowLogBlob(containers.flowLogs, { kind: 'vnet', nic: 15, hour: HOUR, commits: 1 });
  const client = containers.flowLogs.getBlockBlobClient(blob.ref.blobPath);
  await client.upload(FOREIGN, FOREIGN.length);
  const last = blob.events[0];
  if (!last) throw new Error('no event');
  blob.events = [{ ...last, id: randomUUID(), data: { ...last.data, contentLength: FOREIGN.length } }];
  return blob;
}

const BLOBS: [string, () => Promise<WrittenBlob>][] = [
  ['VNet flow logs with a torn record', vnetBlob],
  ['NSG flow logs with a record that fails the schema', nsgBlob],
  ['VNet flow logs with records larger than an event and a malformed tuple', largeBlob],
  ['VNet flow logs whose last record is torn', tornLastBlob],
];

describe.each(BLOBS)('convert of %s', (_name, write) => {
  it.each(MODES)('equals the handler output line for line: %s + %s', async (output, packing) => {
    const blob = await write();
    const { file } = await blobFile(blob);
    for (const maxEventBytes of ['1000000', '4096']) {
      const expected = await handlerRun(blob, { FLOWLOG_OUTPUT: output, FLOWLOG_PACKING: packing, MAX_EVENT_BYTES: maxEventBytes });
      const run = await runCli(['convert', file, '--source', blobName(blob.ref), '--output', output, '--packing', packing, '--max-event-bytes', maxEventBytes]);
      expect(run.code).toBe(0);
      expect(lines(run.stdout)).toEqual(expected.bodies);
      expect(run.stderr.split('\n').filter((line) => line.startsWith('dead letter '))).toEqual(expected.deadLetters.map((item) => `dead letter [${item.start}, ${item.end}): ${item.reason}`));
      expect(expected.bodies.length).toBeGreaterThan(0);
      expect(expected.deadLetters.length).toBeGreaterThan(0);
      for (const line of lines(run.stdout)) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(Number(maxEventBytes));
    }
  });

  it('reports the dead letters on stderr with the byte ranges and reasons the function records', async () => {
    const blob = await write();
    const { file } = await blobFile(blob);
    const expected = await handlerRun(blob, {});
    const run = await runCli(['convert', file, '--source', blobName(blob.ref)]);
    expect(run.code).toBe(0);
    const reported = run.stderr.split('\n').filter((line) => line.startsWith('dead letter '));
    expect(reported).toEqual(expected.deadLetters.map((item) => `dead letter [${item.start}, ${item.end}): ${item.reason}`));
    const bodies = lines(run.stdout);
    const bytesOut = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
    expect(run.stderr).toContain(`-> ${bodies.length} events (${bytesOut} bytes), ${expected.deadLetters.length} dead letters\n`);
  });

  it('writes the dead letters to --dead-letter FILE as JSON lines holding exactly the blob bytes of their range', async () => {
    const blob = await write();
    const { file, bytes } = await blobFile(blob);
    const expected = await handlerRun(blob, {});
    const deadLetterFile = path.join(dir, `${uniqueName('dl')}.jsonl`);
    const run = await runCli(['convert', file, '--source', blobName(blob.ref), '--dead-letter', deadLetterFile]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('dead letter [');
    const written = lines(await readFile(deadLetterFile, 'utf8')).map((line) => JSON.parse(line) as { start: number; end: number; reason: string; base64: string });
    expect(written.map(({ start, end, reason }) => ({ start, end, reason }))).toEqual(expected.deadLetters.map(({ start, end, reason }) => ({ start, end, reason })));
    for (const [i, item] of written.entries()) {
      const content = Buffer.from(item.base64, 'base64');
      expect(content.equals(bytes.subarray(item.start, item.end))).toBe(true);
      expect(content.equals(expected.deadLetters[i]?.bytes ?? Buffer.alloc(0))).toBe(true);
    }
  });
});

describe('convert input and limits', () => {
  it('reads standard input (- or no FILE), in any chunking, with the same output as the file', async () => {
    const blob = await vnetBlob();
    const { file, bytes } = await blobFile(blob);
    const args = ['--source', blobName(blob.ref), '--output', 'tuples', '--packing', 'envelope', '--max-event-bytes', '8192'];
    const fromFile = await runCli(['convert', file, ...args]);
    expect(fromFile.code).toBe(0);
    for (const [argv, chunk] of [
      [['convert', '-', ...args], 1],
      [['convert', '-', ...args], 777],
      [['convert', ...args], 1 << 20],
    ] as const) {
      const fromStdin = await runCli(argv, { stdin: bytes, stdinChunk: chunk });
      expect(fromStdin.code).toBe(0);
      expect(fromStdin.stdout).toEqual(fromFile.stdout);
      expect(fromStdin.stderr).toEqual(fromFile.stderr);
    }
  });

  it('honours --max-event-bytes: no body over the limit, large records split into records that keep every tuple once', async () => {
    const blob = await largeBlob();
    const { file } = await blobFile(blob);
    const run = await runCli(['convert', file, '--max-event-bytes', '4096', '--packing', 'single']);
    expect(run.code).toBe(0);
    const bodies = lines(run.stdout);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(4096);
    const parts = bodies.map((body) => JSON.parse(body) as { time: string; flowRecords: { flows: { flowGroups: { flowTuples: string[] }[] }[] } });
    const tuplesOf = (records: { flowRecords: { flows: { flowGroups: { flowTuples: string[] }[] }[] } }[]): string[] =>
      records.flatMap((record) => record.flowRecords.flows.flatMap((flow) => flow.flowGroups.flatMap((group) => group.flowTuples))).sort();
    // Every well-formed tuple of the written records arrives exactly once (the 12-field tuple is dead-lettered).
    const written = blob.records.map((record) => JSON.parse(record) as Parameters<typeof tuplesOf>[0][number]);
    const wellFormed = tuplesOf(written).filter((tuple) => tuple.split(',').length === 13);
    expect(tuplesOf(parts)).toEqual(wellFormed);
    expect(bodies.length).toBeGreaterThan(blob.records.length);
    expect(new Set(parts.map((part) => part.time)).size).toBe(blob.records.length);
    expect(run.stderr).toMatch(/^dead letter \[\d+, \d+\): tuple 0 of the record at offset \d+: expected 13 fields, found 12$/m);
  });

  it('fails with exit 1 and the reason when --dead-letter FILE cannot be written', async () => {
    const blob = await nsgBlob();
    const { file } = await blobFile(blob);
    const target = path.join(dir, 'no-such-dir', 'dead.jsonl');
    const run = await runCli(['convert', file, '--dead-letter', target]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^convert failed: (Error: )?ENOENT: no such file or directory, open '${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`));
    expect(run.stdout).toBe('');
  });

  it('streams: while standard output does not drain, it stops reading its input', async () => {
    const record = (await vnetBlob()).goodRecords[0] ?? '';
    let pulled = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    let records = 0;
    const stdin = new Readable({
      read() {
        if (pulled === 0) {
          pulled += 12;
          this.push('{"records":[');
        }
        if (pulled >= stopAt) {
          this.push(']}');
          this.push(null);
          return;
        }
        const chunk = Buffer.from(`${records++ === 0 ? '' : ','}${record}`);
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    const held: (() => void)[] = [];
    let flowing = false;
    let written = 0;
    const stdout = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (flowing) callback();
        else held.push(() => callback());
      },
    });
    const stderr = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const done = main(['convert', '-'], { env: {}, stdin, stdout, stderr, cwd: dir });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One envelope (up to MAX_EVENT_BYTES, 1 MB) is written and waits; the input read is bounded by it.
    expect(written).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(3_000_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pulledWhileBlocked = pulled;
    expect(pulledWhileBlocked).toBeLessThan(3_000_000);
    stopAt = pulled + 2_000_000;
    flowing = true;
    for (const release of held.splice(0)) release();
    await expect(done).resolves.toBe(0);
    expect(pulled).toBeGreaterThan(pulledWhileBlocked);
  });

  it('takes the shaping settings from the environment, flags overriding them', async () => {
    const blob = await nsgBlob();
    const { file } = await blobFile(blob);
    const fromEnv = await runCli(['convert', file], { env: { FLOWLOG_OUTPUT: 'tuples', FLOWLOG_PACKING: 'single' } });
    const fromFlags = await runCli(['convert', file, '--output', 'tuples', '--packing', 'single']);
    expect(fromEnv.stdout).toEqual(fromFlags.stdout);
    expect(lines(fromEnv.stdout).length).toBe(8 * 25);
    const overridden = await runCli(['convert', file, '--output', 'records'], { env: { FLOWLOG_OUTPUT: 'tuples', FLOWLOG_PACKING: 'single' } });
    expect(recordsOf(lines(overridden.stdout), 'single')).toEqual(blob.goodRecords);
  });

  it('sets aside input that is not a flow-log document whole, [0, length), as the function does', async () => {
    const blob = await foreignDocument();
    const { bytes } = await blobFile(blob);
    const expected = await handlerRun(blob, {});
    expect(expected.bodies).toEqual([]);
    expect(expected.deadLetters.map(({ start, end, reason }) => ({ start, end, reason }))).toEqual([{ start: 0, end: bytes.length, reason: NOT_A_DOCUMENT }]);
    const run = await runCli(['convert', '-', '--source', blobName(blob.ref)], { stdin: bytes });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`dead letter [0, ${bytes.length}): ${NOT_A_DOCUMENT}\n`);
  });

  it('sets aside input that is not a flow-log document whole when it arrives in small chunks', async () => {
    const bytes = Buffer.from(FOREIGN);
    const deadLetterFile = path.join(dir, `${uniqueName('dl')}.jsonl`);
    const run = await runCli(['convert', '-', '--dead-letter', deadLetterFile], { stdin: bytes, stdinChunk: 3 });
    expect(run.code).toBe(0);
    const written = lines(await readFile(deadLetterFile, 'utf8')).map((line) => JSON.parse(line) as { start: number; end: number; base64: string });
    expect(written.map(({ start, end, base64 }) => [start, end, Buffer.from(base64, 'base64').toString()])).toEqual([[0, bytes.length, FOREIGN]]);
  });
});
