import { isIP } from 'node:net';
import { isIPv6 } from '../../src/lib/tupleGrammar';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTuple, type FlowTuple, type TupleFormat } from '../../src/lib/tuples';

/** parseTuple against docs/azure-facts.md sections 1 and 2: VNet 13 fields, NSG v1 8 fields, NSG v2 13 fields. */

function parsed(text: string, format: TupleFormat): FlowTuple {
  const result = parseTuple(text, format);
  if (typeof result === 'string') throw new Error(`expected "${text}" (${format}) to parse, got: ${result}`);
  return result;
}

function reasonOf(text: string, format: TupleFormat): string {
  const result = parseTuple(text, format);
  if (typeof result !== 'string') throw new Error(`expected "${text}" (${format}) to be rejected, got ${JSON.stringify(result)}`);
  return result;
}

interface FixtureFile {
  records: { flowRecords: { flows: { flowGroups: { flowTuples: string[] }[] }[] } }[];
}

function vnetFixtureTuples(): string[] {
  const file = JSON.parse(readFileSync(join(__dirname, '../../fixtures/vnet-sample.PT1H.json'), 'utf8')) as FixtureFile;
  return file.records.flatMap((record) => record.flowRecords.flows.flatMap((flow) => flow.flowGroups.flatMap((group) => group.flowTuples)));
}

/** A VNet tuple with everything but the varying fields fixed. */
function vnet(
  timeMs: number,
  srcIP: string,
  dstIP: string,
  srcPort: number,
  dstPort: number,
  direction: 'inbound' | 'outbound',
  flowState: 'begin' | 'end' | 'deny',
  counters: [number, number, number, number],
): FlowTuple {
  return {
    timeMs,
    srcIP,
    dstIP,
    srcPort,
    dstPort,
    protocol: 6,
    protocolName: 'TCP',
    direction,
    decision: flowState === 'deny' ? 'deny' : 'allow',
    flowState,
    encryption: 'NX',
    packetsSent: counters[0],
    bytesSent: counters[1],
    packetsReceived: counters[2],
    bytesReceived: counters[3],
  };
}

