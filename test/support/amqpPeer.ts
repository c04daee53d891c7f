/**
 * A loopback AMQP 1.0 peer that the real `@azure/event-hubs` producer can talk to, so tests of
 * our sending code exercise the client's actual batching, encoding, size limits and retries.
 *
 * It plays just enough of the Event Hubs service (see docs/azure-facts.md section 7):
 * - SASL ANONYMOUS or PLAIN over plain TCP (the client skips TLS with `UseDevelopmentEmulator=true`),
 * - `$cbs` answering `put-token` with 200,
 * - `$management` answering READ for `com.microsoft:eventhub` and `com.microsoft:partition`,
 * - receiver links for `<hub>` and `<hub>/Partitions/<id>` that advertise `max-message-size`,
 *   reject larger transfers with `amqp:link:message-size-exceeded` (as the service does, in a
 *   rejected disposition), and otherwise accept and record what arrived.
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  create_container,
  message as amqpMessage,
  types as amqpTypes,
  type Connection,
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import {
  BATCH_MESSAGE_FORMAT,
  decodeBatchPayload,
  decodeSingleMessage,
  isRecord,
  type DecodedDelivery,
  type ReceivedEvent,
} from './amqpPeer/eventDecoding';

export { bodyJson, bodyText, type EventBodyType, type ReceivedEvent } from './amqpPeer/eventDecoding';

export interface AmqpPeerOptions {
  /** Event hub the peer serves; links to any other entity are refused with `amqp:not-found`. */
  hubName?: string;
  partitionCount?: number;
  /** Advertised on every receiving link and enforced per transfer. Default 1 MiB, as on Standard. */
  maxMessageSize?: number;
}

/** One accepted transfer: a batch (the client's usual format) or a plain single message. */
export interface ReceivedBatch {
  /** Link target, `<hub>` or `<hub>/Partitions/<id>`. */
  address: string;
  /** Set when the producer addressed a partition directly. */
  partitionId: string | undefined;
  /** `x-opt-partition-key` on the transfer (for batches, the envelope's annotation). */
  partitionKey: string | undefined;
  /** True for message format 0x80013700. */
  isBatch: boolean;
  /** Size of the transferred message; for format 0 it is re-encoded by rhea, so approximate. */
  encodedBytes: number;
  events: ReceivedEvent[];
}

/** A transfer the peer refused: too large, injected fault, or undecodable. */
export interface RejectedDelivery {
  address: string;
  encodedBytes: number;
  condition: string;
  description: string;
}

export interface AmqpPeer {
  readonly port: number;
  readonly hubName: string;
  readonly partitionIds: readonly string[];
  readonly maxMessageSize: number;
  /** Accepted transfers in arrival order. */
  readonly batches: ReceivedBatch[];
  readonly rejections: RejectedDelivery[];
  /** Errors rhea reported on the peer's side (protocol, link or session errors). */
  readonly errors: unknown[];
  /** All accepted events, flattened across batches. */
  receivedEvents(): ReceivedEvent[];
  /** AMQP connections currently open to the peer. */
  openConnectionCount(): number;
  /** Connection string for `EventHubProducerClient`; another hub name lets a test hit `amqp:not-found`. */
  connectionString(hubName?: string): string;
  /** Reject the next `count` event transfers with `condition` (retryable by default), then accept again. */
  failNext(count: number, condition?: string): void;
  /** Forget received and rejected transfers and pending faults (partition statistics are kept). */
  reset(): void;
  close(): Promise<void>;
}

export const MESSAGE_SIZE_EXCEEDED = 'amqp:link:message-size-exceeded';
export const SERVER_BUSY = 'com.microsoft:server-busy';
const DECODE_ERROR = 'amqp:decode-error';
const NOT_FOUND = 'amqp:not-found';

const ONE_MEBIBYTE = 1024 * 1024;
const CBS_NODE = '$cbs';
const MANAGEMENT_NODE = '$management';
/** The emulator's well-known credentials; the peer accepts any token, the client just needs a key to sign with. */
const KEY_NAME = 'RootManageSharedAccessKey';
const KEY_VALUE = 'SAS_KEY_VALUE';
/** How long `close()` lets connected clients answer the close frame before dropping their sockets. */
const CLOSE_GRACE_MS = 1000;

/** What a receiving link is attached to. */
type LinkRole = { kind: 'cbs' } | { kind: 'management' } | { kind: 'entity'; address: string; partitionId: string | undefined };

