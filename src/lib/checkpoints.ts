import Ajv from 'ajv';
import type { ContainerClient } from '@azure/storage-blob';
import { blobName, type BlobRef } from './blobRef';
import { ForwarderError, storageError } from './errors';
import { ensureContainer, readStream, statusOf } from './storage';

/**
 * Per-blob checkpoint documents in the app's storage. `claimedEnd` is the offset just after the last
 * claimed record; `claims` maps each event id (or backfill claim id) to the range it claimed, so a
 * redelivery re-sends exactly its own range. Writes are ETag-conditional: concurrent invocations of the
 * same blob never both claim the same bytes.
 */

export interface Claim {
  start: number;
  end: number;
  /** Set by claimants that send themselves (backfill, replay) until the send succeeded. */
  pending?: boolean;
}

export interface CheckpointDoc {
  version: 1;
  blob: string;
  /** 1 for the blob as first seen; +1 each time it was deleted and written again. */
  generation: number;
  createdOn: string | null;
  claimedEnd: number;
  /** Base64 of the (up to 64) bytes before claimedEnd: a replaced blob differs there. */
  tail: string;
  claims: Record<string, Claim>;
  updatedAt: string;
}

export interface LoadedCheckpoint {
  doc: CheckpointDoc;
  etag: string;
}

const claimSchema = {
  type: 'object',
  required: ['start', 'end'],
  properties: { start: { type: 'integer', minimum: 0 }, end: { type: 'integer', minimum: 0 }, pending: { type: 'boolean' } },
};
const isCheckpointDoc = new Ajv({ strict: true }).compile<CheckpointDoc>({
  type: 'object',
  required: ['version', 'blob', 'generation', 'createdOn', 'claimedEnd', 'tail', 'claims', 'updatedAt'],
  properties: {
    version: { const: 1 },
    blob: { type: 'string' },
    generation: { type: 'integer', minimum: 1 },
    createdOn: { type: ['string', 'null'] },
    claimedEnd: { type: 'integer', minimum: 0 },
    tail: { type: 'string' },
    claims: { type: 'object', additionalProperties: claimSchema },
    updatedAt: { type: 'string' },
  },
});

export class CheckpointStore {
  constructor(private readonly container: ContainerClient) {}

  async load(ref: BlobRef): Promise<LoadedCheckpoint | undefined> {
    const blob = this.container.getBlockBlobClient(blobName(ref));
    let text: string;
    let etag: string | undefined;
    try {
      const response = await blob.download();
      text = (await readStream(response.readableStreamBody)).toString('utf8');
      etag = response.etag;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(`reading checkpoint ${blobName(ref)}`, error);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (!isCheckpointDoc(doc) || !etag) {
      throw new ForwarderError('STORAGE', `checkpoint ${this.container.containerName}/${blobName(ref)} is not a valid checkpoint document; delete it to start that blob over`, true);
    }
    return { doc, etag };
  }

  /** Writes `doc` if the checkpoint is still at `etag` (or still absent). False if another writer got there first. */
  async save(ref: BlobRef, doc: CheckpointDoc, etag: string | undefined): Promise<boolean> {
    await ensureContainer(this.container).catch((error: unknown) => {
      throw storageError(`creating container ${this.container.containerName}`, error);
    });
    const body = JSON.stringify(doc);
    try {
      await this.container.getBlockBlobClient(blobName(ref)).upload(body, Buffer.byteLength(body), {
        conditions: etag ? { ifMatch: etag } : { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) return false;
      throw storageError(`writing checkpoint ${blobName(ref)}`, error);
    }
  }
}
