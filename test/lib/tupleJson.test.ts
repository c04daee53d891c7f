import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateRecord, type FlowLogRecord } from '../../src/lib/records';
import { tupleCount, tupleGroups } from '../../src/lib/tupleGroups';
import { groupJson, tupleIdPrefix, tupleJson } from '../../src/lib/tupleJson';
import { parseTuple } from '../../src/lib/tuples';

/** Tuple objects of docs/contract.md: every field, in the contract's order, for VNet and NSG records. */

/** The contract table's fields, in its order. */
const CONTRACT_FIELDS = [
  'id',
  'time',
  'recordTime',
  'category',
  'flowLogVersion',
  'flowLogResourceID',
  'flowLogGUID',
  'targetResourceID',
  'macAddress',
  'aclID',
  'rule',
  'srcIP',
  'dstIP',
  'srcPort',
  'dstPort',
  'protocol',
  'protocolName',
  'direction',
  'decision',
  'flowState',
  'encryption',
  'packetsSent',
  'bytesSent',
  'packetsReceived',
  'bytesReceived',
];

type TupleObject = Record<string, unknown>;

function fixtureRecords(name: string): FlowLogRecord[] {
  const file = JSON.parse(readFileSync(join(__dirname, '../../fixtures', name), 'utf8')) as { records: unknown[] };
  return file.records.map((value) => {
    const result = validateRecord(value);
    if (typeof result === 'string') throw new Error(`fixture ${name} does not validate: ${result}`);
    return result;
  });
}

/** Builds the tuple objects of one record the way the forwarder does: id `<prefix>-<record offset>-<tuple index>`. */
function tupleObjects(record: FlowLogRecord, prefix: string, offset: number): { json: string; object: TupleObject }[] {
  const out: { json: string; object: TupleObject }[] = [];
  let index = 0;
  for (const group of tupleGroups(record)) {
    const shared = groupJson(group.context, group.format);
    for (const text of group.tuples) {
      const tuple = parseTuple(text, group.format);
      if (typeof tuple === 'string') throw new Error(`fixture tuple "${text}" is malformed: ${tuple}`);
      const json = tupleJson(`${prefix}-${offset}-`, index, text, shared);
      out.push({ json, object: JSON.parse(json) as TupleObject });
      index++;
    }
  }
  return out;
}

const VNET_RESOURCE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet';
const VNET_FLOWLOG =
  '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS2EUAP/FLOWLOGS/VNETFLOWLOG';
const NSG_RESOURCE = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG';

