import { flowLogDocument } from './inputs';
import { measureThroughput } from './throughput';
import { parseRecord } from '../src/lib/records';
import { frameRange } from '../src/lib/framing';
import { tupleGroups, tupleCount } from '../src/lib/tupleGroups';

/** A short throughput run for development: `node dist/bench/quick.js [MB] [vnet|nsg]`. */
async function main(): Promise<void> {
  const mb = Number(process.argv[2] ?? 20);
  const kind = process.argv[3] === 'nsg' ? 'nsg' : 'vnet';
  const blob = flowLogDocument(kind, mb * 1e6, kind === 'vnet' ? 1000 : 600);
  let tuples = 0;
  for (const element of frameRange(blob, 0, 'document').elements) {
    const parsed = parseRecord(element.bytes);
    if (typeof parsed !== 'string') tuples += tupleCount(tupleGroups(parsed));
  }
  for (const row of await measureThroughput(blob, tuples, 3)) {
    console.log(`${row.name.padEnd(24)} ${row.bestMs.toFixed(0).padStart(6)} ms ${row.mbPerSecond.toFixed(0).padStart(5)} MB/s  ${(row.tuplesPerSecond / 1e6).toFixed(2)} Mtuples/s`);
  }
}
void main();
