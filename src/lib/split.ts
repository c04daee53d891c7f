import type { FlowLogRecord } from './records';

/**
 * Rebuilds a record that carries only some of its tuples, keeping every other field and the
 * flows/flowGroups (VNet) or properties.flows/flows (NSG) nesting. Used to drop malformed tuples
 * and to split a record larger than one event into parts that together hold every tuple once.
 */

export interface TuplePick {
  outer: number;
  inner: number;
  tuples: string[];
}

/** The record with exactly the given groups, in the given order, holding the given tuples. */
export function recordWith(parsed: FlowLogRecord, picks: readonly TuplePick[]): object {
  const outers: Record<string, unknown>[] = [];
  let lastOuter = -1;
  let current: unknown[] = [];
  for (const pick of picks) {
    if (pick.outer !== lastOuter) {
      current = [];
      outers.push(outerWith(parsed, pick.outer, current));
      lastOuter = pick.outer;
    }
    current.push(innerWith(parsed, pick.outer, pick.inner, pick.tuples));
  }
  if (parsed.kind === 'vnet') {
    const r = parsed.record;
    return { ...r, flowRecords: { ...r.flowRecords, flows: outers } };
  }
  const r = parsed.record;
  return { ...r, properties: { ...r.properties, flows: outers } };
}

function outerWith(parsed: FlowLogRecord, outer: number, inners: unknown[]): Record<string, unknown> {
  if (parsed.kind === 'vnet') return { ...parsed.record.flowRecords.flows[outer], flowGroups: inners };
  return { ...parsed.record.properties.flows[outer], flows: inners };
}

function innerWith(parsed: FlowLogRecord, outer: number, inner: number, tuples: string[]): Record<string, unknown> {
  const group = parsed.kind === 'vnet' ? parsed.record.flowRecords.flows[outer]?.flowGroups[inner] : parsed.record.properties.flows[outer]?.flows[inner];
  return { ...group, flowTuples: tuples };
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * Splits the picked tuples into as few records as fit `budget` bytes each (greedy, in document order).
 * Sizes are computed exactly from the skeletons, so every part fits. Returns undefined when even one
 * tuple with its record's other fields does not fit.
 */
export function splitRecord(parsed: FlowLogRecord, picks: readonly TuplePick[], budget: number): string[] | undefined {
  const recordSkeleton = jsonBytes(recordWith(parsed, []));
  const parts: string[] = [];
  let part: TuplePick[] = [];
  let size = recordSkeleton;
  let tuplesInPart = 0;
  for (const pick of picks) {
    const innerSkeleton = jsonBytes(innerWith(parsed, pick.outer, pick.inner, []));
    const outerSkeleton = jsonBytes(outerWith(parsed, pick.outer, []));
    for (const tuple of pick.tuples) {
      const tupleBytes = jsonBytes(tuple);
      const growth = (): number => {
        const last = part[part.length - 1];
        if (last && last.outer === pick.outer && last.inner === pick.inner) return tupleBytes + 1;
        const groupBytes = innerSkeleton + tupleBytes;
        if (last && last.outer === pick.outer) return groupBytes + 1;
        return outerSkeleton + groupBytes + (last ? 1 : 0);
      };
      let added = growth();
      if (size + added > budget && tuplesInPart > 0) {
        parts.push(JSON.stringify(recordWith(parsed, part)));
        part = [];
        size = recordSkeleton;
        tuplesInPart = 0;
        added = growth();
      }
      if (size + added > budget) return undefined;
      const last = part[part.length - 1];
      if (last && last.outer === pick.outer && last.inner === pick.inner) last.tuples.push(tuple);
      else part.push({ outer: pick.outer, inner: pick.inner, tuples: [tuple] });
      size += added;
      tuplesInPart++;
    }
  }
  if (tuplesInPart > 0) parts.push(JSON.stringify(recordWith(parsed, part)));
  return parts;
}
