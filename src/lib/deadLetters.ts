import type { ContainerClient } from '@azure/storage-blob';
import { blobName, type BlobRef } from './blobRef';
import { storageError } from './errors';
import type { DeadLetterItem } from './shaping';
import { ensureContainer } from './storage';

/**
 * Input that cannot be forwarded, kept byte-for-byte in the app's storage. The name is derived from the
 * source blob, its generation and the byte range, so a redelivered event overwrites rather than duplicates.
 * Metadata says where the bytes came from and why they were set aside.
 */
export class DeadLetterStore {
  constructor(private readonly container: ContainerClient) {}

  async write(ref: BlobRef, generation: number, item: DeadLetterItem, claimId: string): Promise<string> {
    const name = deadLetterName(ref, generation, item);
    try {
      await ensureContainer(this.container);
      await this.container.getBlockBlobClient(name).upload(item.bytes, item.bytes.length, {
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
        metadata: {
          sourceaccount: ref.account,
          sourcecontainer: ref.container,
          sourceblob: encodeURIComponent(ref.blobPath),
          generation: String(generation),
          rangestart: String(item.start),
          rangeend: String(item.end),
          claimid: encodeURIComponent(claimId),
          reason: asciiMetadata(item.reason),
        },
      });
      return name;
    } catch (error) {
      throw storageError(`writing dead letter ${name}`, error);
    }
  }
}

export function deadLetterName(ref: BlobRef, generation: number, item: Pick<DeadLetterItem, 'start' | 'end'>): string {
  return `${blobName(ref)}/g${generation}/${item.start}-${item.end}`;
}

/** Metadata values must be ASCII header text; reasons quote input, which may not be. */
function asciiMetadata(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);
}
