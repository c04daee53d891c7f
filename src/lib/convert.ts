import type { ShapingConfig } from './config';
import { CLOSING_BYTES, NOT_A_DOCUMENT, RecordFramer, closingStart, type FramedElement, type FramerOptions } from './framing';
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
  /** The framer's limits, smaller in tests (see FramerOptions). */
  limits?: FramerOptions['limits'];
}

/** Yields the bodies completed by each chunk of input, then the last ones. Returns the statistics. */
export async function* convertStream(chunks: AsyncIterable<Buffer>, options: ConvertOptions): AsyncGenerator<string[], ShapeStats> {
  let bodies: string[] = [];
  const shaper = new FlowLogShaper({ config: options.config, idPrefix: tupleIdPrefix(options.sourceId), onBody: (body) => bodies.push(body), onDeadLetter: options.onDeadLetter });
  const framer = new RecordFramer(0, 'document', { closingInRange: false, settleWhileOpen: true, ...(options.limits ? { limits: options.limits } : {}) });
  // The input's last bytes are held back: at the end, the document's closing `]}` is not fed, so records
  // end where the function's claims end them (before `]}`) and a record cut short there is framed alike.
  let held = Buffer.alloc(0);
  // Kept until the header is read: a document that is not a flow log is set aside whole, from byte 0.
  let seen: Buffer[] | undefined = [];
  let rejected: Buffer[] | undefined;
  const shape = function* (elements: FramedElement[]): Generator<string[]> {
    for (const element of elements) {
      shaper.add(element);
      // Hand bodies on per record: short-lived strings are cheap for the garbage collector.
      if (bodies.length > 0) {
        yield bodies;
        bodies = [];
      }
    }
  };
  for await (const chunk of chunks) {
    if (rejected) {
      rejected.push(chunk);
      continue;
    }
    seen?.push(chunk);
    // Feed all but the last CLOSING_BYTES of the input so far.
    const feedLength = Math.max(0, held.length + chunk.length - CLOSING_BYTES);
    let feed: Buffer[];
    if (feedLength <= held.length) {
      feed = [held.subarray(0, feedLength)];
      held = Buffer.concat([held.subarray(feedLength), chunk]);
    } else {
      feed = [held, chunk.subarray(0, feedLength - held.length)];
      held = Buffer.from(chunk.subarray(feedLength - held.length));
    }
    for (const bytes of feed) {
      if (bytes.length === 0 || rejected) continue;
      yield* shape(framer.push(bytes));
      if (framer.summary().mismatch) rejected = seen ?? [];
    }
    if (!framer.readingHeader()) seen = undefined;
  }
  if (!rejected) {
    yield* shape(framer.push(held.subarray(0, closingStart(held))));
    if (framer.summary().mismatch) rejected = seen ?? [];
  }
  if (rejected) {
    // Not a flow-log document at all: set it aside whole, as the function does.
    const bytes = Buffer.concat(rejected);
    if (bytes.length > 0) shaper.addMalformed({ start: 0, end: bytes.length, bytes }, NOT_A_DOCUMENT);
  } else {
    yield* shape(framer.finish());
  }
  shaper.finish();
  if (bodies.length > 0) yield bodies;
  return shaper.stats;
}