describe('VNet tuple objects (fixtures/vnet-sample.PT1H.json)', () => {
  const records = fixtureRecords('vnet-sample.PT1H.json');
  const record = records[0];
  if (!record) throw new Error('fixture is empty');
  const prefix = tupleIdPrefix('devstoreaccount1/insights-logs-flowlogflowevent/x/PT1H.json');
  const objects = tupleObjects(record, prefix, 12);

  it('has three groups addressed by (outer, inner) with 19 tuples in all', () => {
    const groups = tupleGroups(record);
    expect(groups.map((group) => [group.outer, group.inner, group.format, group.tuples.length])).toEqual([
      [0, 0, 'vnet', 10],
      [1, 0, 'vnet', 2],
      [1, 1, 'vnet', 7],
    ]);
    expect(tupleCount(groups)).toBe(19);
    expect(objects).toHaveLength(19);
  });

  it('writes every field of the contract, in its order, in every tuple object', () => {
    for (const { object } of objects) expect(Object.keys(object)).toEqual(CONTRACT_FIELDS);
  });

  it('writes the first tuple (outbound begin, zero counters) field by field', () => {
    expect(objects[0]?.object).toStrictEqual({
      id: `${prefix}-12-0`,
      time: '2022-09-14T09:00:03.599Z',
      recordTime: '2022-09-14T09:00:52.5625085Z',
      category: 'FlowLogFlowEvent',
      flowLogVersion: 4,
      flowLogResourceID: VNET_FLOWLOG,
      flowLogGUID: 'abcdef01-2345-6789-0abc-def012345678',
      targetResourceID: VNET_RESOURCE,
      macAddress: '00224871C205',
      aclID: '00000000-1234-abcd-ef00-c1c2c3c4c5c6',
      rule: 'DefaultRule_AllowInternetOutBound',
      srcIP: '10.0.0.6',
      dstIP: '52.239.184.180',
      srcPort: 23956,
      dstPort: 443,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'outbound',
      decision: 'allow',
      flowState: 'begin',
      encryption: 'NX',
      packetsSent: 0,
      bytesSent: 0,
      packetsReceived: 0,
      bytesReceived: 0,
    });
  });

  it('writes the tenth tuple (outbound end with counters) field by field', () => {
    expect(objects[9]?.object).toStrictEqual({
      id: `${prefix}-12-9`,
      time: '2022-09-14T09:00:22.793Z',
      recordTime: '2022-09-14T09:00:52.5625085Z',
      category: 'FlowLogFlowEvent',
      flowLogVersion: 4,
      flowLogResourceID: VNET_FLOWLOG,
      flowLogGUID: 'abcdef01-2345-6789-0abc-def012345678',
      targetResourceID: VNET_RESOURCE,
      macAddress: '00224871C205',
      aclID: '00000000-1234-abcd-ef00-c1c2c3c4c5c6',
      rule: 'DefaultRule_AllowInternetOutBound',
      srcIP: '10.0.0.6',
      dstIP: '104.16.218.84',
      srcPort: 36776,
      dstPort: 443,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'outbound',
      decision: 'allow',
      flowState: 'end',
      encryption: 'NX',
      packetsSent: 22,
      bytesSent: 2217,
      packetsReceived: 33,
      bytesReceived: 32466,
    });
  });

  it('writes the eleventh tuple (second flow, inbound deny) with its own aclID and rule', () => {
    expect(objects[10]?.object).toStrictEqual({
      id: `${prefix}-12-10`,
      time: '2022-09-14T08:59:58.065Z',
      recordTime: '2022-09-14T09:00:52.5625085Z',
      category: 'FlowLogFlowEvent',
      flowLogVersion: 4,
      flowLogResourceID: VNET_FLOWLOG,
      flowLogGUID: 'abcdef01-2345-6789-0abc-def012345678',
      targetResourceID: VNET_RESOURCE,
      macAddress: '00224871C205',
      aclID: '01020304-abcd-ef00-1234-102030405060',
      rule: 'BlockHighRiskTCPPortsFromInternet',
      srcIP: '101.33.218.153',
      dstIP: '10.0.0.6',
      srcPort: 55188,
      dstPort: 22,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'inbound',
      decision: 'deny',
      flowState: 'deny',
      encryption: 'NX',
      packetsSent: 0,
      bytesSent: 0,
      packetsReceived: 0,
      bytesReceived: 0,
    });
  });

  it('writes the last tuple under rule Internet', () => {
    expect(objects[18]?.object).toMatchObject({
      id: `${prefix}-12-18`,
      time: '2022-09-14T09:00:15.545Z',
      aclID: '01020304-abcd-ef00-1234-102030405060',
      rule: 'Internet',
      srcIP: '20.106.221.10',
      dstPort: 31244,
      decision: 'deny',
    });
  });

  it('gives each tuple the aclID and rule of its own flow and group', () => {
    const expected = [
      ...Array<[string, string]>(10).fill(['00000000-1234-abcd-ef00-c1c2c3c4c5c6', 'DefaultRule_AllowInternetOutBound']),
      ...Array<[string, string]>(2).fill(['01020304-abcd-ef00-1234-102030405060', 'BlockHighRiskTCPPortsFromInternet']),
      ...Array<[string, string]>(7).fill(['01020304-abcd-ef00-1234-102030405060', 'Internet']),
    ];
    expect(objects.map(({ object }) => [object.aclID, object.rule])).toEqual(expected);
    expect(new Set(objects.map(({ object }) => object.id)).size).toBe(19);
  });

  it('writes null (never omits) the optional VNet fields and empty counters', () => {
    const bare = validateRecord({
      time: '2022-09-14T09:00:52Z',
      flowLogVersion: 4,
      macAddress: '00224871C205',
      category: 'FlowLogFlowEvent',
      targetResourceID: VNET_RESOURCE,
      flowRecords: { flows: [{ flowGroups: [{ rule: 'unspecified', flowTuples: ['1663146003,2001:db8::1,2001:db8::2,1,2,47,I,D,NX_LOCAL_DST,,,,'] }] }] },
    });
    if (typeof bare === 'string') throw new Error(bare);
    const [only] = tupleObjects(bare, 'p', 0);
    expect(only?.object).toStrictEqual({
      id: 'p-0-0',
      time: '2022-09-14T09:00:03.000Z',
      recordTime: '2022-09-14T09:00:52Z',
      category: 'FlowLogFlowEvent',
      flowLogVersion: 4,
      flowLogResourceID: null,
      flowLogGUID: null,
      targetResourceID: VNET_RESOURCE,
      macAddress: '00224871C205',
      aclID: null,
      rule: 'unspecified',
      srcIP: '2001:db8::1',
      dstIP: '2001:db8::2',
      srcPort: 1,
      dstPort: 2,
      protocol: 47,
      protocolName: null,
      direction: 'inbound',
      decision: 'deny',
      flowState: 'deny',
      encryption: 'NX_LOCAL_DST',
      packetsSent: null,
      bytesSent: null,
      packetsReceived: null,
      bytesReceived: null,
    });
  });

  it('escapes record strings that need it, so the object stays valid JSON', () => {
    const odd = validateRecord({
      time: '2022-09-14T09:00:52Z',
      flowLogVersion: 4,
      macAddress: '00"22\\48',
      category: 'Flow\nLog',
      targetResourceID: 'ünïcode/\u2028',
      flowRecords: { flows: [{ aclID: 'a"b', flowGroups: [{ rule: 'r}{,"', flowTuples: ['1663146003599,10.0.0.6,10.0.0.7,1,2,6,O,B,X,0,0,0,0'] }] }] },
    });
    if (typeof odd === 'string') throw new Error(odd);
    const [only] = tupleObjects(odd, 'p', 0);
    expect(only?.object).toMatchObject({ macAddress: '00"22\\48', category: 'Flow\nLog', targetResourceID: 'ünïcode/\u2028', aclID: 'a"b', rule: 'r}{,"' });
    expect(Object.keys(only?.object ?? {})).toEqual(CONTRACT_FIELDS);
  });
});

