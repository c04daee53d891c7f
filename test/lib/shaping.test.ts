import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FlowLogGenerator } from '../../src/dev/flowLogGenerator';
import type { OutputMode, PackingMode } from '../../src/lib/config';
import { frameRange, type FramedElement } from '../../src/lib/framing';
import { createPacker, ENVELOPE_OVERHEAD } from '../../src/lib/packing';
import { parseRecord, type FlowLogRecord } from '../../src/lib/records';
import { FlowLogShaper, type DeadLetterItem } from '../../src/lib/shaping';
import { splitRecord } from '../../src/lib/split';
import { tupleGroups } from '../../src/lib/tupleGroups';

const fixture = (name: string): Buffer => readFileSync(path.join(__dirname, '../../fixtures', name));

function shape(elements: FramedElement[], output: OutputMode, packing: PackingMode, maxEventBytes = 1_000_000) {
  const bodies: string[] = [];
  const deadLetters: DeadLetterItem[] = [];
  const shaper = new FlowLogShaper({ config: { output, packing, maxEventBytes }, idPrefix: 'p', onBody: (body) => bodies.push(body), onDeadLetter: (item) => deadLetters.push(item) });
  for (const element of elements) shaper.add(element);
  shaper.finish();
  return { bodies, deadLetters, stats: shaper.stats };
}

function hourBlob(records: number, tuplesPerRecord: number, kind: 'vnet' | 'nsg' = 'vnet'): { blob: Buffer; records: string[] } {
  const generator = new FlowLogGenerator(9);
  const nic = generator.nic(kind, 1);
  const written = Array.from({ length: records }, (_, i) => generator.record(nic, new Date(Date.UTC(2026, 0, 1, 0, i + 1)), tuplesPerRecord));
  return { blob: Buffer.from(`{"records":[${written.join(',')}]}`), records: written };
}

const allTuples = (record: unknown): string[] => {
  const parsed = parseRecord(Buffer.from(JSON.stringify(record)));
  if (typeof parsed === 'string') throw new Error(parsed);
  return tupleGroups(parsed).flatMap((group) => [...group.tuples]);
};

describe('packing', () => {
  it('fills envelopes up to the limit and never over it', () => {
    const bodies: [string, number][] = [];
    const packer = createPacker('envelope', 100, (body, size) => bodies.push([body, size]));
    const item = '{"k":"' + 'x'.repeat(30) + '"}'; // 38 bytes
    for (let i = 0; i < 5; i++) expect(packer.add(item, 38)).toBe(true);
    packer.flush();
    expect(bodies.map(([, size]) => size)).toEqual([ENVELOPE_OVERHEAD + 38 * 2 + 1, ENVELOPE_OVERHEAD + 38 * 2 + 1, ENVELOPE_OVERHEAD + 38]);
    for (const [body, size] of bodies) expect(Buffer.byteLength(body)).toBe(size);
    expect(packer.add('x'.repeat(87), 87)).toBe(false);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const bodies: string[] = [];
    const packer = createPacker('single', 10, (body) => bodies.push(body));
    expect(packer.add('"ééééé"', Buffer.byteLength('"ééééé"'))).toBe(false);
    expect(packer.add('"éé"', Buffer.byteLength('"éé"'))).toBe(true);
    expect(bodies).toEqual(['"éé"']);
  });
});

