/**
 * Turns what an Event Hubs producer transfers into plain records.
 *
 * `@azure/event-hubs` always sends with message format 0x80013700: the payload is an AMQP
 * "envelope" message whose body is a list of data sections, each holding one fully encoded
 * AMQP message (one event). rhea hands such a delivery over as raw bytes, so we decode the
 * envelope and then every inner message ourselves.
 */
import { message as amqpMessage } from 'rhea';

/** Message format the client uses for batches (Microsoft's "batched message" format). */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** AMQP body section descriptor codes. */
const DATA_SECTION = 0x75;
const SEQUENCE_SECTION = 0x76;

const PARTITION_KEY_ANNOTATION = 'x-opt-partition-key';

export type EventBodyType = 'data' | 'value' | 'sequence';

export interface ReceivedEvent {
  /** Raw bytes of the data section(s); empty for value and sequence bodies. */
  body: Buffer;
  bodyType: EventBodyType;
  /** The decoded body when it is an amqp-value or amqp-sequence section, otherwise undefined. */
  bodyValue: unknown;
  /** The event's own `x-opt-partition-key` message annotation. */
  partitionKey: string | undefined;
  /** Application properties (`EventData.properties`). */
  properties: Record<string, unknown>;
}

export interface DecodedDelivery {
  /** `x-opt-partition-key` on the envelope (the client copies the first event's annotations there). */
  partitionKey: string | undefined;
  events: ReceivedEvent[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** rhea's decoded body section: `{ typecode, content, multiple? }` (data and sequence sections only). */
interface BodySection {
  typecode: number;
  content: unknown;
  multiple: boolean;
}

function asBodySection(body: unknown): BodySection | undefined {
  if (!isRecord(body) || typeof body.typecode !== 'number') return undefined;
  return { typecode: body.typecode, content: body.content, multiple: body.multiple === true };
}

/** The section contents as a list, whether rhea merged several sections or kept one. */
function sectionParts(section: BodySection): unknown[] {
  return section.multiple && Array.isArray(section.content) ? section.content : [section.content];
}

function toBuffer(part: unknown): Buffer {
  if (part === null || part === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(part)) return part;
  if (part instanceof Uint8Array) return Buffer.from(part);
  throw new Error(`expected binary data section content, got ${typeof part}`);
}

function partitionKeyOf(decoded: Record<string, unknown>): string | undefined {
  const annotations = decoded.message_annotations;
  if (!isRecord(annotations)) return undefined;
  const key = annotations[PARTITION_KEY_ANNOTATION];
  return typeof key === 'string' ? key : undefined;
}

function decodeMessage(encoded: Buffer): Record<string, unknown> {
  const decoded: unknown = amqpMessage.decode(encoded);
  if (!isRecord(decoded)) throw new Error('rhea did not decode an AMQP message');
  return decoded;
}

/** One AMQP message (already decoded by rhea) as a received event. */
export function eventFromMessage(decoded: Record<string, unknown>): ReceivedEvent {
  const properties = isRecord(decoded.application_properties) ? { ...decoded.application_properties } : {};
  const partitionKey = partitionKeyOf(decoded);
  const section = asBodySection(decoded.body);
  if (section?.typecode === DATA_SECTION) {
    const body = Buffer.concat(sectionParts(section).map(toBuffer));
    return { body, bodyType: 'data', bodyValue: undefined, partitionKey, properties };
  }
  if (section?.typecode === SEQUENCE_SECTION) {
    return { body: Buffer.alloc(0), bodyType: 'sequence', bodyValue: section.content, partitionKey, properties };
  }
  // rhea unwraps an amqp-value section straight into `body`.
  return { body: Buffer.alloc(0), bodyType: 'value', bodyValue: decoded.body, partitionKey, properties };
}

/** Decodes a batched (format 0x80013700) payload: the envelope's data sections are the events. */
export function decodeBatchPayload(payload: Buffer): DecodedDelivery {
  const envelope = decodeMessage(payload);
  const section = asBodySection(envelope.body);
  if (section?.typecode !== DATA_SECTION) {
    throw new Error('batch envelope body is not a list of data sections');
  }
  const events = sectionParts(section).map((part) => eventFromMessage(decodeMessage(toBuffer(part))));
  return { partitionKey: partitionKeyOf(envelope), events };
}

/** A plain (format 0) message rhea already decoded is a single event. */
export function decodeSingleMessage(decoded: Record<string, unknown>): DecodedDelivery {
  return { partitionKey: partitionKeyOf(decoded), events: [eventFromMessage(decoded)] };
}

/** Body bytes as UTF-8. Note the client JSON-encodes non-binary bodies: `body: 'hi'` arrives as `"hi"`. */
export function bodyText(event: ReceivedEvent): string {
  return event.body.toString('utf8');
}

/** Body parsed as JSON, the inverse of how the client encodes string/object bodies. */
export function bodyJson(event: ReceivedEvent): unknown {
  return JSON.parse(bodyText(event));
}
