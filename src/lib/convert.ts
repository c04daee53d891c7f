import type { ShapingConfig } from './config';
import { RecordFramer, recoveredElements, type FramedElement } from './framing';
import { FlowLogShaper, type DeadLetterItem, type ShapeStats } from './shaping';
import { tupleIdPrefix } from './tupleJson';

/**
 * A whole PT1H.json document, streamed: the bodies the function returns for a blob with this content
 * when one event claims all of it (same framing, shaping and packing; same tuple ids for the same
 * `sourceId`). Memory is bounded by the chunk size and the largest record, not by the input.
 */

export interface ConvertOptions {
  config: ShapingConfig;
  /** `<account>/<container>/<blob path>` gives the function's tuple ids for that blob. */
  sourceId: string;
  onDeadLetter(item: DeadLetterItem): void;
}

const NOT_A_DOCUMENT = 'not a flow log document ({"records":[...]})';

/** Yields the bodies completed by each chunk of input, then the last ones. Returns the statistics. */
export async function* convertStream(chunks: AsyncIterable<Buffer>, options: ConvertOptions): AsyncGenerator<string[], ShapeStats> {
  let bodies: string[] = [];
  const shaper = new FlowLogShaper({ config: options.config, idPrefix: tupleIdPrefix(options.sourceId), onBody: (body) => bodies.push(body), onDeadLetter: options.onDeadLetter });
  const framer = new RecordFramer(0, 'document');
  // Kept until the header is read: a document that is not a flow log is set aside whole, from byte 0.
  let headerChunks: Buffer[] | undefined = [];
  let rejected: Buffer[] | undefined;
  for await (const chunk of chunks) {
    if (rejected) {
      rejected.push(chunk);
      continue;
    }
    headerChunks?.push(chunk);
    for (const element of framer.push(chunk)) {
      shaper.add(element);
      // Hand bodies on per record: short-lived strings are cheap for the garbage collector.
      if (bodies.length > 0) {
        yield bodies;
        bodies = [];
      }
    }
    if (framer.summary().mismatch) rejected = headerChunks ?? [];
    if (!framer.readingHeader()) headerChunks = undefined;
  }
  if (rejected) {
    // Not a flow-log document at all: set it aside whole, as the function does.
    const bytes = Buffer.concat(rejected);
    if (bytes.length > 0) shaper.addMalformed({ start: 0, end: bytes.length, bytes }, NOT_A_DOCUMENT);
  } else {
    for (const element of unclosedAtEnd(framer)) shaper.add(element);
  }
  shaper.finish();
  if (bodies.length > 0) yield bodies;
  return shaper.stats;
}

/**
 * A record still open at the end of the input never closes. As in the function, it is malformed up to the
 * document's closing `]}`, and any records after it are kept.
 */
function unclosedAtEnd(framer: RecordFramer): FramedElement[] {
  const unclosed = framer.finishAtBoundary();
  if (!unclosed) return [];
  const closing = /\]\s*\}\s*$/.exec(unclosed.bytes.toString('latin1'));
  const bytes = closing ? unclosed.bytes.subarray(0, closing.index) : unclosed.bytes;
  return recoveredElements(unclosed.start, bytes);
}
