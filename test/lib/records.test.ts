import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, validateRecord, type FlowLogRecord } from '../../src/lib/records';

/** Record validation (docs/azure-facts.md sections 1 and 2) on the fixtures and on broken input. */

function fixtureRecords(name: string): Record<string, unknown>[] {
  const file = JSON.parse(readFileSync(join(__dirname, '../../fixtures', name), 'utf8')) as { records: Record<string, unknown>[] };
  return file.records;
}

const vnetRecords = fixtureRecords('vnet-sample.PT1H.json');
const nsgRecords = fixtureRecords('nsg-v2-sample.PT1H.json');
/** The record at `index`; fails when the fixture changed. */
function at(records: Record<string, unknown>[], index: number): Record<string, unknown> {
  const record = records[index];
  if (!record) throw new Error(`fixture has no record ${index}`);
  return record;
}

function accepted(result: FlowLogRecord | string): FlowLogRecord {
  if (typeof result === 'string') throw new Error(`expected the record to validate, got: ${result}`);
  return result;
}

function rejected(result: FlowLogRecord | string): string {
  if (typeof result !== 'string') throw new Error(`expected a reason, got a ${result.kind} record`);
  return result;
}

const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
/** A deep copy of a fixture record to break. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('the fixtures', () => {
  it('has 1 VNet record and 2 NSG records', () => {
    expect(vnetRecords).toHaveLength(1);
    expect(nsgRecords).toHaveLength(2);
  });

  it('validates the VNet record as kind vnet, unchanged', () => {
    const original = at(vnetRecords, 0);
    const result = accepted(parseRecord(bytes(original)));
    expect(result.kind).toBe('vnet');
    expect(result.record).toEqual(original);
    if (result.kind !== 'vnet') throw new Error('unreachable');
    expect(result.record.flowLogVersion).toBe(4);
    expect(result.record.macAddress).toBe('00224871C205');
    expect(result.record.flowRecords.flows).toHaveLength(2);
    expect(result.record.flowRecords.flows[1]?.flowGroups.map((group) => group.rule)).toEqual(['BlockHighRiskTCPPortsFromInternet', 'Internet']);
  });

  it('validates each NSG v2 record as kind nsg, unchanged', () => {
    for (const original of nsgRecords) {
      const result = accepted(parseRecord(bytes(original)));
      expect(result.kind).toBe('nsg');
      expect(result.record).toEqual(original);
      if (result.kind !== 'nsg') throw new Error('unreachable');
      expect(result.record.properties.Version).toBe(2);
    }
  });

  it('validates the records from the blob bytes exactly as written (with their original spacing)', () => {
    const text = readFileSync(join(__dirname, '../../fixtures/nsg-v2-sample.PT1H.json'), 'utf8');
    const first = text.indexOf('{"time"');
    const second = text.indexOf(',{"time"', first);
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    const result = accepted(parseRecord(Buffer.from(text.slice(first, second), 'utf8')));
    expect(result.kind).toBe('nsg');
    expect(result.record.time).toBe('2018-11-13T12:00:35.3899262Z');
  });

  it('validateRecord accepts the parsed objects as well', () => {
    expect(accepted(validateRecord(copy(at(vnetRecords, 0)))).kind).toBe('vnet');
    expect(accepted(validateRecord(copy(at(nsgRecords, 1)))).kind).toBe('nsg');
  });

  it('accepts an NSG v1 record and a VNet record without the optional fields', () => {
    const v1 = copy(at(nsgRecords, 0)) as { properties: { Version: number; flows: { flows: { flowTuples: string[] }[] }[] } };
    v1.properties.Version = 1;
    expect(accepted(validateRecord(v1)).kind).toBe('nsg');
    const minimal = {
      time: '2022-09-14T09:00:52.5625085Z',
      flowLogVersion: 4,
      macAddress: '00224871C205',
      category: 'FlowLogFlowEvent',
      targetResourceID: '/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/z',
      flowRecords: { flows: [{ flowGroups: [{ rule: 'unspecified', flowTuples: [] }] }] },
    };
    expect(accepted(validateRecord(minimal)).kind).toBe('vnet');
  });
});

describe('input that is not a record', () => {
  it('rejects bytes that are not JSON, saying so', () => {
    expect(rejected(parseRecord(Buffer.from('{"time":', 'utf8')))).toMatch(/^not JSON \(/);
    expect(rejected(parseRecord(Buffer.from('', 'utf8')))).toMatch(/^not JSON \(/);
    expect(rejected(parseRecord(Buffer.from('{"records":[', 'utf8')))).toMatch(/^not JSON \(/);
  });

  it('rejects bytes that are not valid UTF-8', () => {
    const valid = bytes(at(vnetRecords, 0));
    const broken = Buffer.concat([valid.subarray(0, 10), Buffer.from([0xc3, 0x28]), valid.subarray(10)]);
    expect(rejected(parseRecord(broken))).toBe('not valid UTF-8');
    expect(rejected(parseRecord(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('not valid UTF-8');
  });

  it.each([
    ['an array', '[1,2]'],
    ['a string', '"record"'],
    ['a number', '42'],
    ['null', 'null'],
    ['an array of records', JSON.stringify(vnetRecords)],
  ])('rejects %s as not a JSON object', (_name, text) => {
    expect(rejected(parseRecord(Buffer.from(text, 'utf8')))).toBe('not a JSON object');
  });

  it('rejects an object that is neither a VNet nor an NSG record', () => {
    const reason = rejected(validateRecord({ time: '2022-09-14T09:00:52Z', category: 'Other' }));
    expect(reason).toContain('neither');
    expect(reason).toContain('flowRecords');
    expect(reason).toContain('properties');
  });
});

describe('records that fail the schema', () => {
  it('rejects a VNet record without flowRecords.flows, naming flows', () => {
    const record = copy(at(vnetRecords, 0)) as { flowRecords: Record<string, unknown> };
    delete record.flowRecords.flows;
    const reason = rejected(parseRecord(bytes(record)));
    expect(reason).toMatch(/^not a valid VNet flow log record \(/);
    expect(reason).toContain('/flowRecords');
    expect(reason).toContain("'flows'");
  });

  it('rejects a VNet record whose flowTuples contain a number, naming the element', () => {
    const record = copy(at(vnetRecords, 0)) as { flowRecords: { flows: { flowGroups: { flowTuples: unknown[] }[] }[] } };
    const group = record.flowRecords.flows[1]?.flowGroups[1];
    if (!group) throw new Error('fixture changed');
    group.flowTuples[3] = 1663145990049;
    const reason = rejected(parseRecord(bytes(record)));
    expect(reason).toMatch(/^not a valid VNet flow log record \(/);
    expect(reason).toContain('/flowRecords/flows/1/flowGroups/1/flowTuples/3');
    expect(reason).toContain('string');
  });

  it.each([
    ['time', 'must have required property'],
    ['targetResourceID', 'must have required property'],
    ['flowLogVersion', 'must have required property'],
  ])('rejects a VNet record without %s', (field, message) => {
    const record = copy(at(vnetRecords, 0));
    delete record[field];
    const reason = rejected(validateRecord(record));
    expect(reason).toContain('VNet');
    expect(reason).toContain(message);
    expect(reason).toContain(field);
  });

  it('rejects a VNet record whose time is not an ISO timestamp', () => {
    const record = { ...copy(at(vnetRecords, 0)), time: 'yesterday' };
    const reason = rejected(validateRecord(record));
    expect(reason).toContain('VNet');
    expect(reason).toContain('/time');
  });

  it('rejects an NSG record with properties.Version 3, naming Version', () => {
    const record = copy(at(nsgRecords, 0)) as { properties: { Version: number } };
    record.properties.Version = 3;
    const reason = rejected(parseRecord(bytes(record)));
    expect(reason).toMatch(/^not a valid NSG flow log record \(/);
    expect(reason).toContain('/properties/Version');
  });

  it('rejects an NSG record whose Version is the string "2"', () => {
    const record = copy(at(nsgRecords, 0)) as { properties: { Version: unknown } };
    record.properties.Version = '2';
    expect(rejected(validateRecord(record))).toContain('/properties/Version');
  });

  it('rejects an NSG record without resourceId, and one whose inner flow has no mac', () => {
    const noResource = copy(at(nsgRecords, 0));
    delete noResource.resourceId;
    const first = rejected(validateRecord(noResource));
    expect(first).toContain('NSG');
    expect(first).toContain('resourceId');

    const noMac = copy(at(nsgRecords, 0)) as { properties: { flows: { flows: Record<string, unknown>[] }[] } };
    const inner = noMac.properties.flows[0]?.flows[0];
    if (!inner) throw new Error('fixture changed');
    delete inner.mac;
    const second = rejected(validateRecord(noMac));
    expect(second).toContain('/properties/flows/0/flows/0');
    expect(second).toContain('mac');
  });
});