describe('VNet flow tuples', () => {
  it('parses every tuple of fixtures/vnet-sample.PT1H.json field by field', () => {
    const z: [number, number, number, number] = [0, 0, 0, 0];
    const expected: FlowTuple[] = [
      vnet(1663146003599, '10.0.0.6', '52.239.184.180', 23956, 443, 'outbound', 'begin', z),
      vnet(1663146003606, '10.0.0.6', '52.239.184.180', 23956, 443, 'outbound', 'end', [3, 767, 2, 1580]),
      vnet(1663146003637, '10.0.0.6', '40.74.146.17', 22730, 443, 'outbound', 'begin', z),
      vnet(1663146003640, '10.0.0.6', '40.74.146.17', 22730, 443, 'outbound', 'end', [3, 705, 4, 4569]),
      vnet(1663146004251, '10.0.0.6', '40.74.146.17', 22732, 443, 'outbound', 'begin', z),
      vnet(1663146004251, '10.0.0.6', '40.74.146.17', 22732, 443, 'outbound', 'end', [3, 705, 4, 4569]),
      vnet(1663146004622, '10.0.0.6', '40.74.146.17', 22734, 443, 'outbound', 'begin', z),
      vnet(1663146004622, '10.0.0.6', '40.74.146.17', 22734, 443, 'outbound', 'end', [2, 134, 1, 108]),
      vnet(1663146017343, '10.0.0.6', '104.16.218.84', 36776, 443, 'outbound', 'begin', z),
      vnet(1663146022793, '10.0.0.6', '104.16.218.84', 36776, 443, 'outbound', 'end', [22, 2217, 33, 32466]),
      vnet(1663145998065, '101.33.218.153', '10.0.0.6', 55188, 22, 'inbound', 'deny', z),
      vnet(1663146005503, '192.241.200.164', '10.0.0.6', 35276, 119, 'inbound', 'deny', z),
      vnet(1663145989563, '20.106.221.10', '10.0.0.6', 50557, 44357, 'inbound', 'deny', z),
      vnet(1663145989679, '20.55.117.81', '10.0.0.6', 62797, 35945, 'inbound', 'deny', z),
      vnet(1663145989709, '20.55.113.5', '10.0.0.6', 51961, 65515, 'inbound', 'deny', z),
      vnet(1663145990049, '13.65.224.51', '10.0.0.6', 40497, 40129, 'inbound', 'deny', z),
      vnet(1663145990145, '20.55.117.81', '10.0.0.6', 62797, 30472, 'inbound', 'deny', z),
      vnet(1663145990175, '20.55.113.5', '10.0.0.6', 51961, 28184, 'inbound', 'deny', z),
      vnet(1663146015545, '20.106.221.10', '10.0.0.6', 50557, 31244, 'inbound', 'deny', z),
    ];
    const tuples = vnetFixtureTuples();
    expect(tuples).toHaveLength(19);
    tuples.forEach((text, index) => {
      expect({ index, tuple: parseTuple(text, 'vnet') }).toEqual({ index, tuple: expected[index] });
    });
  });

  it('parses one end tuple into exactly these fields (packets before bytes in each direction)', () => {
    expect(parseTuple('1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580', 'vnet')).toStrictEqual({
      timeMs: 1663146003606,
      srcIP: '10.0.0.6',
      dstIP: '52.239.184.180',
      srcPort: 23956,
      dstPort: 443,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'outbound',
      decision: 'allow',
      flowState: 'end',
      encryption: 'NX',
      packetsSent: 3,
      bytesSent: 767,
      packetsReceived: 2,
      bytesReceived: 1580,
    });
  });

  it.each([
    ['6', 6, 'TCP'],
    ['17', 17, 'UDP'],
    ['1', 1, 'ICMP'],
    ['58', 58, 'ICMPv6'],
    ['47', 47, null],
    ['0', 0, null],
    ['255', 255, null],
  ])('maps protocol %s to number %d and name %p', (field, number, name) => {
    const tuple = parsed(`1663146003599,10.0.0.6,10.0.0.7,1000,2000,${field},O,C,X,1,2,3,4`, 'vnet');
    expect(tuple.protocol).toBe(number);
    expect(tuple.protocolName).toBe(name);
  });

  it.each([
    ['I', 'inbound'],
    ['O', 'outbound'],
  ])('maps direction %s to %s', (field, direction) => {
    expect(parsed(`1663146003599,10.0.0.6,10.0.0.7,1000,2000,6,${field},C,X,1,2,3,4`, 'vnet').direction).toBe(direction);
  });

  it.each([
    ['B', 'begin', 'allow'],
    ['C', 'continuing', 'allow'],
    ['E', 'end', 'allow'],
    ['D', 'deny', 'deny'],
  ])('maps state %s to flowState %s and decision %s', (field, flowState, decision) => {
    const tuple = parsed(`1663146003599,10.0.0.6,10.0.0.7,1000,2000,6,I,${field},X,1,2,3,4`, 'vnet');
    expect(tuple.flowState).toBe(flowState);
    expect(tuple.decision).toBe(decision);
  });

  it.each(['X', 'NX', 'NX_HW_NOT_SUPPORTED', 'NX_SW_NOT_READY', 'NX_NOT_ACCEPTED', 'NX_NOT_SUPPORTED', 'NX_LOCAL_DST', 'NX_FALLBACK'])(
    'keeps encryption %s exactly as written',
    (field) => {
      expect(parsed(`1663146003599,10.0.0.6,10.0.0.7,1000,2000,6,O,E,${field},1,2,3,4`, 'vnet').encryption).toBe(field);
    },
  );

  it('reads counters 0,0,0,0 as zeros and empty counters as nulls', () => {
    const zeros = parsed('1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0', 'vnet');
    expect([zeros.packetsSent, zeros.bytesSent, zeros.packetsReceived, zeros.bytesReceived]).toEqual([0, 0, 0, 0]);
    const empty = parsed('1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,,,,', 'vnet');
    expect([empty.packetsSent, empty.bytesSent, empty.packetsReceived, empty.bytesReceived]).toEqual([null, null, null, null]);
    expect(empty.flowState).toBe('deny');
    expect(empty.decision).toBe('deny');
  });

  it('keeps each counter in its own place (packets sent, bytes sent, packets received, bytes received)', () => {
    const tuple = parsed('1663146003599,10.0.0.6,10.0.0.7,1000,2000,6,O,C,X,11,2222,33,4444', 'vnet');
    expect([tuple.packetsSent, tuple.bytesSent, tuple.packetsReceived, tuple.bytesReceived]).toEqual([11, 2222, 33, 4444]);
  });

  it('reads a 10-digit seconds timestamp as the same instant as its 13-digit milliseconds form', () => {
    const seconds = parsed('1663146003,10.0.0.6,10.0.0.7,1000,2000,6,O,B,NX,0,0,0,0', 'vnet');
    const millis = parsed('1663146003000,10.0.0.6,10.0.0.7,1000,2000,6,O,B,NX,0,0,0,0', 'vnet');
    expect(seconds.timeMs).toBe(1663146003000);
    expect(millis.timeMs).toBe(1663146003000);
    expect(seconds).toEqual(millis);
    expect(new Date(seconds.timeMs).toISOString()).toBe('2022-09-14T09:00:03.000Z');
  });

  it('accepts IPv6 source and destination addresses', () => {
    const tuple = parsed('1663146003599,2001:db8::1,fe80::1ff:fe23:4567:890a,54321,443,58,O,E,X,5,600,7,800', 'vnet');
    expect(tuple.srcIP).toBe('2001:db8::1');
    expect(tuple.dstIP).toBe('fe80::1ff:fe23:4567:890a');
    expect(tuple.srcPort).toBe(54321);
    expect(tuple.dstPort).toBe(443);
    expect(tuple.protocolName).toBe('ICMPv6');
    expect([tuple.packetsSent, tuple.bytesSent, tuple.packetsReceived, tuple.bytesReceived]).toEqual([5, 600, 7, 800]);
  });

  it('accepts IPv4-mapped IPv6 and the full port range', () => {
    const tuple = parsed('1663146003599,::ffff:10.0.0.6,10.0.0.7,0,65535,6,I,B,NX,0,0,0,0', 'vnet');
    expect(tuple.srcIP).toBe('::ffff:10.0.0.6');
    expect(tuple.srcPort).toBe(0);
    expect(tuple.dstPort).toBe(65535);
  });
});

