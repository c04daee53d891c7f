import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { runHour, type HourResult } from './hour';
import { countRecords, flowLogDocument } from './inputs';
import { MAX_EVENT_BYTES, measureThroughput, type ThroughputRow } from './throughput';
import { FlowLogGenerator } from '../src/dev/flowLogGenerator';

/**
 * `npm run bench`: every figure of the Performance section, measured in one run on this machine, each of
 * ours beside the obvious approaches on the same input. Absolute times on a shared machine mean little;
 * the ratios are the point. Results go to bench/results/latest.json.
 */

const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 5);
const VNET_MB = Number(process.env.BENCH_VNET_MB ?? 50);
const NSG_MB = Number(process.env.BENCH_NSG_MB ?? 25);
const CONVERT_MB = Number(process.env.BENCH_CONVERT_MB ?? 200);

interface InputResult {
  name: string;
  bytes: number;
  records: number;
  tuples: number;
  rows: ThroughputRow[];
}

const TARGETS = {
  tuplesVsNaive: 3,
  recordsEnvelopeVsNaive: 1.5,
  envelopeFill: 0.9,
  convertPeakRssMB: 200,
};

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`flowlog-forwarder bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), best of ${REPETITIONS}\n`);
  const inputs: InputResult[] = [];
  for (const [name, kind, mb, tuplesPerRecord] of [
    ['VNet flow logs (v4)', 'vnet', VNET_MB, 1000],
    ['NSG flow logs (v2)', 'nsg', NSG_MB, 600],
  ] as const) {
    const blob = flowLogDocument(kind, mb * 1e6, tuplesPerRecord);
    const { records, tuples } = countRecords(blob);
    console.log(`${name}: ${(blob.length / 1e6).toFixed(1)} MB, ${records} records, ${tuples} tuples`);
    const rows = await measureThroughput(blob, tuples, REPETITIONS);
    printRows(rows, blob.length);
    inputs.push({ name, bytes: blob.length, records, tuples, rows });
  }

  console.log('One Network Watcher hour against Azurite (60 commits of about 100 KB, one NIC), event by event:');
  const hour = await runHour({ commits: 60, tuplesPerCommit: 1400 });
  printHour(hour);

  console.log(`convert of a ${CONVERT_MB} MB PT1H.json, peak resident memory of the process:`);
  const rss = await measureConvertRss(CONVERT_MB);
  console.log(`  flowlog-forwarder convert (records, envelope)   ${rss.oursMB.toFixed(0)} MB   in ${(rss.oursMs / 1000).toFixed(1)} s`);
  console.log(`  whole-blob JSON.parse, stringify per record      ${rss.naiveMB === undefined ? 'failed' : `${rss.naiveMB.toFixed(0)} MB`}   (${rss.naiveNote})\n`);

  const checks = targetChecks(inputs, rss.oursMB);
  for (const check of checks) console.log(`${check.met ? 'MET    ' : 'NOT MET'}  ${check.what}: ${check.measured}`);
  const results = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, repetitions: REPETITIONS, maxEventBytes: MAX_EVENT_BYTES, inputs, hour, convertRss: rss, checks };
  mkdirSync(path.join(__dirname, '../../bench/results'), { recursive: true });
  writeFileSync(path.join(__dirname, '../../bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to bench/results/latest.json in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function ratio(rows: ThroughputRow[], ours: string, baseline: string): number {
  const a = rows.find((row) => row.name === ours);
  const b = rows.find((row) => row.name === baseline);
  return a && b ? b.bestMs / a.bestMs : NaN;
}

function printRows(rows: ThroughputRow[], inputBytes: number): void {
  console.log(`  ${'approach'.padEnd(24)}${'best ms'.padStart(9)}${'MB/s'.padStart(8)}${'Mtuples/s'.padStart(11)}${'events/MB'.padStart(11)}${'fill'.padStart(7)}${'vs naive'.padStart(11)}${'vs parse-only'.padStart(15)}`);
  for (const row of rows) {
    const ours = row.name.startsWith('ours');
    const baseline = row.name.includes('tuples') ? 'naive-tuples' : 'naive-records';
    const cells = [
      row.name.padEnd(24),
      row.bestMs.toFixed(0).padStart(9),
      row.mbPerSecond.toFixed(0).padStart(8),
      (row.tuplesPerSecond / 1e6).toFixed(2).padStart(11),
      (row.events > 0 ? (row.events / (inputBytes / 1e6)).toFixed(1) : '-').padStart(11),
      (row.fill === null ? '-' : `${(row.fill * 100).toFixed(0)}%`).padStart(7),
      (ours ? `${ratio(rows, row.name, baseline).toFixed(2)}x` : '').padStart(11),
      (ours ? `${ratio(rows, row.name, 'parse-only').toFixed(2)}x` : '').padStart(15),
    ];
    console.log(`  ${cells.join('')}`);
  }
  console.log('');
}

function printHour(hour: HourResult): void {
  console.log(`  blob after the hour: ${(hour.blobBytes / 1e6).toFixed(2)} MB, ${hour.recordsWritten} records`);
  console.log(`  forwarded bytes   ours ${(hour.ours.bytesForwarded / 1e6).toFixed(2)} MB in ${hour.ours.events} events (${hour.ours.recordsForwarded} records)   whole blob per event ${(hour.wholeBlob.bytesForwarded / 1e6).toFixed(1)} MB (${hour.wholeBlob.recordsForwarded} records: ${hour.duplicationFactor.toFixed(1)}x each)`);
  console.log(`  per event         ours median ${hour.ours.medianMs.toFixed(1)} ms, mean ${hour.ours.meanMs.toFixed(1)} ms   whole-blob download alone median ${hour.wholeBlob.medianMs.toFixed(1)} ms, mean ${hour.wholeBlob.meanMs.toFixed(1)} ms\n`);
}

/** Peak RSS of `flowlog-forwarder convert` on a generated file, and of the whole-blob approach on the same file. */
async function measureConvertRss(mb: number): Promise<{ oursMB: number; oursMs: number; naiveMB: number | undefined; naiveNote: string; fileMB: number }> {
  const dir = path.join(os.tmpdir(), `flowlog-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'PT1H.json');
  try {
    const fileBytes = await writeLargeDocument(file, mb * 1e6);
    const cli = path.join(__dirname, '../src/cli/main.js');
    const ours = await childRss(`require(${JSON.stringify(cli)}).main(['convert', ${JSON.stringify(file)}], { env: process.env, stdin: process.stdin, stdout: require('fs').createWriteStream('/dev/null'), stderr: process.stderr, cwd: process.cwd() })`);
    const naive = await childRss(
      `const t = require('fs').readFileSync(${JSON.stringify(file)}, 'utf8'); const { records } = JSON.parse(t); let n = 0; for (const r of records) n += JSON.stringify(r).length;`,
    );
    return { oursMB: ours.maxRssMB ?? NaN, oursMs: ours.ms, naiveMB: naive.maxRssMB, naiveNote: naive.maxRssMB === undefined ? `exit ${naive.code}: ${naive.stderr.split('\n')[0] ?? ''}` : `in ${(naive.ms / 1000).toFixed(1)} s`, fileMB: fileBytes / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeLargeDocument(file: string, targetBytes: number): Promise<number> {
  const out = createWriteStream(file);
  const generator = new FlowLogGenerator(11);
  let size = 14;
  out.write('{"records":[');
  for (let i = 0; size < targetBytes; i++) {
    const record = generator.record(generator.nic('vnet', 1 + (i % 50)), new Date(Date.UTC(2026, 10, 22, 10, 1 + (i % 59))), 1000);
    const block = (i === 0 ? '' : ',') + record;
    size += Buffer.byteLength(block);
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end(']}');
  await once(out, 'finish');
  return size;
}

function childRss(script: string): Promise<{ maxRssMB: number | undefined; ms: number; code: number | null; stderr: string }> {
  const started = Date.now();
  const wrapped = `Promise.resolve().then(() => { ${script} }).then(() => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'))`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', wrapped], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const kb = /MAXRSS (\d+)/.exec(stderr)?.[1];
      resolve({ maxRssMB: kb ? Number(kb) / 1024 : undefined, ms: Date.now() - started, code, stderr });
    });
  });
}

