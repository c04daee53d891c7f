import { CheckpointStore } from './checkpoints';
import type { ForwarderConfig } from './config';
import { DeadLetterStore } from './deadLetters';
import { FlowLogBlobs } from './flowLogBlobs';
import { blobServiceClient } from './storage';

/** The forwarder's I/O parts, built once from validated settings and reused across invocations. */
export interface Runtime {
  config: ForwarderConfig;
  blobs: FlowLogBlobs;
  checkpoints: CheckpointStore;
  deadLetters: DeadLetterStore;
}

export function createRuntime(config: ForwarderConfig): Runtime {
  const appStorage = blobServiceClient(config.appStorage);
  return {
    config,
    blobs: new FlowLogBlobs(config.flowLogStorage, config.allowedAccounts),
    checkpoints: new CheckpointStore(appStorage.getContainerClient(config.checkpointContainer)),
    deadLetters: new DeadLetterStore(appStorage.getContainerClient(config.deadLetterContainer)),
  };
}
