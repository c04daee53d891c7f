/**
 * The obvious approaches, as public forwarders implement them, producing the same output as ours so
 * that the comparison is fair: whole-blob JSON.parse, then an object per tuple (or per record) and
 * JSON.stringify. They validate nothing.
 */

interface NaiveRecord {
  time: string;
  category: string;
  flowLogVersion?: number;
  macAddress?: string;
  flowLogGUID?: string;
  flowLogResourceID?: string;
  targetResourceID?: string;
  resourceId?: string;
  flowRecords?: { flows: { aclID?: string; flowGroups: { rule: string; flowTuples: string[] }[] }[] };
  properties?: { Version: number; flows: { rule: string; flows: { mac: string; flowTuples: string[] }[] }[] };
}

const STATES: Record<string, string> = { B: 'begin', C: 'continuing', E: 'end', D: 'deny' };
const NAMES: Record<string, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };
const counter = (value: string | undefined): number | null => (value === undefined || value === '' ? null : Number(value));

export function parseOnly(blob: Buffer): number {
  return (JSON.parse(blob.toString('utf8')) as { records: unknown[] }).records.length;
}

export function naiveRecords(blob: Buffer, maxBytes: number, emit: (body: string) => void): void {
  const { records } = JSON.parse(blob.toString('utf8')) as { records: unknown[] };
  let batch: string[] = [];
  let size = 14;
  for (const record of records) {
    const json = JSON.stringify(record);
    const bytes = Buffer.byteLength(json);
    if (batch.length > 0 && size + bytes + 1 > maxBytes) {
      emit(`{"records":[${batch.join(',')}]}`);
      batch = [];
      size = 14;
    }
    batch.push(json);
    size += bytes + 1;
  }
  if (batch.length > 0) emit(`{"records":[${batch.join(',')}]}`);
}

export function naiveTuples(blob: Buffer, emit: (body: string) => void): number {
  const { records } = JSON.parse(blob.toString('utf8')) as { records: NaiveRecord[] };
  let count = 0;
  for (const record of records) {
    const groups = record.flowRecords
      ? record.flowRecords.flows.flatMap((flow) => flow.flowGroups.map((group) => ({ aclID: flow.aclID ?? null, rule: group.rule, mac: record.macAddress ?? null, tuples: group.flowTuples })))
      : (record.properties?.flows ?? []).flatMap((flow) => flow.flows.map((inner) => ({ aclID: null, rule: flow.rule, mac: inner.mac, tuples: inner.flowTuples })));
    for (const group of groups) {
      for (const tuple of group.tuples) {
        const f = tuple.split(',');
        const vnet = record.flowRecords !== undefined;
        const timestamp = Number(f[0]);
        emit(
          JSON.stringify({
            id: `${count}`,
            time: new Date(timestamp < 1e11 ? timestamp * 1000 : timestamp).toISOString(),
            recordTime: record.time,
            category: record.category,
            flowLogVersion: vnet ? record.flowLogVersion : record.properties?.Version,
            flowLogResourceID: record.flowLogResourceID ?? null,
            flowLogGUID: record.flowLogGUID ?? null,
            targetResourceID: record.targetResourceID ?? record.resourceId,
            macAddress: group.mac,
            aclID: group.aclID,
            rule: group.rule,
            srcIP: f[1],
            dstIP: f[2],
            srcPort: Number(f[3]),
            dstPort: Number(f[4]),
            protocol: vnet ? Number(f[5]) : f[5] === 'T' ? 6 : 17,
            protocolName: vnet ? (NAMES[f[5] ?? ''] ?? null) : f[5] === 'T' ? 'TCP' : 'UDP',
            direction: f[6] === 'I' ? 'inbound' : 'outbound',
            decision: vnet ? (f[7] === 'D' ? 'deny' : 'allow') : f[7] === 'A' ? 'allow' : 'deny',
            flowState: STATES[(vnet ? f[7] : f[8]) ?? ''] ?? null,
            encryption: vnet ? f[8] : null,
            packetsSent: counter(f[9]),
            bytesSent: counter(f[10]),
            packetsReceived: counter(f[11]),
            bytesReceived: counter(f[12]),
          }),
        );
        count++;
      }
    }
  }
  return count;
}