function targetChecks(inputs: InputResult[], convertRssMB: number): { what: string; measured: string; met: boolean }[] {
  const checks: { what: string; measured: string; met: boolean }[] = [];
  for (const input of inputs) {
    for (const mode of ['ours tuplesxenvelope', 'ours tuplesxsingle']) {
      const r = ratio(input.rows, mode, 'naive-tuples');
      checks.push({ what: `${input.name}: ${mode.slice(5)} >= ${TARGETS.tuplesVsNaive}x naive-tuples`, measured: `${r.toFixed(2)}x`, met: r >= TARGETS.tuplesVsNaive });
    }
    const r = ratio(input.rows, 'ours recordsxenvelope', 'naive-records');
    checks.push({ what: `${input.name}: recordsxenvelope >= ${TARGETS.recordsEnvelopeVsNaive}x naive-records`, measured: `${r.toFixed(2)}x`, met: r >= TARGETS.recordsEnvelopeVsNaive });
    for (const mode of ['ours recordsxenvelope', 'ours tuplesxenvelope']) {
      const fill = input.rows.find((row) => row.name === mode)?.fill ?? 0;
      checks.push({ what: `${input.name}: ${mode.slice(5)} envelopes >= ${TARGETS.envelopeFill * 100}% full`, measured: `${(fill * 100).toFixed(1)}%`, met: fill >= TARGETS.envelopeFill });
    }
  }
  checks.push({ what: `convert of ${CONVERT_MB} MB: peak RSS <= ${TARGETS.convertPeakRssMB} MB`, measured: `${convertRssMB.toFixed(0)} MB`, met: convertRssMB <= TARGETS.convertPeakRssMB });
  return checks;
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