describe('NSG v1 flow tuples', () => {
  it('parses the 8 fields: seconds, T/U protocol, A/D decision, no state, no counters', () => {
    expect(parseTuple('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,A', 'nsg1')).toStrictEqual({
      timeMs: 1542110377000,
      srcIP: '10.5.16.4',
      dstIP: '13.67.143.118',
      srcPort: 59831,
      dstPort: 443,
      protocol: 6,
      protocolName: 'TCP',
      direction: 'outbound',
      decision: 'allow',
      flowState: null,
      encryption: null,
      packetsSent: null,
      bytesSent: null,
      packetsReceived: null,
      bytesReceived: null,
    });
    expect(parseTuple('1542110402,94.102.49.190,10.5.16.4,28746,53,U,I,D', 'nsg1')).toStrictEqual({
      timeMs: 1542110402000,
      srcIP: '94.102.49.190',
      dstIP: '10.5.16.4',
      srcPort: 28746,
      dstPort: 53,
      protocol: 17,
      protocolName: 'UDP',
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

  it('rejects a v1 tuple with v2 fields, and a v2 tuple read as v1', () => {
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,A,B,,,,', 'nsg1')).toBe('expected 8 fields, found 13');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,A', 'nsg2')).toBe('expected 13 fields, found 8');
  });
});

describe('NSG v2 flow tuples', () => {
  it('reads a begin tuple with empty counters as nulls', () => {
    expect(parseTuple('1542110424,176.119.4.10,10.5.16.4,56509,59336,T,I,D,B,,,,', 'nsg2')).toStrictEqual({
      timeMs: 1542110424000,
      srcIP: '176.119.4.10',
      dstIP: '10.5.16.4',
      srcPort: 56509,
      dstPort: 59336,
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

  it('reads E,1,66,1,66 as packets first, then bytes (not bytes first)', () => {
    const tuple = parsed('1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,66', 'nsg2');
    expect(tuple.packetsSent).toBe(1);
    expect(tuple.bytesSent).toBe(66);
    expect(tuple.packetsReceived).toBe(1);
    expect(tuple.bytesReceived).toBe(66);
    expect(tuple.flowState).toBe('end');
    expect(tuple.decision).toBe('allow');
    expect(tuple.direction).toBe('outbound');
    expect(tuple.encryption).toBeNull();
  });

  it('keeps the four counters in order for a continuing tuple', () => {
    const tuple = parsed('1542110379,10.5.16.4,13.67.143.115,44931,443,T,O,A,C,30,16978,24,14008', 'nsg2');
    expect(tuple.flowState).toBe('continuing');
    expect([tuple.packetsSent, tuple.bytesSent, tuple.packetsReceived, tuple.bytesReceived]).toEqual([30, 16978, 24, 14008]);
  });

  it('maps U to 17/UDP and still decides the unit of the timestamp by magnitude', () => {
    const tuple = parsed('1542110402000,94.102.49.190,10.5.16.4,28746,443,U,I,D,B,,,,', 'nsg2');
    expect(tuple.protocol).toBe(17);
    expect(tuple.protocolName).toBe('UDP');
    expect(tuple.timeMs).toBe(1542110402000);
  });
});

describe('malformed tuples', () => {
  const good = '1663146003599,10.0.0.6,10.0.0.7,1000,2000,6,O,E,NX,1,2,3,4';
  const fields = good.split(',');
  /** The good VNet tuple with field `n` (1-based) replaced. */
  const withField = (n: number, value: string): string => fields.map((field, index) => (index === n - 1 ? value : field)).join(',');

  it('is a valid tuple before any field is replaced', () => {
    expect(typeof parseTuple(good, 'vnet')).toBe('object');
  });

  it.each([
    ['too few fields', fields.slice(0, 12).join(','), 'expected 13 fields, found 12'],
    ['too many fields', `${good},5`, 'expected 13 fields, found 14'],
    ['an empty string', '', 'expected 13 fields, found 1'],
  ])('names the field count for %s', (_name, text, reason) => {
    expect(reasonOf(text, 'vnet')).toBe(reason);
  });

  it.each([
    [1, 'yesterday', 'field 1 (timestamp)'],
    [1, '', 'field 1 (timestamp)'],
    [1, '-1663146003599', 'field 1 (timestamp)'],
    [1, '1663146003.599', 'field 1 (timestamp)'],
    [2, 'not-an-ip', 'field 2 (source IP)'],
    [2, '10.0.0.256', 'field 2 (source IP)'],
    [3, 'example.com', 'field 3 (destination IP)'],
    [4, '-1', 'field 4 (source port)'],
    [4, '65536', 'field 4 (source port)'],
    [5, '70000', 'field 5 (destination port)'],
    [5, '', 'field 5 (destination port)'],
    [6, 'X', 'field 6 (protocol)'],
    [6, 'T', 'field 6 (protocol)'],
    [6, '256', 'field 6 (protocol)'],
    [6, '', 'field 6 (protocol)'],
    [7, 'Z', 'field 7 (direction)'],
    [7, 'i', 'field 7 (direction)'],
    [8, 'Q', 'field 8 (flow state)'],
    [8, 'A', 'field 8 (flow state)'],
    [9, 'Y', 'field 9 (encryption)'],
    [9, '', 'field 9 (encryption)'],
    [10, 'abc', 'field 10 (counter)'],
    [11, '-5', 'field 11 (counter)'],
    [12, '1.5', 'field 12 (counter)'],
    [13, 'abc', 'field 13 (counter)'],
  ])('VNet: field %d = "%s" is rejected naming %s', (n, value, prefix) => {
    const reason = reasonOf(withField(n, value), 'vnet');
    expect(reason.startsWith(`${prefix} `)).toBe(true);
    expect(reason).toContain(`"${value}"`);
  });

  it('NSG: protocol 6 (a number, not T/U) is rejected naming field 6', () => {
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,6,O,A,B,,,,', 'nsg2')).toBe('field 6 (protocol) is not T or U: "6"');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,6,O,A', 'nsg1')).toBe('field 6 (protocol) is not T or U: "6"');
  });

  it('NSG: direction Z, decision Q, state Q and counters abc are rejected naming their field', () => {
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,Z,A,B,,,,', 'nsg2')).toBe('field 7 (direction) is not I or O: "Z"');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,Q', 'nsg1')).toBe('field 8 (decision) is not A or D: "Q"');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,A,Q,,,,', 'nsg2')).toBe('field 9 (flow state) is not B, C or E: "Q"');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,59831,443,T,O,A,D,,,,', 'nsg2')).toBe('field 9 (flow state) is not B, C or E: "D"');
    expect(reasonOf('1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,abc,66,1,66', 'nsg2')).toBe('field 10 (counter) is not a number: "abc"');
    expect(reasonOf('1542110379,10.5.16.4,13.67.143.117,59932,443,T,O,A,E,1,66,1,abc', 'nsg2')).toBe('field 13 (counter) is not a number: "abc"');
  });

  it('NSG: timestamp yesterday and port 70000 are rejected naming their field', () => {
    expect(reasonOf('yesterday,10.5.16.4,13.67.143.118,59831,443,T,O,A', 'nsg1')).toBe('field 1 (timestamp) is not epoch seconds or milliseconds: "yesterday"');
    expect(reasonOf('1542110377,10.5.16.4,13.67.143.118,70000,443,T,O,A', 'nsg1')).toBe('field 4 (source port) is not a port: "70000"');
    expect(reasonOf('1542110377,10.5.16.4,bad,59831,443,T,O,A', 'nsg1')).toBe('field 3 (destination IP) is not an IP address: "bad"');
  });

  it('gives the exact reasons for the VNet cases of the brief', () => {
    expect(reasonOf(withField(2, 'nope'), 'vnet')).toBe('field 2 (source IP) is not an IP address: "nope"');
    expect(reasonOf(withField(5, '70000'), 'vnet')).toBe('field 5 (destination port) is not a port: "70000"');
    expect(reasonOf(withField(6, 'X'), 'vnet')).toBe('field 6 (protocol) is not an IANA protocol number: "X"');
    expect(reasonOf(withField(7, 'Z'), 'vnet')).toBe('field 7 (direction) is not I or O: "Z"');
    expect(reasonOf(withField(8, 'Q'), 'vnet')).toBe('field 8 (flow state) is not B, C, E or D: "Q"');
    expect(reasonOf(withField(10, 'abc'), 'vnet')).toBe('field 10 (counter) is not a number: "abc"');
    expect(reasonOf(withField(1, 'yesterday'), 'vnet')).toBe('field 1 (timestamp) is not epoch seconds or milliseconds: "yesterday"');
  });
});

