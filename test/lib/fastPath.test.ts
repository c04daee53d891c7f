import { FlowLogGenerator, seededRandom } from '../../src/dev/flowLogGenerator';
import type { OutputMode, PackingMode } from '../../src/lib/config';
import { frameRange, type FramedElement } from '../../src/lib/framing';
import { FlowLogShaper, type DeadLetterItem } from '../../src/lib/shaping';
import { readTupleArray, tupleMatches } from '../../src/lib/tupleGrammar';
import { malformedField, parseTuple, type TupleFormat } from '../../src/lib/tuples';
import { tupleStringsIn } from '../support/tuples';

/**
 * The fast path (tuple arrays validated in place by the framer, records checked on their skeleton) must give
 * exactly what the slow path (every record and tuple parsed) gives: the same bodies, statistics and dead
 * letters, for valid input and for input with malformed tuples. Checked on generated records with random
 * mutations, in every output mode.
 */

const EDGE_VALUES = ['65535', '65536', '00443', '0', '255', '256', '::1', '1:2:3:4:5:6:7:8', '1::2::3', '2001:db8::g', '::ffff:10.0.0.1', '10.0.0.256', '010.0.0.1', '', '999999999999999', '9999999999999999', 'NX_HW_NOT_SUPPORTED', 'NX_', 'X', 'Q', 'T', 'A', 'B'];
const ALPHABET = '0123456789.:,XNT_a ';

function mutate(tuple: string, random: () => number): string {
  const fields = tuple.split(',');
  const pick = Math.floor(random() * 4);
  const at = Math.floor(random() * tuple.length);
  if (pick === 0) return tuple.slice(0, at) + (ALPHABET[Math.floor(random() * ALPHABET.length)] ?? '') + tuple.slice(at + 1);
  if (pick === 1) return tuple.slice(0, at) + tuple.slice(at + 1);
  if (pick === 2) return tuple.slice(0, at) + tuple.slice(at, at + 1) + tuple.slice(at);
  fields[Math.floor(random() * fields.length)] = EDGE_VALUES[Math.floor(random() * EDGE_VALUES.length)] ?? '';
  return fields.join(',');
}

/** A blob of generated records, some of whose tuples are mutated (valid or not). */
function blobWithMutations(seed: number, kind: 'vnet' | 'nsg', records: number, mutationRate: number, nsgV1 = false): Buffer {
  const generator = new FlowLogGenerator(seed);
  const random = seededRandom(seed + 1);
  const written: string[] = [];
  for (let i = 0; i < records; i++) {
    const record = JSON.parse(generator.record(generator.nic(kind, 1 + (i % 3)), new Date(Date.UTC(2026, 0, 1, 0, i + 1)), 12)) as Record<string, unknown>;
    const json = JSON.stringify(record, (key, value: unknown) => {
      if (key === 'Version' && nsgV1) return 1;
      if (key !== 'flowTuples' || !Array.isArray(value)) return value;
      return value.map((tuple: unknown) => {
        let text = String(tuple);
        if (nsgV1) text = text.split(',').slice(0, 8).join(',');
        return random() < mutationRate ? mutate(text, random) : text;
      });
    });
    written.push(json);
  }
  return Buffer.from(`{"records":[${written.join(',')}]}`);
}

function shapeAll(elements: FramedElement[], output: OutputMode, packing: PackingMode, maxEventBytes: number) {
  const bodies: string[] = [];
  const deadLetters: Omit<DeadLetterItem, 'bytes'>[] = [];
  const shaper = new FlowLogShaper({
    config: { output, packing, maxEventBytes },
    idPrefix: 'p',
    onBody: (body) => bodies.push(body),
    onDeadLetter: ({ start, end, reason }) => deadLetters.push({ start, end, reason }),
  });
  for (const element of elements) shaper.add(element);
  shaper.finish();
  return { bodies, deadLetters, stats: shaper.stats };
}

const MODES: [OutputMode, PackingMode, number][] = [
  ['records', 'envelope', 1_000_000],
  ['records', 'single', 1_000_000],
  ['records', 'envelope', 4096],
  ['tuples', 'envelope', 8192],
  ['tuples', 'single', 1_000_000],
];

describe('fast path and slow path', () => {
  it.each([
    ['VNet', 'vnet', false],
    ['NSG v2', 'nsg', false],
    ['NSG v1', 'nsg', true],
  ] as const)('give the same bodies, statistics and dead letters for %s records with mutated tuples', (_name, kind, nsgV1) => {
    for (let seed = 1; seed <= 6; seed++) {
      const blob = blobWithMutations(seed, kind, 8, seed === 1 ? 0 : 0.05 * seed, nsgV1);
      const elements = frameRange(blob, 0, 'document').elements;
      const fastEligible = elements.filter((element) => element.tupleSpans.length > 0).length;
      if (seed === 1) expect(fastEligible).toBe(elements.length);
      const slow = elements.map((element) => ({ ...element, ascii: false, tupleSpans: [] }));
      for (const [output, packing, max] of MODES) {
        expect(shapeAll(elements, output, packing, max)).toEqual(shapeAll(slow, output, packing, max));
      }
    }
  });
});

describe('the tuple grammar, one tuple and whole arrays', () => {
  it('agree, and a rejected tuple always has a named reason', () => {
    const random = seededRandom(99);
    const generator = new FlowLogGenerator(5);
    const formats: [TupleFormat, string[]][] = [
      ['vnet', tupleStringsIn(generator.record(generator.nic('vnet', 1), new Date(Date.UTC(2026, 0, 1, 0, 1)), 200))],
      ['nsg2', tupleStringsIn(generator.record(generator.nic('nsg', 2), new Date(Date.UTC(2026, 0, 1, 0, 1)), 200))],
    ];
    formats.push(['nsg1', (formats[1]?.[1] ?? []).map((tuple) => tuple.split(',').slice(0, 8).join(','))]);
    let rejected = 0;
    for (const [format, tuples] of formats) {
      for (const original of tuples) {
        for (let round = 0; round < 5; round++) {
          const tuple = round === 0 ? original : mutate(original, random);
          const matches = tupleMatches(tuple, format);
          expect([tuple, matches]).toEqual([tuple, malformedField(tuple, format) === undefined]);
          const array = Buffer.from(`"${original}",${JSON.stringify(tuple)},"${original}"]`);
          expect(readTupleArray(array, 0, format) !== undefined).toBe(matches && !/["\\]/.test(tuple));
          const parsed = parseTuple(tuple, format);
          expect(typeof parsed === 'object').toBe(matches);
          if (typeof parsed === 'string') {
            rejected++;
            expect(parsed).not.toBe('does not match the tuple format');
          }
        }
      }
    }
    expect(rejected).toBeGreaterThan(500);
  });
});