describe('records output', () => {
  it('forwards records byte-for-byte, in envelopes or one per event', () => {
    const { blob, records } = hourBlob(20, 10);
    const { elements } = frameRange(blob, 0, 'document');
    expect(shape(elements, 'records', 'envelope').bodies).toEqual([`{"records":[${records.join(',')}]}`]);
    expect(shape(elements, 'records', 'single').bodies).toEqual(records);
  });

  it('keeps every envelope within MAX_EVENT_BYTES and fills it', () => {
    const { blob, records } = hourBlob(200, 20);
    const max = 16_384;
    const { bodies, stats } = shape(frameRange(blob, 0, 'document').elements, 'records', 'envelope', max);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(max);
    expect(bodies.flatMap((body) => (JSON.parse(body) as { records: unknown[] }).records.map((r) => JSON.stringify(r)))).toEqual(records);
    const recordSize = Buffer.byteLength(records[0] ?? '');
    for (const body of bodies.slice(0, -1)) expect(Buffer.byteLength(body)).toBeGreaterThan(max - recordSize * 1.2);
    expect(stats).toEqual({ records: 200, tuples: 200 * 20, events: bodies.length, bytesOut: bodies.reduce((n, b) => n + Buffer.byteLength(b), 0), deadLetters: 0 });
  });

  it.each([
    ['vnet', 'envelope'],
    ['vnet', 'single'],
    ['nsg', 'envelope'],
  ] as const)('splits a %s record several times MAX_EVENT_BYTES (%s) into parts holding every tuple once', (kind, packing) => {
    const max = 6000;
    const { blob, records } = hourBlob(1, 300, kind);
    expect(Buffer.byteLength(records[0] ?? '')).toBeGreaterThan(3 * max);
    const { bodies, deadLetters } = shape(frameRange(blob, 0, 'document').elements, 'records', packing, max);
    expect(deadLetters).toEqual([]);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(max);
    const parts = packing === 'single' ? bodies.map((body) => JSON.parse(body) as Record<string, unknown>) : bodies.flatMap((body) => (JSON.parse(body) as { records: Record<string, unknown>[] }).records);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    const original = JSON.parse(records[0] ?? '') as Record<string, unknown>;
    expect(parts.flatMap(allTuples)).toEqual(allTuples(original));
    for (const part of parts) {
      expect(Object.keys(part)).toEqual(Object.keys(original));
      for (const key of Object.keys(original).filter((k) => k !== 'flowRecords' && k !== 'properties')) expect(part[key]).toEqual(original[key]);
      expect(typeof parseRecord(Buffer.from(JSON.stringify(part)))).toBe('object');
    }
  });

  it('computes split sizes exactly', () => {
    const { records } = hourBlob(1, 500);
    const parsed = parseRecord(Buffer.from(records[0] ?? '')) as FlowLogRecord;
    const picks = tupleGroups(parsed).map((group) => ({ outer: group.outer, inner: group.inner, tuples: [...group.tuples] }));
    for (const budget of [2000, 3000, 7777, 20_000]) {
      const parts = splitRecord(parsed, picks, budget) ?? [];
      expect(parts.length).toBeGreaterThan(0);
      for (const part of parts) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(budget);
      // Greedy: a part plus the next part's first tuple would not have fit.
      for (let i = 0; i + 1 < parts.length; i++) {
        const next = allTuples(JSON.parse(parts[i + 1] ?? '{}'))[0] ?? '';
        expect(Buffer.byteLength(parts[i] ?? '') + Buffer.byteLength(JSON.stringify(next)) + 1).toBeGreaterThan(budget);
      }
    }
    expect(splitRecord(parsed, picks, 300)).toBeUndefined();
  });

  it('forwards a record without its malformed tuples and dead-letters each of them with its byte range', () => {
    const record = fixture('vnet-sample.PT1H.json').toString().replace('"1663146003637,10.0.0.6,40.74.146.17,22730,443,6,O,B,NX,0,0,0,0"', '"1663146003637,10.0.0.6,40.74.146.17,22730,99999,6,O,B,NX,0,0,0,0"');
    const blob = Buffer.from(record);
    const { bodies, deadLetters, stats } = shape(frameRange(blob, 0, 'document').elements, 'records', 'envelope');
    expect(deadLetters).toHaveLength(1);
    const [dead] = deadLetters;
    expect(dead?.bytes.toString()).toBe('"1663146003637,10.0.0.6,40.74.146.17,22730,99999,6,O,B,NX,0,0,0,0"');
    expect(blob.subarray(dead?.start, dead?.end).equals(dead?.bytes ?? Buffer.alloc(0))).toBe(true);
    expect(dead?.reason).toMatch(/tuple 2 .*destination port/);
    const forwarded = (JSON.parse(bodies[0] ?? '') as { records: unknown[] }).records[0];
    expect(allTuples(forwarded)).toHaveLength(18);
    expect(stats.tuples).toBe(18);
  });
});

