import { randomBytes } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { BlobRef } from '../../src/lib/blobRef';
import { readStream } from '../../src/lib/storage';

/** The Azurite started by test/globalSetup.ts. */
export function azuriteConnectionString(): string {
  const value = process.env.TEST_AZURITE_CONNECTION_STRING;
  if (!value) throw new Error('Azurite is not running: jest globalSetup did not start it');
  return value;
}

export function azuriteService(): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(azuriteConnectionString());
}

/** A container name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export async function newContainer(prefix: string): Promise<ContainerClient> {
  const container = azuriteService().getContainerClient(uniqueName(prefix));
  await container.create();
  return container;
}

export async function listBlobNames(container: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  if (!(await container.exists())) return names;
  for await (const item of container.listBlobsFlat()) names.push(item.name);
  return names;
}

export async function downloadBlob(container: ContainerClient, name: string): Promise<{ bytes: Buffer; metadata: Record<string, string> }> {
  const response = await container.getBlobClient(name).download();
  return { bytes: await readStream(response.readableStreamBody), metadata: response.metadata ?? {} };
}

export function refOf(container: ContainerClient, blobPath: string): BlobRef {
  return { account: container.accountName, container: container.containerName, blobPath };
}
