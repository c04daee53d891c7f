import { setTimeout as sleep } from 'node:timers/promises';
import { blobName, type BlobRef } from './blobRef';
import type { CheckpointDoc, CheckpointStore, Claim } from './checkpoints';
import { ForwarderError } from './errors';
import type { BlobSnapshot, FlowLogBlobs } from './flowLogBlobs';
import { CLOSING_BYTES, NOT_A_DOCUMENT, RecordFramer, closingStart, type ByteRange, type FramedElement } from './framing';

/**
 * Incremental claims (docs/contract.md "Delivery semantics"). Each claim takes the complete records between
 * the blob's last claim and the claimant's `contentLength`, and records the range under the claim id with an
 * ETag-conditional checkpoint write. Bytes are read before the claim is written, so the claim ends on a
 * verified record boundary; on a lost race the checkpoint is reloaded and the claim recomputed.
 */

export interface ClaimRequest {
  ref: BlobRef;
  /** The event id (or a backfill claim id): a repeat returns the same range. */
  claimId: string;
  /** The blob size this claim covers: the event's `data.contentLength`. */
  contentLength: number;
  /** The eTag of the commit that made that size (the event's `data.eTag`), if known. */
  eTag?: string | undefined;
  /** Record the claim as pending until settleClaim(): for claimants that send the events themselves. */
  pending?: boolean;
}

export interface MalformedSpan {
  element: ByteRange;
  reason: string;
}

export type ClaimOutcome =
  | {
      kind: 'claimed' | 'redelivered';
      start: number;
      end: number;
      generation: number;
      records: FramedElement[];
      malformed: MalformedSpan[];
    }
  | { kind: 'nothingNew'; claimedEnd: number }
  | { kind: 'blobGone' };

export interface ClaimIO {
  blobs: FlowLogBlobs;
  checkpoints: CheckpointStore;
}

const MAX_ATTEMPTS = 40;
/** How many bytes before the claimed end the checkpoint keeps, to recognise the same blob. */
const TAIL_BYTES = 64;

/** Returned by an attempt whose conditional checkpoint write lost to another writer. */
const CONFLICT = Symbol('conflict');

/** Runs `attempt` until it does not lose a checkpoint race, backing off a little more each time. */
async function untilWritten<T>(what: string, attempt: () => Promise<T | typeof CONFLICT>): Promise<T> {
  for (let round = 1; round <= MAX_ATTEMPTS; round++) {
    const result = await attempt();
    if (result !== CONFLICT) return result;
    await sleep(Math.random() * 10 * Math.min(round, 10));
  }
  throw new ForwarderError('CHECKPOINT_CONTENTION', `could not ${what} after ${MAX_ATTEMPTS} attempts`, true);
}

export function claimRange(request: ClaimRequest, io: ClaimIO): Promise<ClaimOutcome> {
  return untilWritten(`record a claim on ${blobName(request.ref)}`, () => claimOnce(request, io));
}

