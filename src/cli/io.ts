import type { Readable, Writable } from 'node:stream';
import type { Env } from '../lib/config';

/** What a command reads and writes: the process's streams in use, other streams in tests. */
export interface CommandIO {
  env: Env;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  cwd: string;
}

export function processIO(): CommandIO {
  return { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}
