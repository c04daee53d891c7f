import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAmqpPeer } from '../support/amqpPeer';
import { lines, runCli } from '../support/cli';

/**
 * The demo, the project's embedded main job: its own Azurite, simulated NICs, the real handler, a verified
 * summary. Once as a user runs it (`npm run demo`, which builds first), once in this process.
 */

const ROOT = path.resolve(__dirname, '../..');
let out: string;

beforeEach(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'demo-'));
});
afterEach(async () => {
  await rm(out, { recursive: true, force: true });
});

function npmRunDemo(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'demo', '--', ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function runNode(args: readonly string[], stdin?: Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli/main.js'), ...args], { cwd: out, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

interface Summary {
  passed: boolean;
  forwarded: number;
  expected: number;
  missing: number;
  duplicates: number;
  deadLetters: number;
  expectedDeadLetters: number;
  events: number;
}

function summaryOf(stdout: string): Summary {
  const number = (pattern: RegExp): number => Number(pattern.exec(stdout)?.[1] ?? NaN);
  return {
    passed: /flowlog-forwarder demo: PASSED/.test(stdout),
    forwarded: number(/(\d+) forwarded of \d+ expected/),
    expected: number(/\d+ forwarded of (\d+) expected/),
    missing: number(/; (\d+) missing,/),
    duplicates: number(/missing, (\d+) duplicates/),
    deadLetters: number(/dead letters\s+(\d+) \(expected/),
    expectedDeadLetters: number(/dead letters\s+\d+ \(expected (\d+):/),
    events: number(/events\s+(\d+) \(/),
  };
}

describe('demo', () => {
  it('npm run demo -- --out DIR builds, runs and exits 0 with PASSED', async () => {
    const run = await npmRunDemo(['--out', out]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary).toMatchObject({ passed: true, missing: 0, duplicates: 0, deadLetters: 1, expectedDeadLetters: 1 });
    expect(summary.forwarded).toBe(summary.expected);
    expect(lines(await readFile(path.join(out, 'events.ndjson'), 'utf8'))).toHaveLength(summary.events);
  }, 120_000);

  it('the built executable (npm run demo built it) sets the process exit code and reads piped standard input', async () => {
    expect(await runNode(['--help'])).toMatchObject({ code: 0, stderr: '' });
    expect(await runNode(['frobnicate'])).toMatchObject({ code: 2, stdout: '' });
    const unknown = await runNode(['convert', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^convert: Unknown option '--bogus'\./);
    const missing = await runNode(['convert', path.join(out, 'missing.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`convert failed: ENOENT: no such file or directory, open '${path.join(out, 'missing.json')}'\n`);
    const fixture = await readFile(path.join(ROOT, 'fixtures/vnet-sample.PT1H.json'));
    const piped = await runNode(['convert', '-', '--output', 'tuples', '--packing', 'single'], fixture);
    const inProcess = await runCli(['convert', '-', '--output', 'tuples', '--packing', 'single'], { stdin: fixture });
    expect(piped).toEqual({ code: 0, stdout: inProcess.stdout, stderr: inProcess.stderr });
    expect(lines(piped.stdout).length).toBeGreaterThan(0);
  });

  it('runs in-process with --output tuples --packing single: nothing missing or duplicated, one dead letter, valid bodies', async () => {
    const run = await runCli(['demo', '--out', out, '--output', 'tuples', '--packing', 'single'], { env: {} });
    expect(run.code).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary).toMatchObject({ passed: true, missing: 0, duplicates: 0, deadLetters: 1, expectedDeadLetters: 1 });
    expect(summary.forwarded).toBe(summary.expected);
    expect(summary.expected).toBeGreaterThan(0);
    const bodies = lines(await readFile(path.join(out, 'events.ndjson'), 'utf8'));
    // tuples + single: one tuple per event, each one forwarded tuple.
    expect(bodies).toHaveLength(summary.forwarded);
    expect(summary.events).toBe(bodies.length);
    const ids = new Set<string>();
    for (const body of bodies) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1_000_000);
      const tuple = JSON.parse(body) as { id: string; srcIP: string; macAddress: string };
      expect(typeof tuple.srcIP).toBe('string');
      ids.add(tuple.id);
    }
    expect(ids.size).toBe(bodies.length);
  }, 60_000);

  it('sends the same bodies to an Event Hub given with --event-hub-connection / --event-hub-name, keyed by MAC', async () => {
    const peer = await startAmqpPeer({ hubName: 'demo' });
    try {
      const run = await runCli(['demo', '--out', out, '--minutes', '4', '--event-hub-connection', peer.connectionString(), '--event-hub-name', 'demo', '--send-retries', '1'], { env: {} });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('-> Event Hub and ');
      const bodies = lines(await readFile(path.join(out, 'events.ndjson'), 'utf8'));
      const sent = peer.batches.flatMap((batch) => batch.events.map((event) => event.body.toString('utf8')));
      expect(sent.sort()).toEqual([...bodies].sort());
      for (const batch of peer.batches) {
        const macs = new Set((JSON.parse(batch.events[0]?.body.toString('utf8') ?? '{}') as { records: { macAddress?: string }[] }).records.map((record) => record.macAddress));
        expect(macs.size).toBe(1);
        expect(batch.partitionKey).toBe([...macs][0]);
      }
    } finally {
      await peer.close();
    }
  }, 60_000);

  it('honours MAX_EVENT_BYTES in the bodies it writes', async () => {
    const run = await runCli(['demo', '--out', out, '--minutes', '4', '--tuples', '200', '--max-event-bytes', '8000'], { env: {} });
    expect(run.code).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ passed: true, missing: 0, duplicates: 0, deadLetters: 1 });
    const bodies = lines(await readFile(path.join(out, 'events.ndjson'), 'utf8'));
    for (const body of bodies) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8000);
      expect(() => JSON.parse(body) as unknown).not.toThrow();
    }
  }, 60_000);
});
