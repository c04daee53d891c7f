import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FlowLogGenerator, seededRandom } from '../../src/dev/flowLogGenerator';
import { RecordFramer, frameRange, type FramedElement, type FramerOptions } from '../../src/lib/framing';
import { parseRecord } from '../../src/lib/records';

const fixture = (name: string): Buffer => readFileSync(path.join(__dirname, '../../fixtures', name));
const texts = (elements: FramedElement[]): string[] => elements.map((element) => element.bytes.toString());

/** Feeds `bytes` in chunks of the sizes given, settling after a chunk when asked, then finishes: what the function and convert do. */
function frameInChunks(framer: RecordFramer, bytes: Buffer, chunkSizes: () => number, settleSometimes?: () => boolean): FramedElement[] {
  const out: FramedElement[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = chunkSizes();
    out.push(...framer.push(bytes.subarray(i, i + size)));
    if (settleSometimes?.()) out.push(...framer.settle());
    i += size;
  }
  return [...out, ...framer.finish()];
}

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
    return frameInChunks(new RecordFramer(0, 'document'), Buffer.from(document), () => size);
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

describe('framing any bytes: a fuzz of good, torn and wrong-bracket records, garbage and stray brackets', () => {
  const generator = new FlowLogGenerator(9);
  const nic = generator.nic('vnet', 3);
  const claims = { closingInRange: false } as const;
  const convertLike = { closingInRange: false, settleWhileOpen: true, limits: { maxRecordBytes: 8192, settleStepBytes: 2048 } } as const;

  /** A claimed range (starting at a record boundary): its good records, and its bytes. */
  function range(seed: number, parts: number, longJunk = false): { good: string[]; bytes: Buffer } {
    const next = seededRandom(seed);
    const good: string[] = [];
    const pieces: string[] = [];
    for (let i = 0; i < parts; i++) {
      const record = generator.record(nic, new Date(Date.UTC(2026, 0, 1, 0, i % 60)), 1 + Math.floor(next() * 6));
      const roll = next();
      if (roll < 0.5) {
        good.push(record);
        pieces.push(record);
      } else if (roll < 0.7) {
        pieces.push(record.slice(0, 1 + Math.floor(next() * (record.length - 2)))); // torn anywhere, strings included
      } else if (roll < 0.8) {
        const closers = [...record.matchAll(/\}/g)].map((match) => match.index);
        const at = closers[Math.floor(next() * closers.length)] ?? 0;
        pieces.push(`${record.slice(0, at)}]${record.slice(at + 1)}`);
      } else if (roll < 0.9) {
        pieces.push(next() < 0.5 ? ']' : 'not json');
      } else {
        pieces.push(longJunk ? `{"junk":[${'[1,{"a":"b"}],'.repeat(2000)}0` : '{"nested":{"time":"x"}');
      }
    }
    const whitespace = (): string => (next() < 0.2 ? ' \n' : '');
    return { good, bytes: Buffer.from(pieces.map((piece) => `,${whitespace()}${piece}${whitespace()}`).join('')) };
  }

  function frame(bytes: Buffer, options: FramerOptions, chunkSizes: () => number, settleSometimes?: () => boolean): FramedElement[] {
    return frameInChunks(new RecordFramer(1000, 'afterRecord', options), bytes, chunkSizes, settleSometimes);
  }

  const shape = (elements: FramedElement[]): { start: number; end: number; text: string }[] => elements.map(({ start, end, bytes }) => ({ start, end, text: bytes.toString() }));

  /** Elements in order, each exactly its bytes, with only whitespace and separators between them. */
  function expectCoverage(bytes: Buffer, elements: FramedElement[], piecesMayTouch: boolean): void {
    let at = 1000;
    for (const element of elements) {
      expect(bytes.subarray(element.start - 1000, element.end - 1000).equals(element.bytes)).toBe(true);
      const gap = bytes.toString('latin1', at - 1000, element.start - 1000);
      expect(gap).toMatch(piecesMayTouch ? /^[ \n]*(,[ \n]*)?$/ : /^[ \n]*,[ \n]*$/);
      at = element.end;
    }
    expect(bytes.toString('latin1', at - 1000)).toMatch(/^[ \n]*$/);
  }

  const recordsIn = (elements: FramedElement[]): string[] => elements.filter((element) => typeof parseRecord(element.bytes) === 'object').map((element) => element.bytes.toString());

  it('claims: every good record kept, every other byte set aside once, the same however chunked or settled', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { good, bytes } = range(seed, 30);
      const whole = frame(bytes, claims, () => bytes.length);
      expectCoverage(bytes, whole, false);
      expect(recordsIn(whole)).toEqual(good);
      const next = seededRandom(seed * 31);
      for (const maxChunk of [1, 64, 4096]) {
        const chunked = frame(bytes, claims, () => 1 + Math.floor(next() * maxChunk), () => next() < 0.3);
        expect(shape(chunked)).toEqual(shape(whole));
      }
    }
  });

  it('streams (convert): long broken stretches are set aside in pieces of at most the record limit, at the same offsets however chunked', () => {
    let fullPieces = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { good, bytes } = range(seed, 30, true);
      const whole = frame(bytes, convertLike, () => bytes.length);
      expectCoverage(bytes, whole, true);
      expect(recordsIn(whole)).toEqual(good);
      expect(Math.max(...whole.map((element) => element.bytes.length))).toBeLessThanOrEqual(8192);
      fullPieces += whole.filter((element) => element.bytes.length === 8192).length;
      const next = seededRandom(seed * 17);
      for (const maxChunk of [100, 3000]) {
        expect(shape(frame(bytes, convertLike, () => 1 + Math.floor(next() * maxChunk)))).toEqual(shape(whole));
      }
    }
    expect(fullPieces).toBeGreaterThan(10);
  });

  it('a stray `]` between records of a claimed range is garbage of its own, not the end of the records', () => {
    const [first, second] = [1, 2].map((minute) => generator.record(nic, new Date(Date.UTC(2026, 0, 1, 0, minute)), 2));
    const framer = new RecordFramer(0, 'afterRecord', claims);
    const elements = [...framer.push(Buffer.from(`,${first},],${second}`)), ...framer.finish()];
    expect(texts(elements)).toEqual([first, ']', second]);
    expect(framer.summary().closed).toBe(false);
  });

  it('thousands of broken records in a row frame in one pass, without deep recursion', () => {
    const record = generator.record(nic, new Date(Date.UTC(2026, 0, 1)), 3);
    const torn = record.slice(0, record.length >> 1);
    const bytes = Buffer.from(`,${Array.from({ length: 3000 }, () => `${torn},${record}`).join(',')}`);
    const elements = frame(bytes, claims, () => bytes.length);
    expect(elements).toHaveLength(6000);
    expect(recordsIn(elements)).toHaveLength(3000);
  });
});
