import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import type { StorageTarget } from './config';

/** Builds blob clients from validated settings: connection strings for Azurite, Entra identity in Azure. */

/** Keep each storage call short: Event Grid waits 30 s for the whole invocation. */
const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 3, tryTimeoutInMs: 10_000, retryDelayInMs: 200 } };

const credentials = new Map<string, TokenCredential>();

export function credentialFor(clientId: string | undefined): TokenCredential {
  const key = clientId ?? 'default';
  let credential = credentials.get(key);
  if (!credential) {
    credential = clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
    credentials.set(key, credential);
  }
  return credential;
}

/**
 * A client for `account`, which must be the target's own account or (identity mode) another account
 * reached at the same endpoint shape: `https://<account>.blob.<suffix>` or `http://host:port/<account>`.
 */
export function blobServiceClient(target: StorageTarget, account = target.accountName): BlobServiceClient {
  if (target.kind === 'connectionString') {
    if (account !== target.accountName) throw new Error(`no credentials for storage account ${account}`);
    return BlobServiceClient.fromConnectionString(target.connectionString, PIPELINE);
  }
  return new BlobServiceClient(endpointForAccount(target.blobServiceUri, target.accountName, account), credentialFor(target.clientId), PIPELINE);
}

export function endpointForAccount(endpoint: string, ownAccount: string, account: string): string {
  if (account === ownAccount) return endpoint;
  const url = new URL(endpoint);
  if (url.hostname.startsWith(`${ownAccount}.`)) url.hostname = account + url.hostname.slice(ownAccount.length);
  else url.pathname = url.pathname.replace(new RegExp(`^/${ownAccount}(?=/|$)`), `/${account}`);
  return url.toString().replace(/\/+$/, '');
}

/** The HTTP status of a storage SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

/** A blob download's body, whole. */
export async function readStream(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

const containersReady = new Map<string, Promise<unknown>>();

/** Creates the container on first use in this process (the app's own checkpoint and dead-letter containers). */
export function ensureContainer(container: ContainerClient): Promise<unknown> {
  let ready = containersReady.get(container.url);
  if (!ready) {
    ready = container.createIfNotExists();
    ready.catch(() => containersReady.delete(container.url));
    containersReady.set(container.url, ready);
  }
  return ready;
}
