import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RecordFramer, frameRange, recoverRecords, type FramedElement } from '../../src/lib/framing';

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

  it('finishAtBoundary completes a trailing element that has no separator after it', () => {
    const framer = new RecordFramer(10, 'afterRecord');
    expect(framer.push(Buffer.from(',{"a":1},garbage  '))).toHaveLength(1);
    expect(framer.finishAtBoundary()).toEqual(expect.objectContaining({ start: 19, end: 26, bytes: Buffer.from('garbage') }));
  });
});

describe('recoverRecords', () => {
  it('sets an unclosed record aside and keeps the records after it', () => {
    const bytes = Buffer.from('{"time":"broken,"flowTuples":["x",{"a":1},{"b":"}"}');
    const { malformed, records } = recoverRecords(500, bytes);
    expect(texts(malformed)).toEqual(['{"time":"broken,"flowTuples":["x"']);
    expect(malformed[0]?.start).toBe(500);
    expect(texts(records)).toEqual(['{"a":1}', '{"b":"}"}']);
    expect(records[0]?.start).toBe(500 + bytes.indexOf('{"a"'));
  });

  it('returns everything as malformed when no later record frames', () => {
    const bytes = Buffer.from('{"unclosed": [1, 2, "x');
    expect(recoverRecords(0, bytes)).toEqual({ malformed: [expect.objectContaining({ start: 0, end: bytes.length, bytes })], records: [] });
  });

  it('keeps the good records between and after several broken ones', () => {
    const parts = ['{"torn":1,"x":[', '{"a":1}', '{"torn":"2', '{"b":2}', '{"c":{"d":[3]}}'];
    const bytes = Buffer.from(parts.join(','));
    const { malformed, records } = recoverRecords(0, bytes);
    expect(texts(records)).toEqual(['{"a":1}', '{"b":2}', '{"c":{"d":[3]}}']);
    expect(texts(malformed)).toEqual(['{"torn":1,"x":[', '{"torn":"2']);
  });
});

describe('brackets closed by the wrong kind', () => {
  it('mark the record as broken from its start instead of ending it there', () => {
    const framer = new RecordFramer(0, 'document');
    const records = framer.push(Buffer.from('{"records":[{"a":1},{"flowLogVersion":4]}'));
    expect(texts(records)).toEqual(['{"a":1}']);
    expect(framer.summary()).toEqual({ end: 19, closed: false, incompleteFrom: 20, mismatch: undefined });
    expect(framer.finishAtBoundary()?.bytes.toString()).toBe('{"flowLogVersion":4]}');
  });
});
