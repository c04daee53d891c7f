import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { readShapingConfig } from '../lib/config';
import { convertStream } from '../lib/convert';
import type { DeadLetterItem } from '../lib/shaping';
import { SHAPING_OPTIONS, UsageError, parseCommand, settingsEnv, stringOption, type CommandSpec } from './args';
import type { CommandIO } from './io';

export const convertCommand: CommandSpec = {
  name: 'convert',
  usage: 'convert [FILE|-] [options]',
  summary:
    'Reads a PT1H.json (a file, or standard input) and writes one event body per line to standard output:\n' +
    'exactly the bodies the function returns for a blob with that content. Streams: memory does not grow\n' +
    'with the input. Input that cannot be forwarded goes to standard error (or --dead-letter) with its\n' +
    'byte range and reason.',
  options: {
    ...SHAPING_OPTIONS,
    source: { type: 'string', valueName: 'ACCOUNT/CONTAINER/PATH', description: "the blob's name, for the function's tuple ids (default: the file name)" },
    'dead-letter': { type: 'string', valueName: 'FILE', description: 'write dead letters here as JSON lines {start,end,reason,base64}' },
  },
  details: 'Example:\n  flowlog-forwarder convert PT1H.json --output tuples --packing single | head',
};

export async function runConvert(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(convertCommand, argv);
  if (positionals.length > 1) throw new UsageError('convert: give at most one FILE (or - for standard input)');
  const config = readShapingConfig(settingsEnv(convertCommand, values, io.env));
  const file = positionals[0] ?? '-';
  const input = file === '-' ? io.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  const deadLetterFile = stringOption(values, 'dead-letter');
  const deadLetterOut = deadLetterFile ? createWriteStream(deadLetterFile) : undefined;
  // An unwritable FILE fails the command here, with its reason, instead of an unhandled 'error' event later.
  if (deadLetterOut) await once(deadLetterOut, 'open');
  const deadLetters: DeadLetterItem[] = [];

  const conversion = convertStream(input as AsyncIterable<Buffer>, {
    config,
    sourceId: stringOption(values, 'source') ?? (file === '-' ? 'stdin' : file),
    onDeadLetter: (item) => deadLetters.push(item),
  });
  // A reader that stops early (`convert ... | head`) closes the pipe: stop converting, as other tools do.
  let readerGone = false;
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') readerGone = true;
  };
  io.stdout.on('error', onStdoutError);
  let result = await conversion.next();
  try {
    while (!result.done) {
      await write(io.stdout, result.value.map((body) => `${body}\n`).join(''));
      await flushDeadLetters(deadLetters, deadLetterOut, io);
      result = await conversion.next();
    }
  } catch (error) {
    if (!readerGone) throw error;
  } finally {
    io.stdout.off('error', onStdoutError);
  }
  if (readerGone || result.done !== true) {
    deadLetterOut?.end();
    return 0;
  }
  await flushDeadLetters(deadLetters, deadLetterOut, io);
  if (deadLetterOut) {
    deadLetterOut.end();
    await once(deadLetterOut, 'finish');
  }
  const stats = result.value;
  io.stderr.write(`convert: ${stats.records} records, ${stats.tuples} tuples -> ${stats.events} events (${stats.bytesOut} bytes), ${stats.deadLetters} dead letters\n`);
  return 0;
}

async function flushDeadLetters(items: DeadLetterItem[], file: Writable | undefined, io: CommandIO): Promise<void> {
  for (const item of items.splice(0)) {
    if (file) await write(file, `${JSON.stringify({ start: item.start, end: item.end, reason: item.reason, base64: item.bytes.toString('base64') })}\n`);
    else io.stderr.write(`dead letter [${item.start}, ${item.end}): ${item.reason}\n`);
  }
}

/** Writes and waits for the stream to drain, so a slow reader slows the conversion instead of filling memory. */
async function write(stream: Writable, text: string): Promise<void> {
  if (text.length > 0 && !stream.write(text)) await once(stream, 'drain');
}
