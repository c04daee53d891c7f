import { randomUUID } from 'node:crypto';
import type { BlockBlobClient } from '@azure/storage-blob';
import type { BlobRef } from '../lib/blobRef';
import { BLOB_CREATED, type BlobCreatedData, type EventGridBlobEvent } from '../lib/event';

/**
 * Writes a PT1H.json block blob exactly the way Network Watcher does (docs/azure-facts.md section 3):
 * a 12-byte `{"records":[` block, a 2-byte `]}` block, and per commit one `,{record}` block (no comma
 * for the first record) inserted before the closing block, the whole list re-committed each time.
 */

const HEADER = '{"records":[';
const FOOTER = ']}';

export interface Commit {
  contentLength: number;
  etag: string;
}

export class NetworkWatcherWriter {
  private readonly blockIds: string[] = [];
  private records = 0;
  private size = 0;
  private nextBlock = 0;
  private footerId: string | undefined;

  constructor(private readonly blob: BlockBlobClient) {}

  /** Stages the header and footer blocks; the first append commits them with the first record. */
  async start(): Promise<void> {
    this.blockIds.push(await this.stage(HEADER));
    this.footerId = await this.stage(FOOTER);
    this.size = HEADER.length + FOOTER.length;
  }

  /** Appends one record block (several records make several blocks) and commits, like one minute's write. */
  async append(...recordsJson: string[]): Promise<Commit> {
    for (const json of recordsJson) {
      const block = (this.records === 0 ? '' : ',') + json;
      this.blockIds.push(await this.stage(block));
      this.size += Buffer.byteLength(block);
      this.records++;
    }
    const response = await this.blob.commitBlockList([...this.blockIds, this.footer()], { blobHTTPHeaders: { blobContentType: 'application/json' } });
    return { contentLength: this.size, etag: response.etag ?? '' };
  }

  private footer(): string {
    if (!this.footerId) throw new Error('start() first');
    return this.footerId;
  }

  private async stage(content: string): Promise<string> {
    // Block ids of one blob must all have the same length.
    const id = Buffer.from(`block-${String(this.nextBlock++).padStart(8, '0')}`).toString('base64');
    await this.blob.stageBlock(id, content, Buffer.byteLength(content));
    return id;
  }
}

let sequence = 0;

/** An event as Event Grid delivers it: the fields the forwarder reads and the ones it ignores. */
export interface DeliveredBlobCreatedEvent extends EventGridBlobEvent {
  data: BlobCreatedData & Record<string, unknown>;
  dataVersion: string;
  metadataVersion: string;
}

/** The BlobCreated event Event Grid delivers for a commit (docs/azure-facts.md section 4). */
export function blobCreatedEvent(ref: BlobRef, commit: Commit, blobUrl: string, subscriptionId = '00000000-0000-0000-0000-000000000000'): DeliveredBlobCreatedEvent {
  sequence++;
  return {
    id: randomUUID(),
    topic: `/subscriptions/${subscriptionId}/resourceGroups/flowlog-rg/providers/Microsoft.Storage/storageAccounts/${ref.account}`,
    subject: `/blobServices/default/containers/${ref.container}/blobs/${ref.blobPath}`,
    eventType: BLOB_CREATED,
    eventTime: new Date().toISOString(),
    data: {
      api: 'PutBlockList',
      clientRequestId: randomUUID(),
      requestId: randomUUID(),
      eTag: commit.etag,
      contentType: 'application/json',
      contentLength: commit.contentLength,
      blobType: 'BlockBlob',
      url: blobUrl,
      sequencer: `${Date.now().toString(16).padStart(16, '0')}${sequence.toString(16).padStart(16, '0')}`,
      storageDiagnostics: { batchId: randomUUID() },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
