import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { timeOption } from '../../src/cli/args';
import { runCli } from '../support/cli';
import { azuriteConnectionString, uniqueName } from '../support/storage';

/** --help on every command, and exit codes: 0 ok, 1 failure, 2 bad command line or setting. */

const SHAPING = ['--output', '--packing', '--max-event-bytes'];
const STORAGE = ['--flow-logs-storage', '--app-storage', '--checkpoint-container', '--dead-letter-container'];
const EVENT_HUB = ['--event-hub-connection', '--event-hub-namespace', '--event-hub-name', '--send-retries', '--send-retry-delay-ms'];

const HELP: [string, string[]][] = [
  ['convert', ['--source', '--dead-letter', ...SHAPING]],
  ['backfill', ['--since', '--until', '--container', '--account', '--concurrency', '--dry-run', ...STORAGE, ...EVENT_HUB, ...SHAPING]],
  ['replay', ['--container', ...STORAGE, ...EVENT_HUB, ...SHAPING]],
  ['simulate', ['--nics', '--kind', '--minutes', '--tuples', '--interval-ms', '--seed', '--hour', '--deliver', '--webhook', ...STORAGE, ...EVENT_HUB, ...SHAPING]],
  ['demo', ['--out', '--nics', '--minutes', '--tuples', '--seed', ...EVENT_HUB, ...SHAPING]],
];

const STORAGE_ENV = { FlowLogsStorage: azuriteConnectionString(), AzureWebJobsStorage: azuriteConnectionString() };

describe('--help', () => {
  it.each(HELP)('%s --help exits 0 and lists every option', async (command, options) => {
    for (const flag of ['--help', '-h']) {
      const run = await runCli([command, flag]);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(new RegExp(`^Usage: flowlog-forwarder ${command} `));
      const listed = [...run.stdout.matchAll(/^ {2}(?:-\w, | {4})(--[a-z-]+)/gm)].map((match) => match[1]);
      expect(listed.sort()).toEqual([...options, '--help'].sort());
    }
  });

  it('lists the commands with no command (exit 2) and with --help or help (exit 0)', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const run = await runCli(argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(none.stdout);
    }
    expect([...none.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((match) => match[1])).toEqual(['convert', 'backfill', 'replay', 'simulate', 'demo']);
  });
});

