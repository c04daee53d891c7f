/**
 * Proves the loopback AMQP peer is a faithful enough Event Hubs stand-in for the real
 * `EventHubProducerClient`: management reads, batching, addressing, size limits and retries.
 */
import { EventHubProducerClient, type EventHubClientOptions } from '@azure/event-hubs';
import { create_container, message as amqpMessage, type EventContext } from 'rhea';
import { MESSAGE_SIZE_EXCEEDED, SERVER_BUSY, bodyJson, bodyText, startAmqpPeer, type AmqpPeer } from './amqpPeer';

/** Fast retries so fault-injection tests take milliseconds, not the client's default seconds. */
const fastRetries: EventHubClientOptions = {
  retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50, timeoutInMs: 5000 },
};

describe('AMQP peer with the real EventHubProducerClient', () => {
  let peer: AmqpPeer;
  let client: EventHubProducerClient;

  beforeAll(async () => {
    peer = await startAmqpPeer({ hubName: 'flowlogs', partitionCount: 3 });
    client = new EventHubProducerClient(peer.connectionString(), fastRetries);
  });

  afterEach(() => peer.reset());

  afterAll(async () => {
    await client.close();
    expect(peer.openConnectionCount()).toBe(0);
    await peer.close();
    expect(peer.errors).toEqual([]);
  });

  it('answers the management reads for the hub and its partitions', async () => {
    const properties = await client.getEventHubProperties();
    expect(properties.name).toBe('flowlogs');
    expect(properties.partitionIds).toEqual(['0', '1', '2']);
    expect(properties.createdOn).toBeInstanceOf(Date);
    expect(properties.createdOn.getTime()).not.toBeNaN();

    await expect(client.getPartitionIds()).resolves.toEqual(['0', '1', '2']);

    const partition = await client.getPartitionProperties('2');
    expect(partition).toMatchObject({ eventHubName: 'flowlogs', partitionId: '2', isEmpty: true, beginningSequenceNumber: 0 });
  });

  it('receives a partition-key batch with exact bodies, keys and properties', async () => {
    const batch = await client.createBatch({ partitionKey: 'nsg-1' });
    expect(batch.maxSizeInBytes).toBe(1024 * 1024);
    expect(batch.tryAdd({ body: Buffer.from('raw bytes') })).toBe(true);
    expect(batch.tryAdd({ body: 'a string', properties: { schema: 'flow', version: 2 } })).toBe(true);
    expect(batch.tryAdd({ body: { record: 1 } })).toBe(true);
    await client.sendBatch(batch);

    expect(peer.batches).toHaveLength(1);
    const [received] = peer.batches;
    expect(received).toMatchObject({ address: 'flowlogs', partitionId: undefined, partitionKey: 'nsg-1', isBatch: true });
    expect(received?.encodedBytes).toBeLessThanOrEqual(batch.sizeInBytes);
    const events = peer.receivedEvents();
    // Buffers travel as-is; strings and objects are JSON-encoded by the client.
    expect(events.map(bodyText)).toEqual(['raw bytes', '"a string"', '{"record":1}']);
    expect(events.slice(1).map(bodyJson)).toEqual(['a string', { record: 1 }]);
    expect(events.map((event) => event.partitionKey)).toEqual(['nsg-1', 'nsg-1', 'nsg-1']);
    expect(events.map((event) => event.bodyType)).toEqual(['data', 'data', 'data']);
    expect(events[1]?.properties).toEqual({ schema: 'flow', version: 2 });
    expect(events[0]?.properties).toEqual({});
  });

  it('routes a partition-id batch to the partition address and counts it', async () => {
    const batch = await client.createBatch({ partitionId: '1' });
    for (const body of ['one', 'two']) expect(batch.tryAdd({ body: Buffer.from(body) })).toBe(true);
    await client.sendBatch(batch);

    expect(peer.batches).toEqual([
      expect.objectContaining({ address: 'flowlogs/Partitions/1', partitionId: '1', partitionKey: undefined }),
    ]);
    expect(peer.receivedEvents().map(bodyText)).toEqual(['one', 'two']);
    const partition = await client.getPartitionProperties('1');
    expect(partition).toMatchObject({ isEmpty: false, lastEnqueuedSequenceNumber: 1 });
  });

  it('retries injected transient faults and delivers the events once', async () => {
    peer.failNext(1);
    peer.failNext(1, 'amqp:internal-error');
    await client.sendBatch([{ body: Buffer.from('retried') }]);

    expect(peer.rejections.map((rejection) => rejection.condition)).toEqual([SERVER_BUSY, 'amqp:internal-error']);
    expect(peer.batches).toHaveLength(1);
    expect(peer.receivedEvents().map(bodyText)).toEqual(['retried']);
  });

  it('also accepts a plain (format 0) message from a generic AMQP client', async () => {
    const connection = create_container().connect({ host: '127.0.0.1', port: peer.port, reconnect: false });
    const sender = connection.open_sender({ target: { address: 'flowlogs' } });
    const outcome = new Promise<string>((resolve) => {
      sender.once('accepted', () => resolve('accepted'));
      sender.once('rejected', (context: EventContext) => resolve(`rejected: ${JSON.stringify(context.delivery?.remote_state)}`));
    });
    sender.once('sendable', () => {
      sender.send({
        body: amqpMessage.data_section(Buffer.from('plain')),
        message_annotations: { 'x-opt-partition-key': 'k' },
        application_properties: { origin: 'rhea' },
      });
    });
    await expect(outcome).resolves.toBe('accepted');
    const closed = new Promise((resolve) => connection.once('connection_close', resolve));
    connection.close();
    await closed;

    expect(peer.batches).toEqual([expect.objectContaining({ address: 'flowlogs', isBatch: false, partitionKey: 'k' })]);
    expect(peer.receivedEvents()).toEqual([expect.objectContaining({ partitionKey: 'k', properties: { origin: 'rhea' } })]);
    expect(peer.receivedEvents().map(bodyText)).toEqual(['plain']);
  });
});

