import { blobName, type BlobRef } from './blobRef';
import { claimRange, pendingClaimIds, settleClaim, type ClaimOutcome } from './claims';
import type { EventHubSender } from './eventHubSender';
import { shapeClaim } from './forward';
import { macOfBlobPath } from './blobPaths';
import type { Runtime } from './runtime';
import type { ShapeStats } from './shaping';

/**
 * The command line's path from a claim to Event Hubs (backfill, replay): claims are recorded as pending,
 * sent with the blob's MAC address as partition key, then settled. A run that stops in between leaves the
 * claim pending, and the next run over that blob re-sends it before claiming anything new: nothing is
 * lost, and nothing is sent twice unless a send succeeded without being settled.
 */

export interface ClaimSendResult extends ShapeStats {
  /** Bytes of the blob covered by the claims sent. */
  bytesClaimed: number;
  claims: number;
}

export function emptyResult(): ClaimSendResult {
  return { records: 0, tuples: 0, events: 0, bytesOut: 0, deadLetters: 0, bytesClaimed: 0, claims: 0 };
}

export function addResult(total: ClaimSendResult, part: ClaimSendResult): void {
  for (const key of Object.keys(total) as (keyof ClaimSendResult)[]) total[key] += part[key];
}

/** The partition key a blob's events are sent with: its NIC's MAC address, so one NIC's events stay in order. */
export function partitionKeyOf(ref: BlobRef): string {
  return macOfBlobPath(ref.blobPath) ?? blobName(ref);
}

/** Re-sends the blob's pending claims left by an earlier run. */
export async function resendPendingClaims(ref: BlobRef, runtime: Runtime, sender: EventHubSender): Promise<ClaimSendResult> {
  const result = emptyResult();
  const loaded = await runtime.checkpoints.load(ref);
  for (const claimId of loaded ? pendingClaimIds(loaded.doc) : []) {
    const end = loaded?.doc.claims[claimId]?.end ?? 0;
    addResult(result, await claimAndSend(ref, claimId, end, undefined, runtime, sender));
  }
  return result;
}

/** Claims what is new up to `contentLength` (or re-reads this claim id's range) and sends it. */
export async function claimAndSend(ref: BlobRef, claimId: string, contentLength: number, eTag: string | undefined, runtime: Runtime, sender: EventHubSender): Promise<ClaimSendResult> {
  const claim = await claimRange({ ref, claimId, contentLength, eTag, pending: true }, runtime);
  return sendClaim(ref, claimId, claim, runtime, sender);
}

async function sendClaim(ref: BlobRef, claimId: string, claim: ClaimOutcome, runtime: Runtime, sender: EventHubSender): Promise<ClaimSendResult> {
  if (claim.kind !== 'claimed' && claim.kind !== 'redelivered') return emptyResult();
  const { bodies, stats } = await shapeClaim(ref, claimId, claim, runtime);
  await sender.send(bodies, partitionKeyOf(ref));
  await settleClaim(ref, claimId, runtime.checkpoints);
  return { ...stats, bytesClaimed: claim.end - claim.start, claims: 1 };
}