async function claimOnce(request: ClaimRequest, io: ClaimIO): Promise<ClaimOutcome | typeof CONFLICT> {
  const { ref, claimId } = request;
  const loaded = await io.checkpoints.load(ref);
  const previous = loaded?.doc;

  const earlier = previous && claimOf(previous, claimId);
  if (previous && earlier) {
    const replay = await io.blobs.read(ref, earlier.start, earlier.end);
    if (!replay) return { kind: 'blobGone' };
    if (replay.createdOn === previous.createdOn && replay.bytes.length === earlier.end - earlier.start) {
      return { kind: 'redelivered', start: earlier.start, end: earlier.end, generation: previous.generation, ...frameClaimed(replay.bytes, earlier.start) };
    }
    // The blob changed under that claim (deleted and written again): handle the id as a new claim.
  }

  let doc = previous ?? newCheckpoint(ref, 1, null);
  // Re-read the claimed end's last bytes too: if they differ, this is another blob under the same name.
  const tailLength = Math.min(TAIL_BYTES, doc.claimedEnd);
  let snapshotStart = doc.claimedEnd - tailLength;
  let snapshot = await io.blobs.read(ref, snapshotStart, Math.max(request.contentLength, doc.claimedEnd));
  if (!snapshot) return { kind: 'blobGone' };
  if (!previous) doc = { ...doc, createdOn: snapshot.createdOn };

  let framed = previous && isReplaced(previous, snapshot, tailLength) ? undefined : frameNew(withoutTail(snapshot, tailLength), doc.claimedEnd, request);
  if (!framed && previous) {
    // Deleted and written again: a new generation, read from the start so nothing of it is skipped.
    doc = newCheckpoint(ref, previous.generation + 1, snapshot.createdOn);
    snapshotStart = 0;
    snapshot = await io.blobs.read(ref, 0, Math.min(request.contentLength, snapshot.blobSize));
    if (!snapshot) return { kind: 'blobGone' };
    framed = frameNew(snapshot, 0, request) ?? wholeRangeMalformed(snapshot, 0, NOT_A_DOCUMENT);
  }
  if (!framed || framed.end <= doc.claimedEnd) return { kind: 'nothingNew', claimedEnd: doc.claimedEnd };

  const start = doc.claimedEnd;
  const claimed: CheckpointDoc = {
    ...doc,
    claimedEnd: framed.end,
    tail: tailBefore(snapshot.bytes, snapshotStart, framed.end),
    claims: { ...doc.claims, [claimId]: request.pending ? { start, end: framed.end, pending: true } : { start, end: framed.end } },
    updatedAt: new Date().toISOString(),
  };
  // A fresh generation replaces the document, so it is conditional on the one it replaces.
  if (!(await io.checkpoints.save(ref, claimed, loaded?.etag))) return CONFLICT;
  return { kind: 'claimed', start, end: framed.end, generation: claimed.generation, records: framed.records, malformed: framed.malformed };
}

/** Marks a pending claim as sent. A claim that is gone (the blob started over) needs nothing. */
export function settleClaim(ref: BlobRef, claimId: string, checkpoints: CheckpointStore): Promise<void> {
  return untilWritten(`settle claim ${claimId} on ${blobName(ref)}`, async () => {
    const loaded = await checkpoints.load(ref);
    const claim = loaded && claimOf(loaded.doc, claimId);
    if (!loaded || !claim?.pending) return undefined;
    const settled = { ...loaded.doc, claims: { ...loaded.doc.claims, [claimId]: { start: claim.start, end: claim.end } }, updatedAt: new Date().toISOString() };
    return (await checkpoints.save(ref, settled, loaded.etag)) ? undefined : CONFLICT;
  });
}

/** The claim recorded under `claimId`. Own properties only: an id such as `constructor` must not find Object.prototype's. */
function claimOf(doc: CheckpointDoc, claimId: string): Claim | undefined {
  return Object.hasOwn(doc.claims, claimId) ? doc.claims[claimId] : undefined;
}

/** Claims recorded as pending whose sender may have stopped before sending: re-send them first. */
export function pendingClaimIds(doc: CheckpointDoc): string[] {
  return Object.entries(doc.claims)
    .filter(([, claim]) => claim.pending)
    .map(([id]) => id);
}

function newCheckpoint(ref: BlobRef, generation: number, createdOn: string | null): CheckpointDoc {
  return { version: 1, blob: blobName(ref), generation, createdOn, claimedEnd: 0, tail: '', claims: {}, updatedAt: new Date().toISOString() };
}

/**
 * The blob is not the one the checkpoint describes: created again, shorter than what was claimed, or with
 * other bytes before the claimed end (creation times have one-second resolution).
 */
function isReplaced(doc: CheckpointDoc, snapshot: BlobSnapshot, tailLength: number): boolean {
  const recreated = doc.createdOn !== null && snapshot.createdOn !== null && doc.createdOn !== snapshot.createdOn;
  return recreated || snapshot.blobSize < doc.claimedEnd || !snapshot.bytes.subarray(0, tailLength).equals(Buffer.from(doc.tail, 'base64'));
}