describe('tuples output', () => {
  it('emits one object per tuple with ids from the record offset and tuple index', () => {
    const blob = fixture('nsg-v2-sample.PT1H.json');
    const elements = frameRange(blob, 0, 'document').elements;
    const { bodies, stats } = shape(elements, 'tuples', 'single');
    expect(bodies).toHaveLength(11);
    const ids = bodies.map((body) => (JSON.parse(body) as { id: string }).id);
    expect(ids).toEqual([...Array.from({ length: 7 }, (_, i) => `p-${elements[0]?.start}-${i}`), ...Array.from({ length: 4 }, (_, i) => `p-${elements[1]?.start}-${i}`)]);
    expect(stats).toEqual(expect.objectContaining({ records: 2, tuples: 11, events: 11 }));
  });

  it('packs tuple objects into envelopes under the limit, greedily, as the same objects as one per event', () => {
    const { blob } = hourBlob(30, 40);
    const elements = frameRange(blob, 0, 'document').elements;
    const { bodies, stats } = shape(elements, 'tuples', 'envelope', 50_000);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(50_000);
    const objects = bodies.map((body) => (JSON.parse(body) as { records: unknown[] }).records.map((object) => JSON.stringify(object)));
    expect(objects.flat()).toHaveLength(1200);
    expect(stats.tuples).toBe(1200);
    // Each body was closed only when the next object did not fit it.
    for (const [k, body] of bodies.slice(0, -1).entries()) expect(Buffer.byteLength(body) + 1 + Buffer.byteLength(objects[k + 1]?.[0] ?? '')).toBeGreaterThan(50_000);
    expect(objects.flat()).toEqual(shape(elements, 'tuples', 'single').bodies);
  });

  it('writes non-ASCII record strings as UTF-8 and counts their bytes', () => {
    const { records } = hourBlob(3, 5);
    const renamed = records.map((record) => record.replaceAll('"rule":"', '"rule":"règle-ü-'));
    const blob = Buffer.from(`{"records":[${renamed.join(',')}]}`);
    for (const packing of ['envelope', 'single'] as const) {
      const { bodies, stats } = shape(frameRange(blob, 0, 'document').elements, 'tuples', packing, 4096);
      expect(stats.bytesOut).toBe(bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0));
      const rules = bodies.flatMap((body) => (packing === 'single' ? [JSON.parse(body) as { rule: string }] : (JSON.parse(body) as { records: { rule: string }[] }).records)).map((object) => object.rule);
      expect(rules).toHaveLength(15);
      for (const rule of rules) expect(rule).toMatch(/^règle-ü-/);
    }
  });

  it('dead-letters records that are not JSON or fail the schema, and malformed tuples, and keeps the rest', () => {
    const good = fixture('vnet-sample.PT1H.json').toString().trim().slice(12, -2);
    const badTuple = good.replace('"1663146005503,192.241.200.164,10.0.0.6,35276,119,6,I,D,NX,0,0,0,0"', '"1663146005503,192.241.200.164,10.0.0.6,35276,119,6,I,D,NX,0,0,0"');
    const blob = Buffer.from(`{"records":[${good},{"time":"x"},{not json},${badTuple}]}`);
    const { bodies, deadLetters } = shape(frameRange(blob, 0, 'document').elements, 'tuples', 'single');
    expect(bodies).toHaveLength(19 + 18);
    expect(deadLetters.map((item) => item.reason)).toEqual([
      expect.stringMatching(/^not a JSON object|neither a VNet/),
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/tuple 11 of the record at offset \d+: expected 13 fields, found 12/),
    ]);
    for (const item of deadLetters) expect(blob.subarray(item.start, item.end).equals(item.bytes)).toBe(true);
  });
});

