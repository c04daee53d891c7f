import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FlowLogGenerator } from '../../src/dev/flowLogGenerator';
import { RecordFramer, frameRange, type FramedElement } from '../../src/lib/framing';

const fixture = (name: string): Buffer => readFileSync(path.join(__dirname, '../../fixtures', name));
const texts = (elements: FramedElement[]): string[] => elements.map((element) => element.bytes.toString());

describe('frameRange', () => {
  it('finds the records of both Microsoft samples at their exact offsets', () => {
    for (const name of ['vnet-sample.PT1H.json', 'nsg-v2-sample.PT1H.json']) {
      const blob = fixture(name);
      const { elements, summary } = frameRange(blob, 0, 'document');
      const records = (JSON.parse(blob.toString()) as { records: unknown[] }).records;
      expect(elements.map((element) => JSON.parse(element.bytes.toString()) as unknown)).toEqual(records);
      for (const element of elements) expect(blob.subarray(element.start, element.end).equals(element.bytes)).toBe(true);
      expect(summary).toEqual({ end: elements.at(-1)?.end, closed: true, incompleteFrom: undefined, mismatch: undefined });
    }
  });

  it('is not confused by braces, brackets, quotes, commas and escapes inside strings', () => {
    const tricky = ['{"a":"}{][,\\"}"}', '{"b":"\\\\"}', '{"c":"\\\\\\"},{"}', '{"d":["x\\u0022}",{"e":"]"}]}'];
    for (const record of tricky) expect(() => JSON.parse(record) as unknown).not.toThrow();
    const blob = Buffer.from(`{"records":[${tricky.join(',')}]}`);
    expect(texts(frameRange(blob, 0, 'document').elements)).toEqual(tricky);
  });

  it('accepts whitespace around the header, separators and records', () => {
    const blob = Buffer.from('\n{ "records" :\t[\n  {"a":1} ,\r\n {"b":2}\n ]\n}\n');
    const { elements, summary } = frameRange(blob, 0, 'document');
    expect(texts(elements)).toEqual(['{"a":1}', '{"b":2}']);
    expect(summary.closed).toBe(true);
  });

  it('reads a range that starts just after a claimed record, with absolute offsets', () => {
    const { elements, summary } = frameRange(Buffer.from(',{"a":1},{"b":2}]}'), 100, 'afterRecord');
    expect(elements.map((element) => [element.start, element.end])).toEqual([
      [101, 108],
      [109, 116],
    ]);
    expect(summary.end).toBe(116);
  });

  it('reports an incomplete trailing record and claims only up to the last complete one', () => {
    const { elements, summary } = frameRange(Buffer.from('{"records":[{"a":1},{"b":"unfinished'), 0, 'document');
    expect(texts(elements)).toEqual(['{"a":1}']);
    expect(summary).toEqual({ end: 19, closed: false, incompleteFrom: 20, mismatch: undefined });
  });

  it('recognises bytes that are not a record boundary or not a flow-log document', () => {
    expect(frameRange(Buffer.from('"tuple",{"a":1}'), 50, 'afterRecord').summary.mismatch).toBe('notRecordBoundary');
    expect(frameRange(Buffer.from('{"value":[1]}'), 0, 'document').summary.mismatch).toBe('notFlowLogDocument');
    expect(frameRange(Buffer.from('not json'), 0, 'document').summary.mismatch).toBe('notFlowLogDocument');
  });

  it('an empty records array and an empty range have no records', () => {
    expect(frameRange(Buffer.from('{"records":[]}'), 0, 'document')).toEqual({ elements: [], summary: { end: 0, closed: true, incompleteFrom: undefined, mismatch: undefined } });
    expect(frameRange(Buffer.from(']}'), 40, 'afterRecord').summary).toEqual({ end: 40, closed: true, incompleteFrom: undefined, mismatch: undefined });
  });

  it('sets garbage between separators apart as its own element, keeping the records after it', () => {
    expect(texts(frameRange(Buffer.from('{"records":[{"a":1},not json ,{"b":2}]}'), 0, 'document').elements)).toEqual(['{"a":1}', 'not json', '{"b":2}']);
  });
});

