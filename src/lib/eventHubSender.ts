import { EventHubProducerClient, type EventDataBatch } from '@azure/event-hubs';
import type { EventHubTarget } from './config';
import { ForwarderError, errorMessage } from './errors';
import { credentialFor } from './storage';

/**
 * Sends event bodies to Event Hubs the way the command line needs it: explicit batches (`tryAdd` returns
 * false when a batch is full), one partition key per source blob so one NIC's events stay in order, and
 * the SDK's retries on transient errors. Bodies go out as bytes, exactly as the function's output binding
 * sends strings (a string body would be JSON-encoded by the SDK).
 */

export interface SendStats {
  events: number;
  batches: number;
  bytes: number;
}

export class EventHubSender {
  readonly stats: SendStats = { events: 0, batches: 0, bytes: 0 };

  constructor(private readonly producer: EventHubProducerClient) {}

  static create(target: EventHubTarget, retry: { maxRetries?: number; retryDelayInMs?: number } = {}): EventHubSender {
    const options = { retryOptions: { maxRetries: retry.maxRetries ?? 5, retryDelayInMs: retry.retryDelayInMs ?? 1000, timeoutInMs: 60_000 } };
    const producer =
      target.kind === 'connectionString'
        ? new EventHubProducerClient(target.connectionString, target.eventHubName, options)
        : new EventHubProducerClient(target.fullyQualifiedNamespace, target.eventHubName, credentialFor(target.clientId), options);
    return new EventHubSender(producer);
  }

  /** Sends the bodies in order, in as few batches as fit, all with `partitionKey`. */
  async send(bodies: readonly string[], partitionKey: string | undefined): Promise<SendStats> {
    const sent: SendStats = { events: 0, batches: 0, bytes: 0 };
    let batch = await this.newBatch(partitionKey);
    for (const body of bodies) {
      const event = { body: Buffer.from(body), contentType: 'application/json' };
      if (batch.tryAdd(event)) continue;
      if (batch.count > 0) {
        await this.sendBatch(batch, sent);
        batch = await this.newBatch(partitionKey);
        if (batch.tryAdd(event)) continue;
      }
      throw new ForwarderError('SEND', `an event of ${event.body.length} bytes does not fit one Event Hubs batch (${batch.maxSizeInBytes} bytes): lower MAX_EVENT_BYTES`, false);
    }
    if (batch.count > 0) await this.sendBatch(batch, sent);
    return sent;
  }

  close(): Promise<void> {
    return this.producer.close();
  }

  private async newBatch(partitionKey: string | undefined): Promise<EventDataBatch> {
    try {
      return await this.producer.createBatch(partitionKey === undefined ? {} : { partitionKey });
    } catch (error) {
      throw sendError(error);
    }
  }

  private async sendBatch(batch: EventDataBatch, sent: SendStats): Promise<void> {
    try {
      await this.producer.sendBatch(batch);
    } catch (error) {
      throw sendError(error);
    }
    for (const stats of [sent, this.stats]) {
      stats.events += batch.count;
      stats.batches += 1;
      stats.bytes += batch.sizeInBytes;
    }
  }
}

function sendError(error: unknown): ForwarderError {
  const retryable = typeof error === 'object' && error !== null && 'retryable' in error ? error.retryable === true : true;
  return new ForwarderError('SEND', `sending to Event Hubs failed: ${errorMessage(error)}`, retryable, { cause: error });
}
