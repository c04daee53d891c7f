import { startAzurite, type RunningAzurite } from '../src/dev/azurite';

declare global {
  // eslint-disable-next-line no-var
  var __AZURITE__: RunningAzurite | undefined;
}

/** One in-memory Azurite for the whole run; test files isolate themselves by container and blob names. */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  globalThis.__AZURITE__ = azurite;
  process.env.TEST_AZURITE_CONNECTION_STRING = azurite.connectionString;
  process.env.TEST_AZURITE_BLOB_ENDPOINT = azurite.blobEndpoint;
}