describe('isIPv6', () => {
  // The tuple grammar's IPv6 check must accept exactly what node:net accepts (zone indexes aside).
  const samples = [
    '::', '::1', '1::', '1::1', '2001:db8::1', 'fe80::1ff:fe23:4567:890a', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', ':::', '1:::2', '1::2::3', '12345::', 'g::1', '::ffff:10.0.0.6',
    '::10.0.0.6', '1:2:3:4:5:6:10.0.0.6', '1:2:3:4:5::10.0.0.6', '1:2:3:4:5:6::10.0.0.6', '1:2:3:4:5:6:7:10.0.0.6', '::ffff:256.0.0.1',
    '::ffff:01.0.0.1', '10.0.0.6::', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7', '2603:1030:95e::c89b', 'FFFF::', '0:0:0:0:0:0:0:0', '1.2.3.4',
    ':', '', '1:', ':1', '::1.2.3', '::1.2.3.4.5', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
  ];
  it.each(samples)('agrees with node:net on %p', (sample) => {
    expect(isIPv6(sample)).toBe(isIP(sample) === 6);
  });

  it('agrees with node:net on random strings of hex digits, colons and dots', () => {
    const alphabet = '0123456789abcdefABCDEF:::::..';
    let state = 12345;
    for (let n = 0; n < 20000; n++) {
      let text = '';
      const length = n % 40;
      for (let i = 0; i < length; i++) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        text += alphabet[state % alphabet.length];
      }
      expect([text, isIPv6(text)]).toEqual([text, isIP(text) === 6]);
    }
  });
});
