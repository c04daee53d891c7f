import { countRecords, flowLogDocument } from './inputs';
import { measureThroughput } from './throughput';

/** A short throughput run for development: `node dist/bench/quick.js [MB] [vnet|nsg]`. */
async function main(): Promise<void> {
  const mb = Number(process.argv[2] ?? 20);
  const kind = process.argv[3] === 'nsg' ? 'nsg' : 'vnet';
  const blob = flowLogDocument(kind, mb * 1e6, kind === 'vnet' ? 1000 : 600);
  for (const row of await measureThroughput(blob, countRecords(blob).tuples, 3)) {
    console.log(`${row.name.padEnd(24)} ${row.bestMs.toFixed(0).padStart(6)} ms ${row.mbPerSecond.toFixed(0).padStart(5)} MB/s  ${(row.tuplesPerSecond / 1e6).toFixed(2)} Mtuples/s`);
  }
}
void main();
