import { blobName, type BlobRef } from './blobRef';
import { claimRange, type ClaimOutcome } from './claims';
import { interpretEvent } from './event';
import type { Runtime } from './runtime';
import { FlowLogShaper, type DeadLetterItem, type ShapeStats } from './shaping';
import { tupleIdPrefix } from './tupleJson';

/** One invocation: event → claim → shaped bodies, with dead letters written and a summary for the log. */

export type Outcome = 'forwarded' | 'redelivered' | 'nothing-new' | 'ignored';

export interface InvocationSummary extends ShapeStats {
  outcome: Outcome;
  eventId: string | null;
  blob: string | null;
  /** The claimed byte range [start, end), or null when nothing was claimed. */
  claimed: [number, number] | null;
  reason?: string;
  ms: number;
}

export interface ForwardResult {
  bodies: string[];
  summary: InvocationSummary;
}

const NO_STATS: ShapeStats = { records: 0, tuples: 0, events: 0, bytesOut: 0, deadLetters: 0 };

export async function forwardEvent(event: unknown, runtime: Runtime): Promise<ForwardResult> {
  const started = performance.now();
  const decision = interpretEvent(event, runtime.config);
  const finish = (result: Omit<InvocationSummary, 'ms'>, bodies: string[] = []): ForwardResult => ({
    bodies,
    summary: { ...result, ms: Math.round(performance.now() - started) },
  });
  if (decision.kind === 'ignore') {
    return finish({ outcome: 'ignored', eventId: decision.eventId ?? null, blob: decision.ref ? blobName(decision.ref) : null, claimed: null, reason: decision.reason, ...NO_STATS });
  }
  const { ref, eventId } = decision;
  const claim = await claimRange({ ref, claimId: eventId, contentLength: decision.contentLength, eTag: decision.eTag }, runtime);
  const base = { eventId, blob: blobName(ref) };
  if (claim.kind === 'blobGone') return finish({ ...base, outcome: 'ignored', claimed: null, reason: 'blob no longer exists', ...NO_STATS });
  if (claim.kind === 'nothingNew') return finish({ ...base, outcome: 'nothing-new', claimed: null, ...NO_STATS });
  const { bodies, stats } = await shapeClaim(ref, eventId, claim, runtime);
  return finish({ ...base, outcome: claim.kind === 'claimed' ? 'forwarded' : 'redelivered', claimed: [claim.start, claim.end], ...stats }, bodies);
}

/** Shapes a claimed range into bodies and writes what cannot be forwarded to the dead-letter container. */
export async function shapeClaim(
  ref: BlobRef,
  claimId: string,
  claim: Extract<ClaimOutcome, { kind: 'claimed' | 'redelivered' }>,
  runtime: Pick<Runtime, 'config' | 'deadLetters'>,
): Promise<{ bodies: string[]; stats: ShapeStats }> {
  const bodies: string[] = [];
  const deadLetters: DeadLetterItem[] = [];
  const shaper = new FlowLogShaper({
    config: runtime.config,
    idPrefix: tupleIdPrefix(blobName(ref), claim.generation),
    onBody: (body) => bodies.push(body),
    onDeadLetter: (item) => deadLetters.push(item),
  });
  for (const { element, reason } of claim.malformed) shaper.addMalformed(element, reason);
  for (const record of claim.records) shaper.add(record);
  shaper.finish();
  await Promise.all(deadLetters.map((item) => runtime.deadLetters.write(ref, claim.generation, item, claimId)));
  return { bodies, stats: shaper.stats };
}