describe('NSG tuple objects (fixtures/nsg-v2-sample.PT1H.json)', () => {
  const records = fixtureRecords('nsg-v2-sample.PT1H.json');
  const prefix = tupleIdPrefix('devstoreaccount1/insights-logs-networksecuritygroupflowevent/y/PT1H.json');
  const first = records[0];
  const second = records[1];
  if (!first || !second) throw new Error('fixture changed');
  const firstObjects = tupleObjects(first, prefix, 12);
  const secondObjects = tupleObjects(second, prefix, 1500);

  it('has 2 records with 7 and 4 tuples, v2 groups addressed by (rule, mac)', () => {
    expect(records).toHaveLength(2);
    expect(tupleGroups(first).map((group) => [group.outer, group.inner, group.format, group.tuples.length])).toEqual([
      [0, 0, 'nsg2', 3],
      [1, 0, 'nsg2', 4],
    ]);
    expect(tupleGroups(second).map((group) => [group.outer, group.inner, group.format, group.tuples.length])).toEqual([[0, 0, 'nsg2', 4]]);
    expect(firstObjects.length + secondObjects.length).toBe(11);
  });

  it('writes every field of the contract, in its order, in every tuple object', () => {
    for (const { object } of [...firstObjects, ...secondObjects]) expect(Object.keys(object)).toEqual(CONTRACT_FIELDS);
  });

  it('writes a denied begin tuple with empty counters field by field (VNet-only fields null)', () => {
    expect(firstObjects[0]?.object).toStrictEqual({
      id: `${prefix}-12-0`,
      time: '2018-11-13T12:00:02.000Z',
      recordTime: '2018-11-13T12:00:35.3899262Z',
      category: 'NetworkSecurityGroupFlowEvent',
      flowLogVersion: 2,
      flowLogResourceID: null,
      flowLogGUID: null,
      targetResourceID: NSG_RESOURCE,
      macAddress: '000D3AF87856',
      aclID: null,
      rule: 'DefaultRule_DenyAllInBound',
      srcIP: '94.102.49.190',
      dstIP: '10.5.16.4',
      srcPort: 28746,
      dstPort: 443,
      protocol: 17,
      protocolName: 'UDP',
      direction: 'inbound',
      decision: 'deny',
      flowState: 'begin',
      encryption: null,
      packetsSent: null,
      bytesSent: null,
      packetsReceived: null,
      bytesReceived: null,
    });
  });

  it('writes E,1,66,1,66 as packets 1 / bytes 66 each way', () => {
    expect(firstObjects[4]?.object).toStrictEqual({
      id: `${prefix}-12-4`,
      time: '2018-11-13T11:59:39.000Z',
      recordTime: '2018-11-13T12:00:35.3899262Z',
      category: 'NetworkSecurityGroupFlowEvent',
      flowLogVersion: 2,
      flowLogResourceID: null,
      flowLogGUID: null,
      targetResourceID: NSG_RESOURCE,
      macAddress: '000D3AF87856',
      aclID: null,
      rule: 'DefaultRule_AllowInternetOutBound',
      srcIP: '10.5.16.4',
      dstIP: '13.67.143.117',
      srcPort: 59932,
      dstPort: 443,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'outbound',
      decision: 'allow',
      flowState: 'end',
      encryption: null,
      packetsSent: 1,
      bytesSent: 66,
      packetsReceived: 1,
      bytesReceived: 66,
    });
  });

  it('writes the continuing tuple counters in order', () => {
    expect(firstObjects[5]?.object).toMatchObject({
      id: `${prefix}-12-5`,
      flowState: 'continuing',
      dstIP: '13.67.143.115',
      packetsSent: 30,
      bytesSent: 16978,
      packetsReceived: 24,
      bytesReceived: 14008,
    });
  });

  it('writes the last tuple of the second record with its own record time', () => {
    expect(secondObjects[3]?.object).toStrictEqual({
      id: `${prefix}-1500-3`,
      time: '2018-11-13T12:01:30.000Z',
      recordTime: '2018-11-13T12:01:35.3918317Z',
      category: 'NetworkSecurityGroupFlowEvent',
      flowLogVersion: 2,
      flowLogResourceID: null,
      flowLogGUID: null,
      targetResourceID: NSG_RESOURCE,
      macAddress: '000D3AF87856',
      aclID: null,
      rule: 'DefaultRule_DenyAllInBound',
      srcIP: '176.119.4.30',
      dstIP: '10.5.16.4',
      srcPort: 57067,
      dstPort: 52801,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'inbound',
      decision: 'deny',
      flowState: 'begin',
      encryption: null,
      packetsSent: null,
      bytesSent: null,
      packetsReceived: null,
      bytesReceived: null,
    });
  });

  it('gives every NSG tuple the rule of its rule flow and the mac of its inner flow', () => {
    expect(firstObjects.map(({ object }) => object.rule)).toEqual([
      'DefaultRule_DenyAllInBound',
      'DefaultRule_DenyAllInBound',
      'DefaultRule_DenyAllInBound',
      'DefaultRule_AllowInternetOutBound',
      'DefaultRule_AllowInternetOutBound',
      'DefaultRule_AllowInternetOutBound',
      'DefaultRule_AllowInternetOutBound',
    ]);
    for (const { object } of [...firstObjects, ...secondObjects]) {
      expect(object.macAddress).toBe('000D3AF87856');
      expect(object.targetResourceID).toBe(NSG_RESOURCE);
      expect(object.flowLogVersion).toBe(2);
    }
  });

  it('takes macAddress from the inner flow, not the record, and writes a v1 tuple with null state and counters', () => {
    const v1 = validateRecord({
      time: '2017-02-16T22:00:32.8950000Z',
      systemId: '2c002c16-72f3-4dc5-b391-3444c3527434',
      macAddress: 'AAAAAAAAAAAA',
      category: 'NetworkSecurityGroupFlowEvent',
      resourceId: '/SUBSCRIPTIONS/X/RESOURCEGROUPS/Y/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/Z',
      operationName: 'NetworkSecurityGroupFlowEvents',
      properties: { Version: 1, flows: [{ rule: 'DefaultRule_AllowInternetOutBound', flows: [{ mac: '000D3AF8801A', flowTuples: ['1487282421,42.119.146.95,10.1.0.4,51529,5358,T,I,D'] }] }] },
    });
    if (typeof v1 === 'string') throw new Error(v1);
    const [only] = tupleObjects(v1, 'p', 7);
    expect(only?.object).toStrictEqual({
      id: 'p-7-0',
      time: '2017-02-16T22:00:21.000Z',
      recordTime: '2017-02-16T22:00:32.8950000Z',
      category: 'NetworkSecurityGroupFlowEvent',
      flowLogVersion: 1,
      flowLogResourceID: null,
      flowLogGUID: null,
      targetResourceID: '/SUBSCRIPTIONS/X/RESOURCEGROUPS/Y/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/Z',
      macAddress: '000D3AF8801A',
      aclID: null,
      rule: 'DefaultRule_AllowInternetOutBound',
      srcIP: '42.119.146.95',
      dstIP: '10.1.0.4',
      srcPort: 51529,
      dstPort: 5358,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'inbound',
      decision: 'deny',
      flowState: null,
      encryption: null,
      packetsSent: null,
      bytesSent: null,
      packetsReceived: null,
      bytesReceived: null,
    });
  });
});