describe('AMQP peer enforcing a small max message size', () => {
  const maxMessageSize = 4096;
  let peer: AmqpPeer;
  let client: EventHubProducerClient;

  beforeAll(async () => {
    peer = await startAmqpPeer({ maxMessageSize });
    client = new EventHubProducerClient(peer.connectionString(), fastRetries);
  });

  afterAll(async () => {
    await client.close();
    await peer.close();
    expect(peer.errors).toEqual([]);
  });

  it('advertises the limit, so tryAdd refuses once the batch is full', async () => {
    const batch = await client.createBatch();
    expect(batch.maxSizeInBytes).toBe(maxMessageSize);
    const eventBytes = 1000;
    let added = 0;
    while (batch.tryAdd({ body: Buffer.alloc(eventBytes, 0x61) })) added++;
    expect(added).toBeGreaterThan(1);
    expect(batch.sizeInBytes).toBeLessThanOrEqual(maxMessageSize);
    expect(batch.sizeInBytes + eventBytes).toBeGreaterThan(maxMessageSize);

    await client.sendBatch(batch);
    expect(peer.batches).toHaveLength(1);
    expect(peer.batches[0]?.events).toHaveLength(added);
    expect(peer.batches[0]?.encodedBytes).toBeLessThanOrEqual(maxMessageSize);
  });

  it('rejects a larger transfer and the send fails without retrying', async () => {
    const oversized = client.sendBatch([{ body: Buffer.alloc(maxMessageSize, 0x62) }]);
    await expect(oversized).rejects.toMatchObject({ code: 'MessageTooLargeError', retryable: false });
    expect(peer.rejections).toEqual([
      expect.objectContaining({ condition: MESSAGE_SIZE_EXCEEDED, address: peer.hubName }),
    ]);
    expect(peer.rejections[0]?.encodedBytes).toBeGreaterThan(maxMessageSize);
  });
});
