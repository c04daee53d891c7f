import { createHash } from 'node:crypto';
import type { TupleContext } from './tupleGroups';
import type { FlowTuple } from './tuples';

/**
 * Serialises flow tuples as the flat objects of docs/contract.md, fields in the contract's order.
 * Strings from the record go through JSON.stringify once per group; tuple fields were validated by the
 * parser (IP addresses, digits, fixed words), so they are written without escaping.
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

const text = (value: string | null): string => (value === null ? 'null' : `"${value}"`);
const num = (value: number | null): string => (value === null ? 'null' : String(value));

export function tupleJson(id: string, tuple: FlowTuple, context: string): string {
  return (
    `{"id":"${id}","time":"${new Date(tuple.timeMs).toISOString()}",${context},` +
    `"srcIP":"${tuple.srcIP}","dstIP":"${tuple.dstIP}","srcPort":${tuple.srcPort},"dstPort":${tuple.dstPort},` +
    `"protocol":${tuple.protocol},"protocolName":${text(tuple.protocolName)},"direction":"${tuple.direction}",` +
    `"decision":"${tuple.decision}","flowState":${text(tuple.flowState)},"encryption":${text(tuple.encryption)},` +
    `"packetsSent":${num(tuple.packetsSent)},"bytesSent":${num(tuple.bytesSent)},` +
    `"packetsReceived":${num(tuple.packetsReceived)},"bytesReceived":${num(tuple.bytesReceived)}}`
  );
}
