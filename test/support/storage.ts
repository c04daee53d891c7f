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

/** Fresh containers for one test: flow logs (the only one in FLOWLOG_CONTAINERS), checkpoints, dead letters. */
export interface ForwarderContainers {
  flowLogs: ContainerClient;
  checkpoints: ContainerClient;
  deadLetters: ContainerClient;
}

/**
 * Before each test, points the function's settings (process.env, as the host sets them) at fresh Azurite
 * containers, and restores the environment after the file. `overrides` adds or changes settings.
 */
export function useForwarderEnvironment(overrides: Record<string, string> = {}): ForwarderContainers {
  const containers = {} as ForwarderContainers;
  const savedEnv = { ...process.env };
  beforeEach(async () => {
    containers.flowLogs = await newContainer('flowlogs');
    containers.checkpoints = azuriteService().getContainerClient(uniqueName('cp'));
    containers.deadLetters = azuriteService().getContainerClient(uniqueName('dl'));
    process.env = {
      ...savedEnv,
      FlowLogsStorage: azuriteConnectionString(),
      AzureWebJobsStorage: azuriteConnectionString(),
      FLOWLOG_CONTAINERS: containers.flowLogs.containerName,
      CHECKPOINT_CONTAINER: containers.checkpoints.containerName,
      DEAD_LETTER_CONTAINER: containers.deadLetters.containerName,
      ...overrides,
    };
  });
  afterAll(() => {
    process.env = savedEnv;
  });
  return containers;
}