interface RequestOutcome {
  statusCode: number;
  description: string;
  condition?: string;
  body?: unknown;
}

interface PartitionStats {
  eventCount: number;
  lastEnqueuedAt: Date | undefined;
}

/** The service's wording, which the client maps to `MessagingEntityNotFoundError`. */
function entityNotFound(entity: string): string {
  return `The messaging entity '${entity}' could not be found.`;
}

function terminusAddress(terminus: unknown): string | undefined {
  return isRecord(terminus) && typeof terminus.address === 'string' ? terminus.address : undefined;
}

function stringProperty(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/** The client matches a response to its request by `correlation-id` = request `message-id` (a string uuid). */
function messageIdOf(value: unknown): string | number | Buffer | undefined {
  return typeof value === 'string' || typeof value === 'number' || Buffer.isBuffer(value) ? value : undefined;
}

/** Narrows rhea's untyped server SASL mechanism table. */
interface ServerSaslMechanisms {
  enable_anonymous(): void;
  enable_plain(check: (username: string, password: string) => boolean): void;
}

function isServerSaslMechanisms(value: unknown): value is ServerSaslMechanisms {
  return isRecord(value) && typeof value.enable_anonymous === 'function' && typeof value.enable_plain === 'function';
}

export async function startAmqpPeer(options: AmqpPeerOptions = {}): Promise<AmqpPeer> {
  const hubName = options.hubName ?? 'flowlogs';
  const partitionIds = Array.from({ length: options.partitionCount ?? 2 }, (_, index) => String(index));
  const maxMessageSize = options.maxMessageSize ?? ONE_MEBIBYTE;
  const createdAt = new Date();

  const batches: ReceivedBatch[] = [];
  const rejections: RejectedDelivery[] = [];
  const errors: unknown[] = [];
  const pendingFaults: string[] = [];
  const partitionStats = new Map<string, PartitionStats>(partitionIds.map((id) => [id, { eventCount: 0, lastEnqueuedAt: undefined }]));
  const linkRoles = new WeakMap<Receiver, LinkRole>();
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();

  // A private container: the client's rhea-promise has its own, and the global one stays untouched.
  const container = create_container({ id: 'amqp-peer' });
  const sasl: unknown = container.sasl_server_mechanisms;
  if (!isServerSaslMechanisms(sasl)) throw new Error('rhea server SASL mechanisms not found');
  sasl.enable_anonymous();
  sasl.enable_plain(() => true);

  function roleOf(address: string | undefined): LinkRole | undefined {
    if (address === CBS_NODE) return { kind: 'cbs' };
    // The producer addresses `$management`; its config also names `<hub>/$management`, so accept both.
    if (address === MANAGEMENT_NODE || address === `${hubName}/${MANAGEMENT_NODE}`) return { kind: 'management' };
    if (address === undefined) return undefined;
    // Entity names are case-insensitive in Event Hubs.
    const [hub, partitionsSegment, partitionId, ...rest] = address.split('/');
    if (hub?.toLowerCase() !== hubName.toLowerCase() || rest.length > 0) return undefined;
    if (partitionsSegment === undefined) return { kind: 'entity', address, partitionId: undefined };
    if (partitionsSegment.toLowerCase() === 'partitions' && partitionId !== undefined && partitionIds.includes(partitionId)) {
      return { kind: 'entity', address, partitionId };
    }
    return undefined;
  }

  function answerCbs(properties: Record<string, unknown>): RequestOutcome {
    if (properties.operation !== 'put-token') {
      return { statusCode: 400, description: `unsupported $cbs operation ${String(properties.operation)}`, condition: 'amqp:not-implemented' };
    }
    return { statusCode: 200, description: 'OK' };
  }

  function answerManagement(properties: Record<string, unknown>): RequestOutcome {
    if (properties.operation !== 'READ') {
      return { statusCode: 400, description: `unsupported operation ${String(properties.operation)}`, condition: 'amqp:not-implemented' };
    }
    const name = stringProperty(properties, 'name');
    if (name?.toLowerCase() !== hubName.toLowerCase()) {
      return { statusCode: 404, description: entityNotFound(String(name)), condition: NOT_FOUND };
    }
    const type = stringProperty(properties, 'type');
    if (type === 'com.microsoft:eventhub') {
      return {
        statusCode: 200,
        description: 'OK',
        body: {
          name: hubName,
          type,
          created_at: createdAt, // rhea encodes a Date as an AMQP timestamp, as the service sends it
          partition_count: amqpTypes.wrap_int(partitionIds.length),
          partition_ids: amqpTypes.wrap_array(partitionIds, 0xb1 /* str32-utf8 */, undefined),
        },
      };
    }
    if (type === 'com.microsoft:partition') {
      const partition = stringProperty(properties, 'partition');
      const stats = partition === undefined ? undefined : partitionStats.get(partition);
      if (partition === undefined || stats === undefined) {
        return { statusCode: 404, description: `partition ${String(partition)} not found`, condition: NOT_FOUND };
      }
      // Only events sent to a partition address are counted: the peer does not emulate key hashing.
      const lastSequenceNumber = stats.eventCount - 1;
      return {
        statusCode: 200,
        description: 'OK',
        body: {
          name: hubName,
          type,
          partition,
          begin_sequence_number: amqpTypes.wrap_long(0),
          last_enqueued_sequence_number: amqpTypes.wrap_long(lastSequenceNumber),
          last_enqueued_offset: String(lastSequenceNumber),
          last_enqueued_time_utc: stats.lastEnqueuedAt ?? new Date(0),
          is_partition_empty: stats.eventCount === 0,
        },
      };
    }
    return { statusCode: 404, description: `unknown management type ${String(type)}`, condition: NOT_FOUND };
  }

  /**
   * The reply goes on the link the client named in `reply-to`: `$cbs` uses the receiver's link
   * name, `$management` the receiver's target address.
   */
  function findReplyLink(context: EventContext, replyTo: string): Sender | undefined {
    return context.session?.find_sender(
      (sender: Sender) => sender.name === replyTo || terminusAddress(sender.target) === replyTo,
    );
  }

  function handleRequest(role: 'cbs' | 'management', context: EventContext, delivery: Delivery): void {
    const request: unknown = context.message;
    delivery.accept();
    if (!isRecord(request)) return;
    const properties = isRecord(request.application_properties) ? request.application_properties : {};
    const outcome = role === 'cbs' ? answerCbs(properties) : answerManagement(properties);
    const replyTo = stringProperty(request, 'reply_to');
    const replyLink = replyTo === undefined ? undefined : findReplyLink(context, replyTo);
    if (replyLink === undefined) {
      errors.push(new Error(`no reply link for ${role} request (reply-to ${String(replyTo)})`));
      return;
    }
    const applicationProperties: Record<string, unknown> = {
      'status-code': amqpTypes.wrap_int(outcome.statusCode),
      'status-description': outcome.description,
    };
    if (outcome.condition !== undefined) applicationProperties['error-condition'] = outcome.condition;
    const response: Message = { correlation_id: messageIdOf(request.message_id), application_properties: applicationProperties, body: outcome.body ?? null };
    replyLink.send(response);
  }

  function reject(delivery: Delivery, address: string, encodedBytes: number, condition: string, description: string): void {
    rejections.push({ address, encodedBytes, condition, description });
    delivery.reject({ condition, description });
  }

  function handleEventTransfer(role: Extract<LinkRole, { kind: 'entity' }>, context: EventContext, delivery: Delivery): void {
    // For any format but 0 rhea leaves the payload undecoded, which gives the exact size.
    const payload: unknown = context.message;
    const isBatch = delivery.format === BATCH_MESSAGE_FORMAT;
    const rawPayload = Buffer.isBuffer(payload) ? payload : undefined;
    const encodedBytes = rawPayload?.length ?? (context.message === undefined ? 0 : amqpMessage.encode(context.message).length);

    if (encodedBytes > maxMessageSize) {
      // Same condition and wording as the service's rejected disposition.
      const description = `The received message (delivery-id:${delivery.id}, size:${encodedBytes} bytes) exceeds the limit (${maxMessageSize} bytes) currently allowed on the link.`;
      reject(delivery, role.address, encodedBytes, MESSAGE_SIZE_EXCEEDED, description);
      return;
    }
    const injectedCondition = pendingFaults.shift();
    if (injectedCondition !== undefined) {
      reject(delivery, role.address, encodedBytes, injectedCondition, 'Injected fault from the test AMQP peer.');
      return;
    }

    let decoded: DecodedDelivery;
    try {
      if (isBatch && rawPayload !== undefined) decoded = decodeBatchPayload(rawPayload);
      else if (delivery.format === 0 && isRecord(payload)) decoded = decodeSingleMessage(payload);
      else throw new Error(`unsupported message format 0x${delivery.format.toString(16)}`);
    } catch (error) {
      reject(delivery, role.address, encodedBytes, DECODE_ERROR, error instanceof Error ? error.message : String(error));
      return;
    }

    batches.push({ address: role.address, partitionId: role.partitionId, partitionKey: decoded.partitionKey, isBatch, encodedBytes, events: decoded.events });
    const stats = role.partitionId === undefined ? undefined : partitionStats.get(role.partitionId);
    if (stats !== undefined) {
      stats.eventCount += decoded.events.length;
      stats.lastEnqueuedAt = new Date();
    }
    delivery.accept();
  }

  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver;
    if (receiver === undefined) return;
    const address = terminusAddress(receiver.target);
    const role = roleOf(address);
    // Echo the termini: a null target in the answering attach would mean "refused".
    receiver.set_target({ address: address ?? '' });
    const sourceAddress = terminusAddress(receiver.source);
    if (sourceAddress !== undefined) receiver.set_source({ address: sourceAddress });
    if (role === undefined) {
      receiver.close({ condition: NOT_FOUND, description: entityNotFound(String(address)) });
      return;
    }
    linkRoles.set(receiver, role);
  });

  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender;
    if (sender === undefined) return;
    const sourceAddress = terminusAddress(sender.source);
    sender.set_source({ address: sourceAddress ?? '' });
    const targetAddress = terminusAddress(sender.target);
    if (targetAddress !== undefined) sender.set_target({ address: targetAddress });
  });

  container.on('message', (context: EventContext) => {
    const { receiver, delivery } = context;
    if (receiver === undefined || delivery === undefined) return;
    const role = linkRoles.get(receiver);
    if (role === undefined) {
      delivery.reject({ condition: NOT_FOUND, description: 'link is not attached to a known node' });
    } else if (role.kind === 'entity') {
      handleEventTransfer(role, context, delivery);
    } else {
      handleRequest(role.kind, context, delivery);
    }
  });

  container.on('connection_open', (context: EventContext) => {
    connections.add(context.connection);
  });
  container.on('disconnected', (context: EventContext) => {
    connections.delete(context.connection);
  });
  container.on('connection_close', (context: EventContext) => {
    connections.delete(context.connection);
  });
  // Without listeners rhea would rethrow these on the container (or log them); keep them for tests.
  for (const event of ['error', 'connection_error', 'session_error', 'receiver_error', 'sender_error', 'protocol_error']) {
    container.on(event, (contextOrError: unknown) => {
      errors.push(isRecord(contextOrError) && 'connection' in contextOrError ? describeEndpointError(contextOrError) : contextOrError);
    });
  }

  const server: Server = container.listen({
    host: '127.0.0.1',
    port: 0,
    // Defaults for links the client attaches: we settle transfers ourselves and advertise the limit.
    receiver_options: { autoaccept: false, max_message_size: maxMessageSize },
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;

  return {
    port,
    hubName,
    partitionIds,
    maxMessageSize,
    batches,
    rejections,
    errors,
    receivedEvents: () => batches.flatMap((batch) => batch.events),
    openConnectionCount: () => connections.size,
    connectionString: (entity = hubName) =>
      `Endpoint=sb://127.0.0.1:${port}/;SharedAccessKeyName=${KEY_NAME};SharedAccessKey=${KEY_VALUE};UseDevelopmentEmulator=true;EntityPath=${entity}`,
    failNext(count: number, condition = SERVER_BUSY) {
      for (let i = 0; i < count; i++) pendingFaults.push(condition);
    },
    reset() {
      batches.length = 0;
      rejections.length = 0;
      errors.length = 0;
      pendingFaults.length = 0;
    },
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // A client still connected answers our close frame and the socket ends on its own.
        for (const connection of connections) if (!connection.is_closed()) connection.close();
        const dropStragglers = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, CLOSE_GRACE_MS);
        await serverClosed;
        clearTimeout(dropStragglers);
      })();
      return closing;
    },
  };
}

function describeEndpointError(context: Record<string, unknown>): unknown {
  for (const endpoint of ['receiver', 'sender', 'session', 'connection']) {
    const candidate = context[endpoint];
    if (isRecord(candidate) && candidate.error !== undefined) return candidate.error;
  }
  return context.error;
}
