import { createHash } from 'node:crypto';
import { ZERO } from './charCodes';
import type { TupleContext } from './tupleGroups';
import { FLOW_STATES, PROTOCOL_NAMES, SECONDS_LIMIT, type TupleFormat } from './tuples';

/**
 * Serialises flow tuples as the flat objects of docs/contract.md, fields in the contract's order.
 * Strings from the record go through JSON.stringify once per group; tuple fields follow the tuple grammar
 * (IP addresses, digits, fixed words), so they are written without escaping or parsing them into numbers.
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

/** A JSON number from grammar digits: only leading zeros need rewriting ("0443" is not JSON). */
const number = (digits: string): string => (digits.length > 1 && digits.charCodeAt(0) === ZERO ? String(Number(digits)) : digits);
const counter = (digits: string): string => (digits === '' ? 'null' : number(digits));
const PROTOCOL_NAME_JSON: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(PROTOCOL_NAMES).map(([n, name]) => [n, `"${name}"`]));
const FLOW_STATE_JSON: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(FLOW_STATES).map(([letter, state]) => [letter.charCodeAt(0), `"${state}"`]));
const CODE_I = 0x49;
const CODE_D = 0x44;
const CODE_T = 0x54;

/**
 * One tuple object, from the tuple at `text[from, to)`, which must follow the tuple grammar for `format`
 * (tupleGrammar.ts): fields are found by their commas and copied without checks, straight from the text of
 * a whole tuple array (no string per tuple first). Built with `+`: a rope, which the packer flattens
 * once, together with the rest of its body (see packing.ts).
 */
export function tupleJson(id: string, text: string, format: TupleFormat, context: string, from = 0, to = text.length): string {
  const c1 = text.indexOf(',', from);
  const c2 = text.indexOf(',', c1 + 1);
  const c3 = text.indexOf(',', c2 + 1);
  const c4 = text.indexOf(',', c3 + 1);
  const c5 = text.indexOf(',', c4 + 1);
  const c6 = text.indexOf(',', c5 + 1);
  const vnet = format === 'vnet';
  // Fields 7 and 8 are one letter each: direction, then the VNet state or the NSG decision.
  const direction = text.charCodeAt(c6 + 1);
  const stateOrDecision = text.charCodeAt(c6 + 3);
  const protocol = vnet ? number(text.slice(c5 + 1, c6)) : text.charCodeAt(c5 + 1) === CODE_T ? '6' : '17';
  const state = vnet ? stateOrDecision : format === 'nsg2' ? text.charCodeAt(c6 + 5) : 0;
  const encryptionEnd = vnet ? text.indexOf(',', c6 + 5) : -1;
  let json =
    '{"id":"' + id + '","time":"' + isoTime(text, from, c1) + '",' + context +
    ',"srcIP":"' + text.slice(c1 + 1, c2) + '","dstIP":"' + text.slice(c2 + 1, c3) +
    '","srcPort":' + number(text.slice(c3 + 1, c4)) + ',"dstPort":' + number(text.slice(c4 + 1, c5)) +
    ',"protocol":' + protocol + ',"protocolName":' + (PROTOCOL_NAME_JSON[protocol] ?? 'null') +
    (direction === CODE_I ? ',"direction":"inbound"' : ',"direction":"outbound"') +
    (stateOrDecision === CODE_D ? ',"decision":"deny","flowState":' : ',"decision":"allow","flowState":') + (FLOW_STATE_JSON[state] ?? 'null') +
    ',"encryption":' + (vnet ? '"' + text.slice(c6 + 5, encryptionEnd) + '"' : 'null');
  if (format === 'nsg1') {
    json += ',"packetsSent":null,"bytesSent":null,"packetsReceived":null,"bytesReceived":null}';
  } else {
    const k0 = vnet ? encryptionEnd + 1 : c6 + 7;
    const k1 = text.indexOf(',', k0);
    const k2 = text.indexOf(',', k1 + 1);
    const k3 = text.indexOf(',', k2 + 1);
    json +=
      ',"packetsSent":' + counter(text.slice(k0, k1)) + ',"bytesSent":' + counter(text.slice(k1 + 1, k2)) +
      ',"packetsReceived":' + counter(text.slice(k2 + 1, k3)) + ',"bytesReceived":' + counter(text.slice(k3 + 1, to)) + '}';
  }
  return json;
}

let cachedMinute = NaN;
let cachedPrefix = '';
/** `SS.mmmZ` for each millisecond of a minute, made on first use: tuples mostly repeat the same few. */
const SECOND_TEXT: string[] = [];

/**
 * ISO 8601 with milliseconds. A record's tuples fall within a minute or two: the text up to the minute
 * comes from a one-entry cache and the rest from a table, so no Date is made per tuple.
 */
export function isoTime(text: string, from = 0, to = text.length): string {
  let value = 0;
  for (let k = from; k < to; k++) value = value * 10 + text.charCodeAt(k) - ZERO;
  const ms = value < SECONDS_LIMIT ? value * 1000 : value;
  const minute = Math.floor(ms / 60_000);
  if (minute !== cachedMinute) {
    cachedMinute = minute;
    cachedPrefix = new Date(minute * 60_000).toISOString().slice(0, -7);
  }
  const rest = ms - minute * 60_000;
  return cachedPrefix + (SECOND_TEXT[rest] ??= new Date(rest).toISOString().slice(-7));
}