describe('records that must be rebuilt or cannot be shaped', () => {
  const vnetRecord = fixture('vnet-sample.PT1H.json').toString().trim().slice(12, -2);

  it('keeps every field and flow group of a record all of whose tuples are malformed', () => {
    const record = JSON.parse(vnetRecord) as { flowRecords: { flows: { flowGroups: { flowTuples: string[] }[] }[] } };
    for (const flow of record.flowRecords.flows) for (const group of flow.flowGroups) group.flowTuples = group.flowTuples.map((tuple) => tuple.replace(',6,', ',600,'));
    const { bodies, deadLetters, stats } = shape(frameRange(Buffer.from(`{"records":[${JSON.stringify(record)}]}`), 0, 'document').elements, 'records', 'single');
    expect(deadLetters).toHaveLength(19);
    const forwarded = JSON.parse(bodies[0] ?? '{}') as typeof record;
    expect(forwarded.flowRecords.flows.map((flow) => flow.flowGroups.map((group) => group.flowTuples))).toEqual([[[]], [[], []]]);
    expect(stats).toEqual(expect.objectContaining({ records: 1, tuples: 0, events: 1 }));
  });

  it('dead-letters a record larger than an event that has no tuples to split it by', () => {
    const big = JSON.stringify({ ...(JSON.parse(vnetRecord) as object), flowRecords: { flows: [] }, operationName: 'x'.repeat(9000) });
    const blob = Buffer.from(`{"records":[${big}]}`);
    const { bodies, deadLetters } = shape(frameRange(blob, 0, 'document').elements, 'records', 'envelope', 8192);
    expect(bodies).toEqual([]);
    expect(deadLetters).toEqual([expect.objectContaining({ start: 12, end: 12 + big.length, reason: 'record does not fit MAX_EVENT_BYTES (8192), and it has no tuples to split it by' })]);
  });

  it('dead-letters a record that cannot be shaped instead of failing the whole range', () => {
    const deep = `${'{"x":'.repeat(20000)}1${'}'.repeat(20000)}`;
    const withBadTuple = vnetRecord.replace('"operationName":"FlowLogFlowEvent"', `"operationName":"FlowLogFlowEvent","deep":${deep}`).replace(',6,O,B,', ',6,Q,B,');
    const blob = Buffer.from(`{"records":[${withBadTuple},${vnetRecord}]}`);
    const { bodies, deadLetters } = shape(frameRange(blob, 0, 'document').elements, 'records', 'single');
    expect(bodies).toEqual([vnetRecord]);
    expect(deadLetters.map((item) => item.reason)).toContainEqual(expect.stringMatching(/could not be shaped|not JSON/));
    // Set aside once, whole: not also the malformed tuple inside it.
    expect(deadLetters.map(({ start, end }) => [start, end])).toEqual([[12, 12 + withBadTuple.length]]);
  });

  it('dead-letters tuple objects too large for an event at their own byte ranges, also for identical tuples', () => {
    const longRule = vnetRecord.replace('"rule":"DefaultRule_AllowInternetOutBound"', `"rule":"${'R'.repeat(5000)}"`).replace('"1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580"', '"1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0"');
    const blob = Buffer.from(`{"records":[${longRule}]}`);
    const { deadLetters } = shape(frameRange(blob, 0, 'document').elements, 'tuples', 'single', 4096);
    expect(deadLetters).toHaveLength(10);
    expect(new Set(deadLetters.map((item) => item.start)).size).toBe(10);
    for (const item of deadLetters) expect(blob.subarray(item.start, item.end).toString()).toMatch(/^"\d{13},[^"]+"$/);
  });
});
