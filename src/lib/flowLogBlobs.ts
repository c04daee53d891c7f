import type { BlobServiceClient } from '@azure/storage-blob';
import type { BlobRef } from './blobRef';
import type { StorageTarget } from './config';
import { ForwarderError, storageError } from './errors';
import { blobServiceClient, readStream, statusOf } from './storage';

/** What a read saw of a flow-log blob: the requested bytes (possibly fewer), its size and creation time. */
export interface BlobSnapshot {
  bytes: Buffer;
  blobSize: number;
  /** Creation time (ISO); a blob deleted and written again under the same name gets a new one. */
  createdOn: string | null;
  /** The version read: equal to a BlobCreated event's eTag when no commit came after that event's. */
  etag: string | undefined;
}

/** Reads flow-log blobs of the allowed accounts, never from a URL taken from an event. */
export class FlowLogBlobs {
  private readonly clients = new Map<string, BlobServiceClient>();

  constructor(
    private readonly target: StorageTarget,
    private readonly allowedAccounts: readonly string[],
  ) {}

  serviceClient(account: string): BlobServiceClient {
    if (!this.allowedAccounts.includes(account)) throw new ForwarderError('INPUT', `storage account ${account} is not allowed`, false);
    let client = this.clients.get(account);
    if (!client) {
      client = blobServiceClient(this.target, account);
      this.clients.set(account, client);
    }
    return client;
  }

  /** Bytes [start, end) as they are now, or undefined if the blob does not exist. */
  async read(ref: BlobRef, start: number, end: number): Promise<BlobSnapshot | undefined> {
    const blob = this.serviceClient(ref.account).getContainerClient(ref.container).getBlobClient(ref.blobPath);
    try {
      if (end <= start) return await this.properties(ref);
      const response = await blob.download(start, end - start);
      const bytes = await readStream(response.readableStreamBody);
      return { bytes, blobSize: totalSize(response.contentRange) ?? start + bytes.length, createdOn: response.createdOn?.toISOString() ?? null, etag: response.etag };
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      if (status === 416) return this.properties(ref); // start is at or past the end: nothing to read
      throw storageError(`reading ${ref.container}/${ref.blobPath}`, error);
    }
  }

  async properties(ref: BlobRef): Promise<BlobSnapshot | undefined> {
    const blob = this.serviceClient(ref.account).getContainerClient(ref.container).getBlobClient(ref.blobPath);
    try {
      const props = await blob.getProperties();
      return { bytes: Buffer.alloc(0), blobSize: props.contentLength ?? 0, createdOn: props.createdOn?.toISOString() ?? null, etag: props.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(`reading the properties of ${ref.container}/${ref.blobPath}`, error);
    }
  }
}

function totalSize(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /\/(\d+)$/.exec(contentRange) : null;
  return match?.[1] ? Number(match[1]) : undefined;
}
