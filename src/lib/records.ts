import Ajv, { type ValidateFunction } from 'ajv';
import { isUtf8 } from 'node:buffer';

/** The two record formats Network Watcher writes (docs/azure-facts.md sections 1 and 2). */

export interface VnetFlowGroup {
  rule: string;
  flowTuples: string[];
}
export interface VnetFlow {
  aclID?: string;
  flowGroups: VnetFlowGroup[];
}
export interface VnetRecord {
  time: string;
  flowLogVersion: number;
  flowLogGUID?: string;
  macAddress: string;
  category: string;
  flowLogResourceID?: string;
  targetResourceID: string;
  operationName?: string;
  flowRecords: { flows: VnetFlow[] };
}

export interface NsgMacFlow {
  mac: string;
  flowTuples: string[];
}
export interface NsgRuleFlow {
  rule: string;
  flows: NsgMacFlow[];
}
export interface NsgRecord {
  time: string;
  systemId?: string;
  macAddress?: string;
  category: string;
  resourceId: string;
  operationName?: string;
  properties: { Version: 1 | 2; flows: NsgRuleFlow[] };
}

export type FlowLogRecord = { kind: 'vnet'; record: VnetRecord } | { kind: 'nsg'; record: NsgRecord };

const isoTime = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}' };
const tupleList = { type: 'array', items: { type: 'string' } };

const vnetSchema = {
  type: 'object',
  required: ['time', 'flowLogVersion', 'macAddress', 'category', 'targetResourceID', 'flowRecords'],
  properties: {
    time: isoTime,
    flowLogVersion: { type: 'number' },
    flowLogGUID: { type: 'string' },
    macAddress: { type: 'string' },
    category: { type: 'string' },
    flowLogResourceID: { type: 'string' },
    targetResourceID: { type: 'string' },
    operationName: { type: 'string' },
    flowRecords: {
      type: 'object',
      required: ['flows'],
      properties: {
        flows: {
          type: 'array',
          items: {
            type: 'object',
            required: ['flowGroups'],
            properties: {
              aclID: { type: 'string' },
              flowGroups: {
                type: 'array',
                items: { type: 'object', required: ['rule', 'flowTuples'], properties: { rule: { type: 'string' }, flowTuples: tupleList } },
              },
            },
          },
        },
      },
    },
  },
};

const nsgSchema = {
  type: 'object',
  required: ['time', 'category', 'resourceId', 'properties'],
  properties: {
    time: isoTime,
    systemId: { type: 'string' },
    macAddress: { type: 'string' },
    category: { type: 'string' },
    resourceId: { type: 'string' },
    operationName: { type: 'string' },
    properties: {
      type: 'object',
      required: ['Version', 'flows'],
      properties: {
        Version: { enum: [1, 2] },
        flows: {
          type: 'array',
          items: {
            type: 'object',
            required: ['rule', 'flows'],
            properties: {
              rule: { type: 'string' },
              flows: {
                type: 'array',
                items: { type: 'object', required: ['mac', 'flowTuples'], properties: { mac: { type: 'string' }, flowTuples: tupleList } },
              },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true });
const isVnetRecord: ValidateFunction<VnetRecord> = ajv.compile<VnetRecord>(vnetSchema);
const isNsgRecord: ValidateFunction<NsgRecord> = ajv.compile<NsgRecord>(nsgSchema);

/** Parses and validates one record's bytes. Returns the record, or the reason it cannot be forwarded. */
export function parseRecord(bytes: Buffer): FlowLogRecord | string {
  if (!isUtf8(bytes)) return 'not valid UTF-8';
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return `not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  return validateRecord(value);
}

export function validateRecord(value: unknown): FlowLogRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  if ('flowRecords' in value) {
    return isVnetRecord(value) ? { kind: 'vnet', record: value } : `not a valid VNet flow log record (${schemaError(isVnetRecord)})`;
  }
  if ('properties' in value) {
    return isNsgRecord(value) ? { kind: 'nsg', record: value } : `not a valid NSG flow log record (${schemaError(isNsgRecord)})`;
  }
  return 'neither a VNet flow log record (no flowRecords) nor an NSG flow log record (no properties)';
}

function schemaError(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (!error) return 'schema mismatch';
  return `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`;
}
