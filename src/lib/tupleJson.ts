import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Char } from './charCodes';
import type { TupleContext } from './tupleGroups';
import { FLOW_STATES, PROTOCOL_NAMES, SECONDS_LIMIT, type TupleFormat } from './tuples';

/**
 * Writes flow tuples as the flat objects of docs/contract.md, fields in the contract's order, as UTF-8 bytes
 * straight into an event body. Strings from the record go through JSON.stringify once per flow group; tuple
 * fields follow the tuple grammar (IP addresses, digits, fixed letters), so they are copied byte by byte from
 * the blob without escaping, decoding or parsing them into numbers. No string is made per tuple: at these
 * volumes (a tuple object is ten times its tuple) building and joining strings costs more than the rest.
 */

/** Deterministic per source blob (and its generation, when it was replaced): the same tuple always gets the same id. */
export function tupleIdPrefix(sourceId: string, generation = 1): string {
  // A source id starts with an account name, never with `[`: the two forms cannot collide.
  const key = generation > 1 ? JSON.stringify([sourceId, generation]) : sourceId;
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The part of a tuple object shared by every tuple of a group, from `recordTime` to `rule`. */
export function contextJson(context: TupleContext): string {
  const j = JSON.stringify;
  return (
    `"recordTime":${j(context.recordTime)},"category":${j(context.category)},"flowLogVersion":${j(context.flowLogVersion)},` +
    `"flowLogResourceID":${j(context.flowLogResourceID)},"flowLogGUID":${j(context.flowLogGUID)},` +
    `"targetResourceID":${j(context.targetResourceID)},"macAddress":${j(context.macAddress)},"aclID":${j(context.aclID)},"rule":${j(context.rule)}`
  );
}

/** What the tuple objects of one flow group share: the bytes from the end of `time` to the start of `srcIP`. */
export interface GroupJson {
  format: TupleFormat;
  middle: Buffer;
  /** The middle is ASCII (every other byte of a tuple object is). */
  ascii: boolean;
}

export function groupJson(context: TupleContext, format: TupleFormat): GroupJson {
  const middle = Buffer.from(`",${contextJson(context)},"srcIP":"`);
  return { format, middle, ascii: isAscii(middle) };
}

/** `{"id":"<prefix>-<record offset>-`: how the objects of one record's tuples begin; the tuple's index follows. */
export function idOpening(idBase: string): Buffer {
  return Buffer.from(`{"id":"${idBase}`, 'latin1');
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const TIME_KEY = latin1('","time":"');
const ADDRESS_PORT_KEYS = [latin1('","dstIP":"'), latin1('","srcPort":'), latin1(',"dstPort":')] as const;
const PACKETS_SENT_AFTER_ENCRYPTION = latin1('","packetsSent":');
const COUNTER_KEYS = [latin1(',"bytesSent":'), latin1(',"packetsReceived":'), latin1(',"bytesReceived":')] as const;
const NULL = latin1('null');

/**
 * Larger than everything a tuple object holds besides its id opening, group middle and the bytes copied from
 * the tuple: keys, the time, the cached protocol-to-encryption part, `null`s for empty counters.
 */
const FIXED_BYTES_BOUND = 400;

/** An upper bound of the size of the object of a `tupleLength`-byte tuple: room to write it in place. */
export function tupleJsonBound(tupleLength: number, idOpen: Buffer, group: GroupJson): number {
  return idOpen.length + group.middle.length + tupleLength + FIXED_BYTES_BOUND;
}

/**
 * Writes the object of the tuple at `src[from, to)`, which must follow the tuple grammar for `group.format`
 * (tupleGrammar.ts), at `out[at]`: fields are found by their commas and copied without checks. `out` must
 * have tupleJsonBound() bytes of room. Returns the index after the object.
 */
export function writeTupleJson(out: Buffer, at: number, src: Uint8Array, from: number, to: number, idOpen: Buffer, index: number, group: GroupJson): number {
  const format = group.format;
  let p = put(out, at, idOpen);
  p = putDecimal(out, p, index);
  p = put(out, p, TIME_KEY);
  let c = commaAfter(src, from);
  p = putTime(out, p, src, from, c);
  p = put(out, p, group.middle);
  let start = c;
  // Source and destination IP, then the ports; the piece after each field ends with the next key.
  for (let k = 0; k < 4; k++) {
    start = c + 1;
    c = commaAfter(src, start);
    p = k < 2 ? copy(out, p, src, start, c) : putNumber(out, p, src, start, c);
    if (k < 3) p = put(out, p, ADDRESS_PORT_KEYS[k] as Buffer);
  }
  // Protocol, then one letter each: direction, VNet state or NSG decision, and for NSG v2 the state.
  let protocol: number;
  if (format === 'vnet') {
    protocol = 0;
    for (c++; src[c] !== Char.COMMA; c++) protocol = protocol * 10 + (src[c] as number) - Char.ZERO;
  } else {
    protocol = src[c + 1] === T ? 6 : 17;
    c += 2;
  }
  const direction = src[c + 1] as number;
  const stateOrDecision = src[c + 3] as number;
  const nsgState = format === 'nsg2' ? (src[c + 5] as number) : 0;
  p = put(out, p, protocolToEncryption(format, protocol, direction, stateOrDecision, nsgState));
  if (format === 'nsg1') return p;
  if (format === 'vnet') {
    start = c + 5;
    c = commaAfter(src, start);
    p = copy(out, p, src, start, c);
    p = put(out, p, PACKETS_SENT_AFTER_ENCRYPTION);
  } else {
    c += 6;
  }
  // Four counters; the piece before the first one ends with its key.
  for (let k = 0; k < 3; k++) {
    start = c + 1;
    c = commaAfter(src, start);
    p = putCounter(out, p, src, start, c);
    p = put(out, p, COUNTER_KEYS[k] as Buffer);
  }
  p = putCounter(out, p, src, c + 1, to);
  out[p] = Char.CLOSE_BRACE;
  return p + 1;
}

/** One tuple object as text, for callers outside an event body. */
export function tupleJson(idBase: string, index: number, text: string, group: GroupJson): string {
  const src = Buffer.from(text, 'latin1');
  const idOpen = idOpening(idBase);
  const out = Buffer.allocUnsafe(tupleJsonBound(src.length, idOpen, group));
  return out.toString('utf8', 0, writeTupleJson(out, 0, src, 0, src.length, idOpen, index, group));
}

const D = 0x44, I = 0x49, T = 0x54;
const PIECES = new Map<number, Buffer>();
const FORMAT_CODES: Readonly<Record<TupleFormat, number>> = { vnet: 0, nsg2: 1, nsg1: 2 };

/**
 * `,"protocol":...` up to the encryption's value (VNet), the first counter's value (NSG v2) or the end of
 * the object (NSG v1). It depends on five small values only, so it is made once per combination.
 */
function protocolToEncryption(format: TupleFormat, protocol: number, direction: number, stateOrDecision: number, nsgState: number): Buffer {
  const key = (((FORMAT_CODES[format] * 256 + protocol) * 128 + direction) * 128 + stateOrDecision) * 128 + nsgState;
  let piece = PIECES.get(key);
  if (piece === undefined) {
    const name = PROTOCOL_NAMES[String(protocol)];
    const state = FLOW_STATES[String.fromCharCode(format === 'vnet' ? stateOrDecision : nsgState)];
    const text =
      `,"protocol":${protocol},"protocolName":${name === undefined ? 'null' : `"${name}"`},"direction":"${direction === I ? 'inbound' : 'outbound'}"` +
      `,"decision":"${stateOrDecision === D ? 'deny' : 'allow'}","flowState":${format === 'nsg1' || state === undefined ? 'null' : `"${state}"`},"encryption":` +
      (format === 'vnet' ? '"' : format === 'nsg2' ? 'null,"packetsSent":' : 'null,"packetsSent":null,"bytesSent":null,"packetsReceived":null,"bytesReceived":null}');
    piece = latin1(text);
    PIECES.set(key, piece);
  }
  return piece;
}

function commaAfter(src: Uint8Array, from: number): number {
  let c = from;
  while (src[c] !== Char.COMMA) c++;
  return c;
}

/** Short pieces are copied in the loop: a native copy costs more than it saves below a few dozen bytes. */
function put(out: Buffer, at: number, piece: Buffer): number {
  const length = piece.length;
  if (length > 32) {
    out.set(piece, at);
    return at + length;
  }
  for (let k = 0; k < length; k++) out[at + k] = piece[k] as number;
  return at + length;
}

function copy(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  let p = at;
  for (let k = from; k < to; k++) out[p++] = src[k] as number;
  return p;
}

/** A JSON number from grammar digits: leading zeros dropped ("0443" is not JSON). */
function putNumber(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  let first = from;
  while (to - first > 1 && src[first] === Char.ZERO) first++;
  return copy(out, at, src, first, to);
}

/** A counter: empty is null. */
function putCounter(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  return from === to ? put(out, at, NULL) : putNumber(out, at, src, from, to);
}

function putDecimal(out: Buffer, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let k = at + digits - 1; k >= at; k--) {
    out[k] = Char.ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return at + digits;
}

let cachedMinute = NaN;
let cachedPrefix: Buffer = Buffer.alloc(0);

/**
 * ISO 8601 with milliseconds. A record's tuples fall within a minute or two: the text up to the minute comes
 * from a one-entry cache, seconds and milliseconds are written digit by digit, and no Date is made per tuple.
 */
function putTime(out: Buffer, at: number, src: Uint8Array, from: number, to: number): number {
  let value = 0;
  for (let k = from; k < to; k++) value = value * 10 + (src[k] as number) - Char.ZERO;
  const ms = value < SECONDS_LIMIT ? value * 1000 : value;
  const minute = Math.floor(ms / 60_000);
  if (minute !== cachedMinute) {
    cachedMinute = minute;
    cachedPrefix = latin1(new Date(minute * 60_000).toISOString().slice(0, -7));
  }
  let p = put(out, at, cachedPrefix);
  const rest = ms - minute * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  out[p++] = Char.ZERO + Math.floor(seconds / 10);
  out[p++] = Char.ZERO + (seconds % 10);
  out[p++] = Char.DOT;
  out[p++] = Char.ZERO + Math.floor(millis / 100);
  out[p++] = Char.ZERO + (Math.floor(millis / 10) % 10);
  out[p++] = Char.ZERO + (millis % 10);
  out[p++] = 0x5a;
  return p;
}