describe('RecordFramer fed in chunks', () => {
  it('finds the same records at the same offsets wherever the chunks are cut', () => {
    const blob = Buffer.concat([fixture('nsg-v2-sample.PT1H.json').subarray(0, -2), Buffer.from(',{"x":"\\"}{,"},{"y":[1,{"z":"]"}]}]}')]);
    const whole = frameRange(blob, 0, 'document');
    for (let cut = 1; cut < blob.length; cut += 17) {
      for (const size of [1, cut]) {
        const framer = new RecordFramer(0, 'document');
        const elements: FramedElement[] = [];
        for (let i = 0; i < blob.length; i += size) elements.push(...framer.push(blob.subarray(i, i + size)));
        expect(elements.map(({ start, end, bytes }) => ({ start, end, bytes }))).toEqual(whole.elements.map(({ start, end, bytes }) => ({ start, end, bytes })));
        expect(framer.summary()).toEqual(whole.summary);
      }
    }
  });

  it('finish() completes a trailing element that has no separator after it', () => {
    const framer = new RecordFramer(10, 'afterRecord');
    expect(framer.push(Buffer.from(',{"a":1},garbage  '))).toHaveLength(1);
    expect(framer.finish()).toEqual([expect.objectContaining({ start: 19, end: 26, bytes: Buffer.from('garbage') })]);
  });
});

describe('records cut short', () => {
  const generator = new FlowLogGenerator(4);
  const nic = generator.nic('vnet', 1);
  const record = (minute: number): string => generator.record(nic, new Date(Date.UTC(2026, 0, 1, 0, minute)), 6);
  const good = [record(1), record(2), record(3), record(4)];
  const cut = (json: string, at: number): string => json.slice(0, Math.floor(json.length * at));

  /** Frames a document in chunks of `size` bytes, then finishes it: what the function and convert do. */
  function frameAll(document: string, size: number): FramedElement[] {
    const bytes = Buffer.from(document);
    const framer = new RecordFramer(0, 'document');
    const out: FramedElement[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
    return [...out, ...framer.finish()];
  }

  it('set a broken record aside and keep every whole record after it, however the bytes are chunked', () => {
    const broken = cut(good[1] ?? '', 0.5);
    const document = `{"records":[${[good[0], broken, good[2], good[3]].join(',')}`;
    for (const size of [7, 1000, 1 << 20]) {
      expect(texts(frameAll(document, size))).toEqual([good[0], broken, good[2], good[3]]);
    }
  });

  it('keep the good records between several broken ones', () => {
    const first = cut(good[0] ?? '', 0.3);
    const second = cut(good[2] ?? '', 0.8);
    const document = `{"records":[${[first, good[1], second, good[3]].join(',')}`;
    expect(texts(frameAll(document, 4096))).toEqual([first, good[1], second, good[3]]);
  });

  it('do not resynchronise on an inner object that is not a record', () => {
    const broken = cut(good[0] ?? '', 0.9); // still holds whole flow objects `{"aclID":...}` after commas
    expect(broken).toMatch(/,\{"aclID"/);
    const elements = frameAll(`{"records":[${broken},${good[1]}`, 1 << 20);
    expect(texts(elements)).toEqual([broken, good[1]]);
  });

  it('resynchronise after a broken record with any number of inner objects', () => {
    const groups = Array.from({ length: 200 }, (_, i) => `{"rule":"r${i}","flowTuples":[]}`).join(',');
    const broken = `{"time":"2026-01-01T00:00:00Z","flowRecords":{"flows":[{"aclID":"a","flowGroups":[${groups}`;
    expect(texts(frameAll(`{"records":[${broken},${good[0]},${good[1]}`, 1000))).toEqual([broken, good[0], good[1]]);
  });

  it('a record closed by the wrong kind of bracket is broken from its start', () => {
    const framer = new RecordFramer(0, 'document');
    const records = framer.push(Buffer.from('{"records":[{"a":1},{"flowLogVersion":4]}'));
    expect(texts(records)).toEqual(['{"a":1}']);
    expect(framer.summary()).toEqual({ end: 19, closed: false, incompleteFrom: 20, mismatch: undefined });
    expect(texts(framer.finish())).toEqual(['{"flowLogVersion":4]}']);
  });

  it('everything after a broken record is set aside when no whole record follows', () => {
    expect(texts(frameAll('{"records":[{"a":1},{"unclosed": [1, 2, "x', 5))).toEqual(['{"a":1}', '{"unclosed": [1, 2, "x']);
  });
});
