import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** Azurite's well-known development account (public, documented; not a secret). */
export const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  blobEndpoint: string;
  connectionString: string;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${blobEndpoint};`;
}

/**
 * Starts Azurite's blob service from node_modules, in memory, on a free port.
 * `--skipApiVersionCheck`: current @azure/storage-blob speaks a newer API version than Azurite knows;
 * `--disableTelemetry`: this machine has no internet.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const main = path.join(path.dirname(require.resolve('azurite/package.json')), 'dist/src/blob/main.js');
  const child = spawn(
    process.execPath,
    [main, '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--skipApiVersionCheck', '--disableTelemetry'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const blobEndpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${options.timeoutMs ?? 20000} ms: ${output}`)), options.timeoutMs ?? 20000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listens on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(`${match[1]}/${DEV_ACCOUNT}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => fail(new Error(`Azurite exited with code ${String(code)}: ${output}`)));
    child.once('error', fail);
  });
  child.removeAllListeners('exit');
  return { blobEndpoint, connectionString: azuriteConnectionString(blobEndpoint), stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
