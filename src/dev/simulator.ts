import type { BlobServiceClient } from '@azure/storage-blob';
import type { BlobRef } from '../lib/blobRef';
import { FlowLogGenerator, type FlowLogKind } from './flowLogGenerator';
import { NetworkWatcherWriter, blobCreatedEvent, type DeliveredBlobCreatedEvent } from './networkWatcherWriter';

/**
 * Network Watcher at work: NICs that each get one hourly PT1H.json, a record appended (block inserted
 * before `]}`, list re-committed) every simulated minute, and the BlobCreated event of each commit.
 */

export const CONTAINER_OF: Record<FlowLogKind, string> = {
  vnet: 'insights-logs-flowlogflowevent',
  nsg: 'insights-logs-networksecuritygroupflowevent',
};

export interface SimulationOptions {
  kinds: readonly FlowLogKind[];
  minutes: number;
  tuplesPerRecord: number;
  seed: number;
  hour: Date;
  /** Replaces a record before it is written: the demo uses it to write one malformed record. */
  tamper?: (nicIndex: number, minute: number, record: string) => string;
}

export interface SimulatedCommit {
  minute: number;
  ref: BlobRef;
  record: string;
  event: DeliveredBlobCreatedEvent;
}

/** Writes minute after minute for every NIC, yielding each commit as it happens. */
export async function* simulateNetworkWatcher(service: BlobServiceClient, options: SimulationOptions): AsyncGenerator<SimulatedCommit> {
  const generator = new FlowLogGenerator(options.seed);
  const nics = options.kinds.map((kind, index) => generator.nic(kind, index + 1));
  const writers: { writer: NetworkWatcherWriter; ref: BlobRef; url: string }[] = [];
  for (const nic of nics) {
    const container = service.getContainerClient(CONTAINER_OF[nic.kind]);
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient(generator.blobPath(nic, options.hour));
    const writer = new NetworkWatcherWriter(blob);
    await writer.start();
    writers.push({ writer, url: blob.url, ref: { account: service.accountName, container: container.containerName, blobPath: blob.name } });
  }
  for (let minute = 0; minute < options.minutes; minute++) {
    const time = new Date(options.hour.getTime() + (minute + 1) * 60_000);
    for (const [nicIndex, nic] of nics.entries()) {
      const target = writers[nicIndex];
      if (!target) continue;
      const generated = generator.record(nic, time, options.tuplesPerRecord);
      const record = options.tamper ? options.tamper(nicIndex, minute, generated) : generated;
      const commit = await target.writer.append(record);
      yield { minute, ref: target.ref, record, event: blobCreatedEvent(target.ref, commit, target.url) };
    }
  }
}