describe('tupleIdPrefix', () => {
  const source = 'devstoreaccount1/insights-logs-flowlogflowevent/a/PT1H.json';

  it('is 16 lower-case hex characters and the same for the same source', () => {
    expect(tupleIdPrefix(source)).toMatch(/^[0-9a-f]{16}$/);
    expect(tupleIdPrefix(source)).toBe(tupleIdPrefix(source));
    expect(tupleIdPrefix(source, 2)).toBe(tupleIdPrefix(source, 2));
  });

  it('treats generation 1 as the default', () => {
    expect(tupleIdPrefix(source, 1)).toBe(tupleIdPrefix(source));
  });

  it('differs per source id', () => {
    const prefixes = new Set([source, `${source}x`, source.replace('/a/', '/b/'), source.toUpperCase()].map((id) => tupleIdPrefix(id)));
    expect(prefixes.size).toBe(4);
  });

  it('differs per generation above 1', () => {
    const prefixes = new Set([1, 2, 3, 10].map((generation) => tupleIdPrefix(source, generation)));
    expect(prefixes.size).toBe(4);
    expect(tupleIdPrefix(`${source}x`, 2)).not.toBe(tupleIdPrefix(source, 2));
  });

  it('makes the same tuple object, id included, when built twice', () => {
    const record = fixtureRecords('vnet-sample.PT1H.json')[0];
    if (!record) throw new Error('fixture is empty');
    const once = tupleObjects(record, tupleIdPrefix(source), 12).map(({ json }) => json);
    const twice = tupleObjects(record, tupleIdPrefix(source), 12).map(({ json }) => json);
    expect(twice).toEqual(once);
    const ids = new Set(tupleObjects(record, tupleIdPrefix(source), 12).map(({ object }) => object.id));
    const otherGeneration = tupleObjects(record, tupleIdPrefix(source, 2), 12).map(({ object }) => object.id);
    expect(ids.size).toBe(19);
    expect(otherGeneration.filter((id) => ids.has(id))).toEqual([]);
  });
});
