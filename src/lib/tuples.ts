import { isIP } from 'node:net';

/**
 * Flow tuple parsing (docs/azure-facts.md sections 1-2). VNet tuples have 13 fields with an IANA protocol
 * number and an encryption field; NSG v1 tuples have 8 fields, NSG v2 adds a state and four counters.
 * Counters are packets then bytes, each direction.
 */

export type TupleFormat = 'vnet' | 'nsg1' | 'nsg2';
export type FlowState = 'begin' | 'continuing' | 'end' | 'deny';

export interface FlowTuple {
  timeMs: number;
  srcIP: string;
  dstIP: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  protocolName: string | null;
  direction: 'inbound' | 'outbound';
  decision: 'allow' | 'deny';
  flowState: FlowState | null;
  encryption: string | null;
  packetsSent: number | null;
  bytesSent: number | null;
  packetsReceived: number | null;
  bytesReceived: number | null;
}

const FIELD_COUNT: Record<TupleFormat, number> = { vnet: 13, nsg1: 8, nsg2: 13 };
const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };
const VNET_STATES: Readonly<Record<string, FlowState>> = { B: 'begin', C: 'continuing', E: 'end', D: 'deny' };
const NSG_STATES: Readonly<Record<string, FlowState>> = { B: 'begin', C: 'continuing', E: 'end' };
const NSG_PROTOCOLS: Readonly<Record<string, number>> = { T: 6, U: 17 };
const DIRECTIONS: Readonly<Record<string, 'inbound' | 'outbound'>> = { I: 'inbound', O: 'outbound' };
const ENCRYPTION = /^(X|NX(_[A-Z0-9]+)*)$/;
const DIGITS = /^\d+$/;
/** Timestamps below this are epoch seconds (year 5138 in seconds; 1973 in milliseconds). */
const SECONDS_LIMIT = 1e11;
const MAX_TIME_MS = 8.64e15;

/** Parses one tuple string. Returns the tuple, or why it is malformed. */
export function parseTuple(text: string, format: TupleFormat): FlowTuple | string {
  const fields = text.split(',');
  if (fields.length !== FIELD_COUNT[format]) return `expected ${FIELD_COUNT[format]} fields, found ${fields.length}`;
  const [time, srcIP, dstIP, srcPort, dstPort, protocol, direction, third, fourth] = fields as [string, string, string, string, string, string, string, string, string];

  const timeMs = parseTimestamp(time);
  if (timeMs === undefined) return `field 1 (timestamp) is not epoch seconds or milliseconds: "${time}"`;
  if (isIP(srcIP) === 0) return `field 2 (source IP) is not an IP address: "${srcIP}"`;
  if (isIP(dstIP) === 0) return `field 3 (destination IP) is not an IP address: "${dstIP}"`;
  const src = parsePort(srcPort);
  if (src === undefined) return `field 4 (source port) is not a port: "${srcPort}"`;
  const dst = parsePort(dstPort);
  if (dst === undefined) return `field 5 (destination port) is not a port: "${dstPort}"`;
  const dir = DIRECTIONS[direction];
  if (!dir) return `field 7 (direction) is not I or O: "${direction}"`;

  let protocolNumber: number | undefined;
  let decision: 'allow' | 'deny';
  let flowState: FlowState | null = null;
  let encryption: string | null = null;
  if (format === 'vnet') {
    protocolNumber = DIGITS.test(protocol) && protocol.length <= 3 ? Number(protocol) : undefined;
    if (protocolNumber === undefined || protocolNumber > 255) return `field 6 (protocol) is not an IANA protocol number: "${protocol}"`;
    const state = VNET_STATES[third];
    if (!state) return `field 8 (flow state) is not B, C, E or D: "${third}"`;
    if (!ENCRYPTION.test(fourth)) return `field 9 (encryption) is not X or NX...: "${fourth}"`;
    flowState = state;
    decision = state === 'deny' ? 'deny' : 'allow';
    encryption = fourth;
  } else {
    protocolNumber = NSG_PROTOCOLS[protocol];
    if (protocolNumber === undefined) return `field 6 (protocol) is not T or U: "${protocol}"`;
    if (third !== 'A' && third !== 'D') return `field 8 (decision) is not A or D: "${third}"`;
    decision = third === 'A' ? 'allow' : 'deny';
    if (format === 'nsg2') {
      const state = NSG_STATES[fourth];
      if (!state) return `field 9 (flow state) is not B, C or E: "${fourth}"`;
      flowState = state;
    }
  }

  const counters: (number | null)[] = [null, null, null, null];
  if (format !== 'nsg1') {
    for (let c = 0; c < 4; c++) {
      const raw = fields[9 + c] as string;
      const value = raw === '' ? null : parseCounter(raw);
      if (value === undefined) return `field ${10 + c} (counter) is not a number: "${raw}"`;
      counters[c] = value;
    }
  }
  return {
    timeMs,
    srcIP,
    dstIP,
    srcPort: src,
    dstPort: dst,
    protocol: protocolNumber,
    protocolName: PROTOCOL_NAMES[protocolNumber] ?? null,
    direction: dir,
    decision,
    flowState,
    encryption,
    packetsSent: counters[0] ?? null,
    bytesSent: counters[1] ?? null,
    packetsReceived: counters[2] ?? null,
    bytesReceived: counters[3] ?? null,
  };
}

function parseTimestamp(raw: string): number | undefined {
  if (!DIGITS.test(raw) || raw.length > 16) return undefined;
  const value = Number(raw);
  const ms = value < SECONDS_LIMIT ? value * 1000 : value;
  return ms <= MAX_TIME_MS ? ms : undefined;
}

function parsePort(raw: string): number | undefined {
  if (!DIGITS.test(raw) || raw.length > 5) return undefined;
  const value = Number(raw);
  return value <= 65535 ? value : undefined;
}

function parseCounter(raw: string): number | undefined {
  if (!DIGITS.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}