function withoutTail(snapshot: BlobSnapshot, tailLength: number): BlobSnapshot {
  return { ...snapshot, bytes: snapshot.bytes.subarray(tailLength) };
}

/** The last bytes before `end`, from bytes read starting at `readStart`. */
function tailBefore(bytes: Buffer, readStart: number, end: number): string {
  return bytes.subarray(Math.max(0, end - TAIL_BYTES - readStart), end - readStart).toString('base64');
}

interface FramedClaim {
  end: number;
  /** Framed records in order, including malformed spans: parsing gives those their dead-letter reason. */
  records: FramedElement[];
  malformed: MalformedSpan[];
}

/**
 * Frames the bytes read from `from` (the claimed end). A commit of `contentLength` bytes ends its records at
 * `contentLength - 2`, before its `]}`: nothing past that is claimed. Broken records followed by whole ones
 * are settled either way. Where that end is certain (the blob read is that commit: same eTag; or the read
 * reached the blob's own end), a record still open there is broken too and set aside. Otherwise it stays
 * unclaimed: an event can be late, from before the blob was written again, and its size then says nothing
 * about this blob.
 * Returns undefined if `from` is not a record boundary of this blob (so it was replaced).
 */
function frameNew(snapshot: BlobSnapshot, from: number, request: ClaimRequest): FramedClaim | undefined {
  const readEnd = from + snapshot.bytes.length;
  const atBlobEnd = readEnd >= snapshot.blobSize && request.contentLength >= snapshot.blobSize;
  const certain = atBlobEnd || (request.eTag !== undefined && sameETag(request.eTag, snapshot.etag));
  const framer = new RecordFramer(from, from === 0 ? 'document' : 'afterRecord', { closingInRange: false });
  const records = framer.push(snapshot.bytes.subarray(0, Math.max(0, recordsEnd(snapshot, from, atBlobEnd ? snapshot.blobSize : request.contentLength) - from)));
  const summary = framer.summary();
  if (summary.mismatch === 'notRecordBoundary') return undefined;
  if (summary.mismatch === 'notFlowLogDocument') return wholeRangeMalformed(snapshot, from, NOT_A_DOCUMENT);
  records.push(...(certain ? framer.finish() : framer.settle()));
  return { end: framer.summary().end, records, malformed: [] };
}

/**
 * Where the records of a document of `length` bytes end: before its closing `]}` (Network Watcher writes it
 * as the last two bytes; other writers may put whitespace around it).
 */
function recordsEnd(snapshot: BlobSnapshot, from: number, length: number): number {
  const readEnd = from + snapshot.bytes.length;
  if (readEnd >= length) {
    const end = Math.max(0, length - from);
    const tailStart = Math.max(0, end - CLOSING_BYTES);
    const closing = closingStart(snapshot.bytes.subarray(tailStart, end));
    if (closing !== undefined) return from + tailStart + closing;
  }
  return Math.min(readEnd, length - 2);
}

/** ETags compare without their quotes (Event Grid and the Blob API quote them differently). */
function sameETag(a: string, b: string | undefined): boolean {
  return b !== undefined && a.replace(/"/g, '') === b.replace(/"/g, '');
}

function wholeRangeMalformed(snapshot: BlobSnapshot, from: number, reason: string): FramedClaim {
  const end = from + snapshot.bytes.length;
  return { end, records: [], malformed: snapshot.bytes.length > 0 ? [{ element: { start: from, end, bytes: snapshot.bytes }, reason }] : [] };
}

/** Re-frames a range claimed earlier, which ends exactly on a record boundary, the way it was framed then. */
function frameClaimed(bytes: Buffer, start: number): { records: FramedElement[]; malformed: MalformedSpan[] } {
  const framer = new RecordFramer(start, start === 0 ? 'document' : 'afterRecord', { closingInRange: false });
  const records = framer.push(bytes);
  if (framer.summary().mismatch) return { records: [], malformed: [{ element: { start, end: start + bytes.length, bytes }, reason: NOT_A_DOCUMENT }] };
  return { records: [...records, ...framer.finish()], malformed: [] };
}
