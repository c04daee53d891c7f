import { fieldMatches, tupleMatches } from './tupleGrammar';

/**
 * Flow tuple parsing (docs/azure-facts.md sections 1-2). VNet tuples have 13 fields with an IANA protocol
 * number and an encryption field; NSG v1 tuples have 8 fields, NSG v2 adds a state and four counters.
 * Counters are packets then bytes, each direction. What is valid is defined by tupleGrammar.ts.
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

export const FIELD_COUNT: Record<TupleFormat, number> = { vnet: 13, nsg1: 8, nsg2: 13 };
export const PROTOCOL_NAMES: Readonly<Record<string, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6' };
export const FLOW_STATES: Readonly<Record<string, FlowState>> = { B: 'begin', C: 'continuing', E: 'end', D: 'deny' };
/** Timestamps below this are epoch seconds (year 5138 in seconds; 1973 in milliseconds). */
export const SECONDS_LIMIT = 1e11;

/** Why a tuple does not follow the grammar of `format`, or undefined if it does. */
export function tupleProblem(text: string, format: TupleFormat): string | undefined {
  return tupleMatches(text, format) ? undefined : malformedReason(text, format);
}

/** Parses one tuple string. Returns the tuple, or why it is malformed. */
export function parseTuple(text: string, format: TupleFormat): FlowTuple | string {
  const problem = tupleProblem(text, format);
  if (problem !== undefined) return problem;
  const f = text.split(',') as [string, string, string, string, string, string, string, string, string, ...string[]];
  const vnet = format === 'vnet';
  const protocol = vnet ? Number(f[5]) : f[5] === 'T' ? 6 : 17;
  const state = vnet ? f[7] : format === 'nsg2' ? f[8] : undefined;
  const counter = (index: number): number | null => (format === 'nsg1' || f[index] === '' ? null : Number(f[index]));
  return {
    timeMs: timestampMs(f[0]),
    srcIP: f[1],
    dstIP: f[2],
    srcPort: Number(f[3]),
    dstPort: Number(f[4]),
    protocol,
    protocolName: PROTOCOL_NAMES[protocol] ?? null,
    direction: f[6] === 'I' ? 'inbound' : 'outbound',
    decision: f[7] === 'D' ? 'deny' : 'allow', // VNet: state D; NSG: decision D
    flowState: state === undefined ? null : (FLOW_STATES[state] ?? null),
    encryption: vnet ? f[8] : null,
    packetsSent: counter(9),
    bytesSent: counter(10),
    packetsReceived: counter(11),
    bytesReceived: counter(12),
  };
}

export function timestampMs(digits: string): number {
  const value = Number(digits);
  return value < SECONDS_LIMIT ? value * 1000 : value;
}

type Check = [field: Parameters<typeof fieldMatches>[0], label: string, accepted: string];

const CHECKS: Record<TupleFormat, Check[]> = {
  vnet: [
    ['timestamp', 'field 1 (timestamp)', 'epoch seconds or milliseconds'],
    ['ip', 'field 2 (source IP)', 'an IP address'],
    ['ip', 'field 3 (destination IP)', 'an IP address'],
    ['port', 'field 4 (source port)', 'a port'],
    ['port', 'field 5 (destination port)', 'a port'],
    ['protocol', 'field 6 (protocol)', 'an IANA protocol number'],
    ['direction', 'field 7 (direction)', 'I or O'],
    ['vnetState', 'field 8 (flow state)', 'B, C, E or D'],
    ['encryption', 'field 9 (encryption)', 'X or NX...'],
    ['counter', 'field 10 (counter)', 'a number'],
    ['counter', 'field 11 (counter)', 'a number'],
    ['counter', 'field 12 (counter)', 'a number'],
    ['counter', 'field 13 (counter)', 'a number'],
  ],
  nsg1: [],
  nsg2: [],
};
CHECKS.nsg1 = [
  ...CHECKS.vnet.slice(0, 5),
  ['nsgProtocol', 'field 6 (protocol)', 'T or U'],
  ['direction', 'field 7 (direction)', 'I or O'],
  ['decision', 'field 8 (decision)', 'A or D'],
];
CHECKS.nsg2 = [...CHECKS.nsg1, ['nsgState', 'field 9 (flow state)', 'B, C or E'], ...CHECKS.vnet.slice(9)];

/**
 * The first field that does not follow the grammar, or undefined if every field does. Field by field with
 * regular expressions: slower than tupleMatches, and written independently of it (tests hold one to the other).
 */
export function malformedField(text: string, format: TupleFormat): string | undefined {
  const fields = text.split(',');
  if (fields.length !== FIELD_COUNT[format]) return `expected ${FIELD_COUNT[format]} fields, found ${fields.length}`;
  for (const [index, [field, label, accepted]] of CHECKS[format].entries()) {
    const value = fields[index] ?? '';
    if (!fieldMatches(field, value)) return `${label} is not ${accepted}: "${value}"`;
  }
  return undefined;
}

function malformedReason(text: string, format: TupleFormat): string {
  return malformedField(text, format) ?? 'does not match the tuple format';
}
