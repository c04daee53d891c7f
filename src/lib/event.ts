import Ajv from 'ajv';
import { isSafeBlobPath, type BlobRef } from './blobRef';
import { endpointAccount, type ForwarderConfig } from './config';

/**
 * Decides what a delivered Event Grid event asks for (docs/azure-facts.md section 4). The blob is named by
 * the event's topic (the storage account) and subject (container and path), checked against the settings;
 * `data.url` must name the same blob but is never fetched, and a path with `..` segments is refused, so a
 * forged event cannot point the forwarder at anything outside the flow-log containers.
 */

export const BLOB_CREATED = 'Microsoft.Storage.BlobCreated';

export interface BlobCreatedData {
  api?: string;
  contentLength: number;
  url?: string;
  eTag?: string;
  sequencer?: string;
  blobType?: string;
}

export interface EventGridBlobEvent {
  id: string;
  topic: string;
  subject: string;
  eventType: string;
  eventTime?: string;
  data: BlobCreatedData;
}

export type EventDecision =
  | { kind: 'process'; eventId: string; ref: BlobRef; contentLength: number; eTag: string | undefined }
  | { kind: 'ignore'; eventId: string | undefined; reason: string; ref?: BlobRef };

const ajv = new Ajv({ strict: true });
const isEnvelope = ajv.compile<Omit<EventGridBlobEvent, 'data'> & { data: unknown }>({
  type: 'object',
  required: ['id', 'topic', 'subject', 'eventType', 'data'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    topic: { type: 'string' },
    subject: { type: 'string' },
    eventType: { type: 'string' },
    eventTime: { type: 'string' },
    data: {},
  },
});
const isBlobCreatedData = ajv.compile<BlobCreatedData>({
  type: 'object',
  required: ['contentLength', 'url'],
  properties: {
    api: { type: 'string' },
    contentLength: { type: 'integer', minimum: 0 },
    url: { type: 'string' },
    eTag: { type: 'string' },
    sequencer: { type: 'string' },
    blobType: { type: 'string' },
  },
});

const TOPIC = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/([a-z0-9]{3,24})$/i;
const SUBJECT = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;

export function interpretEvent(event: unknown, config: Pick<ForwarderConfig, 'flowLogContainers' | 'allowedAccounts'>): EventDecision {
  if (!isEnvelope(event)) {
    const error = isEnvelope.errors?.[0];
    return { kind: 'ignore', eventId: idOf(event), reason: `not an Event Grid event (${error ? `${error.instancePath || '/'} ${error.message ?? ''}` : 'invalid'})` };
  }
  const eventId = event.id;
  if (event.eventType !== BLOB_CREATED) return { kind: 'ignore', eventId, reason: `event type ${event.eventType} is not ${BLOB_CREATED}` };
  const account = TOPIC.exec(event.topic)?.[1]?.toLowerCase();
  if (!account) return { kind: 'ignore', eventId, reason: 'topic is not a storage account resource id' };
  const subject = SUBJECT.exec(event.subject);
  const container = subject?.[1];
  const blobPath = subject?.[2];
  if (!container || !blobPath) return { kind: 'ignore', eventId, reason: 'subject is not /blobServices/default/containers/<container>/blobs/<path>' };
  if (!isSafeBlobPath(blobPath)) return { kind: 'ignore', eventId, reason: 'the blob path has empty, "." or ".." segments (it could name another container)' };
  const ref: BlobRef = { account, container, blobPath };
  if (!config.flowLogContainers.includes(container)) return { kind: 'ignore', eventId, ref, reason: `container ${container} is not in FLOWLOG_CONTAINERS` };
  if (!config.allowedAccounts.includes(account)) return { kind: 'ignore', eventId, ref, reason: `storage account ${account} is not in FLOWLOG_ALLOWED_ACCOUNTS` };
  if (!isBlobCreatedData(event.data)) return { kind: 'ignore', eventId, ref, reason: 'data has no valid contentLength and url' };
  if (!urlMatches(event.data.url ?? '', ref)) {
    return { kind: 'ignore', eventId, ref, reason: 'data.url does not name the blob of topic and subject (forged or foreign event)' };
  }
  return { kind: 'process', eventId, ref, contentLength: event.data.contentLength, eTag: event.data.eTag };
}

function urlMatches(url: string, ref: BlobRef): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return false;
  }
  const endpoint = endpointAccount(parsed);
  if (endpoint?.account !== ref.account) return false;
  return path === `${endpoint.pathStyle ? `/${ref.account}` : ''}/${ref.container}/${ref.blobPath}`;
}

function idOf(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null && 'id' in event && typeof event.id === 'string') return event.id.slice(0, 256);
  return undefined;
}