describe('exit code 2: the command line or a setting is wrong', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown command', ['frobnicate'], {}, /^flowlog-forwarder: unknown command "frobnicate"/],
    ['an unknown option', ['convert', '--bogus'], {}, /^convert: .*Unknown option '--bogus'/],
    ['an unknown short option', ['backfill', '--since', '-1d', '-z'], {}, /^backfill: .*Unknown option '-z'/],
    ['--since yesterday', ['backfill', '--since', 'yesterday'], STORAGE_ENV, /--since must be an ISO 8601 time .* not "yesterday"/],
    ['--until before --since', ['backfill', '--since', '2025-03-04', '--until', '2025-03-03'], STORAGE_ENV, /--until must be later than --since/],
    ['backfill without --since', ['backfill'], STORAGE_ENV, /--since is required/],
    ['an --account not allowed', ['backfill', '--since', '-1d', '--account', 'someoneelse'], STORAGE_ENV, /--account someoneelse is not in FLOWLOG_ALLOWED_ACCOUNTS \(devstoreaccount1\)/],
    ['--concurrency 0', ['backfill', '--since', '-1d', '--concurrency', '0'], STORAGE_ENV, /--concurrency must be a whole number from 1 to 64 \(got "0"\)/],
    ['--send-retries -1', ['backfill', '--since', '-1d', '--send-retries', '-1'], STORAGE_ENV, /--send-retries must be a whole number from 0 to 100 \(got "-1"\)/],
    ['--output json', ['convert', '--output', 'json'], {}, /Setting FLOWLOG_OUTPUT has an unsupported value \("json"\)\. Accepted: "records" or "tuples"/],
    ['--packing envelopes', ['convert', '--packing', 'envelopes'], {}, /Setting FLOWLOG_PACKING has an unsupported value \("envelopes"\)/],
    ['--max-event-bytes 100', ['convert', '--max-event-bytes', '100'], {}, /Setting MAX_EVENT_BYTES is out of range \("100"\)/],
    ['FLOWLOG_OUTPUT=json in the environment', ['convert'], { FLOWLOG_OUTPUT: 'json' }, /FLOWLOG_OUTPUT/],
    ['two input files', ['convert', 'a.json', 'b.json'], {}, /convert: give at most one FILE/],
    ['--nics 0', ['simulate', '--nics', '0'], {}, /--nics must be a whole number from 1 to 1000 \(got "0"\)/],
    ['--kind vpc', ['simulate', '--kind', 'vpc'], {}, /--kind must be vnet or nsg, not "vpc"/],
    ['--deliver pigeon', ['simulate', '--deliver', 'pigeon'], {}, /--deliver must be none, inprocess or webhook, not "pigeon"/],
    ['simulate --output json, even with nothing to shape', ['simulate', '--output', 'json', '--deliver', 'none'], {}, /FLOWLOG_OUTPUT/],
    ['demo --minutes 1', ['demo', '--minutes', '1'], {}, /--minutes must be a whole number from 2 to 60/],
    ['demo with an argument', ['demo', 'now'], {}, /demo: unexpected argument "now"/],
    ['backfill without FlowLogsStorage', ['backfill', '--since', '-1d'], {}, /Setting FlowLogsStorage is not set/],
    ['replay without AzureWebJobsStorage', ['replay'], { FlowLogsStorage: 'UseDevelopmentStorage=true' }, /Setting AzureWebJobsStorage is not set/],
  ];

  it.each(cases)('%s', async (_name, argv, env, message) => {
    const run = await runCli(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('names EVENTHUB_NAME when backfill has blobs to send but no Event Hub', async () => {
    const run = await runCli(['backfill', '--since', '-1d'], { env: { ...STORAGE_ENV, FLOWLOG_CONTAINERS: uniqueName('empty') } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('backfill: Setting EVENTHUB_NAME is not set. Accepted: an Event Hub name: letters, digits, ".", "_", "-".\n');
  });

  it('tells the user how to get help after a usage error', async () => {
    const run = await runCli(['backfill', '--since', 'yesterday'], { env: STORAGE_ENV });
    expect(run.stderr.endsWith('Run "flowlog-forwarder backfill --help" for its options.\n')).toBe(true);
  });
});

describe('exit code 1: the command failed', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'usage-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('convert of a file that does not exist', async () => {
    const missing = path.join(dir, 'missing.json');
    const run = await runCli(['convert', missing]);
    expect(run.code).toBe(1);
    // (In jest, node's errors come from another realm, so the message carries their name: "Error: ENOENT".)
    expect(run.stderr).toMatch(new RegExp(`^convert failed: (Error: )?ENOENT: no such file or directory, open '${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`));
  });
});

describe('times', () => {
  it('reads ISO 8601 instants and times relative to now', () => {
    const now = Date.UTC(2025, 2, 4, 12, 30);
    expect(timeOption({ t: '2025-03-04T10:00Z' }, 't', now)?.toISOString()).toBe('2025-03-04T10:00:00.000Z');
    expect(timeOption({ t: '2025-03-04' }, 't', now)?.toISOString()).toBe('2025-03-04T00:00:00.000Z');
    expect(timeOption({ t: '-6h' }, 't', now)?.toISOString()).toBe('2025-03-04T06:30:00.000Z');
    expect(timeOption({ t: '-2d' }, 't', now)?.toISOString()).toBe('2025-03-02T12:30:00.000Z');
    expect(timeOption({ t: '-90m' }, 't', now)?.toISOString()).toBe('2025-03-04T11:00:00.000Z');
    expect(timeOption({}, 't', now)).toBeUndefined();
  });
});

describe('times on the command line', () => {
  it('reads a time without a zone as UTC, like the y=/m=/d=/h= segments of flow-log paths', () => {
    expect(timeOption({ since: '2026-11-22T10:00' }, 'since')?.toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(timeOption({ since: '2026-11-22T10:00:30.5' }, 'since')?.toISOString()).toBe('2026-11-22T10:00:30.500Z');
    expect(timeOption({ since: '2026-11-22' }, 'since')?.toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(timeOption({ since: '2026-11-22T10:00+02:00' }, 'since')?.toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(timeOption({ since: '-2h' }, 'since', Date.UTC(2026, 10, 22, 12))?.toISOString()).toBe('2026-11-22T10:00:00.000Z');
  });
});
