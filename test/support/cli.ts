import { Readable, Writable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { main } from '../../src/cli/main';
import type { CommandIO } from '../../src/cli/io';
import { FlowLogGenerator, type FlowLogKind } from '../../src/dev/flowLogGenerator';
import { NetworkWatcherWriter, blobCreatedEvent, type DeliveredBlobCreatedEvent } from '../../src/dev/networkWatcherWriter';
import type { BlobRef } from '../../src/lib/blobRef';
import type { Env } from '../../src/lib/config';
import { refOf } from './storage';

/** Runs the command line in this process with its own streams and environment (test/cli). */

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Env;
  /** Standard input: bytes (fed in chunks of `stdinChunk` bytes) or a stream. */
  stdin?: Buffer | Readable;
  stdinChunk?: number;
  cwd?: string;
  /** Pretend standard error is a terminal (progress display). */
  tty?: boolean;
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  isTTY?: boolean;
  columns?: number;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    callback();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export function chunked(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}

export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const stdout = new Collector();
  const stderr = new Collector();
  if (options.tty) {
    stderr.isTTY = true;
    stderr.columns = 120;
  }
  const input = options.stdin;
  const stdin = input === undefined ? Readable.from([]) : Buffer.isBuffer(input) ? Readable.from(chunked(input, options.stdinChunk ?? 65536)) : input;
  const io: CommandIO = { env: options.env ?? {}, stdin, stdout, stderr, cwd: options.cwd ?? process.cwd() };
  const code = await main(argv, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The lines of a command's standard output (one event body each), without the final newline. */
export function lines(text: string): string[] {
  return text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
}

/** A PT1H.json written commit by commit exactly as Network Watcher writes it, for one NIC and hour. */
export interface WrittenBlob {
  ref: BlobRef;
  kind: FlowLogKind;
  mac: string;
  hour: Date;
  events: DeliveredBlobCreatedEvent[];
  /** Every record written, in order (including any replaced by `recordAt`). */
  records: string[];
  /** The records an event body may carry: those `recordAt` did not replace. */
  goodRecords: string[];
}

export interface BlobOptions {
  kind?: FlowLogKind;
  /** NIC index: gives the MAC address (and so the blob path). */
  nic: number;
  hour: Date;
  commits: number;
  tuplesPerRecord?: number | ((minute: number) => number);
  seed?: number;
  /** Replaces the record of one minute (a malformed record). */
  recordAt?: (minute: number, generated: string) => string;
}

export async function writeFlowLogBlob(container: ContainerClient, options: BlobOptions): Promise<WrittenBlob> {
  const kind = options.kind ?? 'vnet';
  const generator = new FlowLogGenerator(options.seed ?? options.nic * 31 + options.hour.getUTCHours());
  const nic = generator.nic(kind, options.nic);
  const blobPath = generator.blobPath(nic, options.hour);
  const blob = container.getBlockBlobClient(blobPath);
  const writer = new NetworkWatcherWriter(blob);
  await writer.start();
  const ref = refOf(container, blobPath);
  const written: WrittenBlob = { ref, kind, mac: nic.macAddress, hour: options.hour, events: [], records: [], goodRecords: [] };
  for (let minute = 0; minute < options.commits; minute++) {
    const tuples = typeof options.tuplesPerRecord === 'function' ? options.tuplesPerRecord(minute) : (options.tuplesPerRecord ?? 8);
    const generated = generator.record(nic, new Date(options.hour.getTime() + (minute + 1) * 60_000), tuples);
    const record = options.recordAt ? options.recordAt(minute, generated) : generated;
    written.records.push(record);
    if (record === generated) written.goodRecords.push(record);
    written.events.push(blobCreatedEvent(ref, await writer.append(record), blob.url));
  }
  return written;
}

/** Appends one more commit to a blob written by writeFlowLogBlob (a later minute), as Network Watcher does. */
export async function appendCommit(container: ContainerClient, written: WrittenBlob, tuplesPerRecord = 8, seed = 99): Promise<{ record: string; event: DeliveredBlobCreatedEvent }> {
  const blob = container.getBlockBlobClient(written.ref.blobPath);
  const committed = await blob.getBlockList('committed');
  const ids = (committed.committedBlocks ?? []).map((block) => block.name);
  const footer = ids.pop();
  if (footer === undefined) throw new Error('blob has no blocks');
  const generator = new FlowLogGenerator(seed);
  const nic = generator.nic(written.kind, 0);
  const minute = written.records.length;
  const record = generator.record({ ...nic, macAddress: written.mac }, new Date(written.hour.getTime() + (minute + 1) * 60_000), tuplesPerRecord);
  const block = `${written.records.length === 0 ? '' : ','}${record}`;
  const id = Buffer.from(`block-${String(90_000_000 + minute).padStart(8, '0')}`).toString('base64');
  await blob.stageBlock(id, block, Buffer.byteLength(block));
  await blob.commitBlockList([...ids, id, footer], { blobHTTPHeaders: { blobContentType: 'application/json' } });
  const properties = await blob.getProperties();
  written.records.push(record);
  written.goodRecords.push(record);
  const event = blobCreatedEvent(written.ref, { contentLength: properties.contentLength ?? 0, etag: properties.etag ?? '' }, blob.url);
  written.events.push(event);
  return { record, event };
}

/** Half of a record: unbalanced braces and an open string, like a torn write. */
export function truncated(record: string): string {
  return record.slice(0, record.length >> 1);
}
