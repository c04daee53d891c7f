import type { FlowLogRecord } from './records';
import type { TupleFormat } from './tuples';

/**
 * A flat view of a record's tuples: VNet `flows[i].flowGroups[j].flowTuples` and NSG
 * `properties.flows[i].flows[j].flowTuples` both become groups addressed by (outer i, inner j),
 * each with the record-level context that every tuple object of the group repeats.
 */

export interface TupleContext {
  recordTime: string;
  category: string;
  flowLogVersion: number;
  flowLogResourceID: string | null;
  flowLogGUID: string | null;
  targetResourceID: string;
  macAddress: string | null;
  aclID: string | null;
  rule: string;
}

export interface TupleGroup {
  outer: number;
  inner: number;
  format: TupleFormat;
  context: TupleContext;
  tuples: readonly string[];
}

export function tupleGroups(parsed: FlowLogRecord): TupleGroup[] {
  const groups: TupleGroup[] = [];
  if (parsed.kind === 'vnet') {
    const r = parsed.record;
    r.flowRecords.flows.forEach((flow, outer) => {
      flow.flowGroups.forEach((group, inner) => {
        groups.push({
          outer,
          inner,
          format: 'vnet',
          tuples: group.flowTuples,
          context: {
            recordTime: r.time,
            category: r.category,
            flowLogVersion: r.flowLogVersion,
            flowLogResourceID: r.flowLogResourceID ?? null,
            flowLogGUID: r.flowLogGUID ?? null,
            targetResourceID: r.targetResourceID,
            macAddress: r.macAddress,
            aclID: flow.aclID ?? null,
            rule: group.rule,
          },
        });
      });
    });
    return groups;
  }
  const r = parsed.record;
  const format: TupleFormat = r.properties.Version === 1 ? 'nsg1' : 'nsg2';
  r.properties.flows.forEach((ruleFlow, outer) => {
    ruleFlow.flows.forEach((macFlow, inner) => {
      groups.push({
        outer,
        inner,
        format,
        tuples: macFlow.flowTuples,
        context: {
          recordTime: r.time,
          category: r.category,
          flowLogVersion: r.properties.Version,
          flowLogResourceID: null,
          flowLogGUID: null,
          targetResourceID: r.resourceId,
          macAddress: macFlow.mac,
          aclID: null,
          rule: ruleFlow.rule,
        },
      });
    });
  });
  return groups;
}

export function tupleCount(groups: readonly TupleGroup[]): number {
  return groups.reduce((sum, group) => sum + group.tuples.length, 0);
}
