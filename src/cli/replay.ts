import Ajv from 'ajv';
import type { ContainerClient } from '@azure/storage-blob';
import { readConfig, readEventHubTarget } from '../lib/config';
import { ForwarderError } from '../lib/errors';
import { interpretEvent } from '../lib/event';
import { EventHubSender } from '../lib/eventHubSender';
import { createRuntime, type Runtime } from '../lib/runtime';
import { addResult, claimAndSend, emptyResult } from '../lib/sendClaims';
import { blobServiceClient, readStream } from '../lib/storage';
import { EVENT_HUB_OPTIONS, SHAPING_OPTIONS, STORAGE_OPTIONS, UsageError, parseCommand, sendRetryOptions, settingsEnv, stringOption, type CommandSpec } from './args';
import { summaryLine } from './backfill';
import type { CommandIO } from './io';
import { Progress } from './progress';

export const replayCommand: CommandSpec = {
  name: 'replay',
  usage: 'replay [--container C] [options]',
  summary:
    'Re-processes the events Event Grid dead-lettered (blobs holding JSON arrays of events with a\n' +
    "deadLetterReason), in the app's storage, through the same claims as the function, and sends them as\n" +
    'backfill does. An event whose range was claimed but not sent is re-sent; one never claimed claims now.\n' +
    'Each dead-letter blob is marked as it is replayed, so a second replay sends nothing.',
  options: {
    container: { type: 'string', short: 'c', valueName: 'NAME', description: 'the Event Grid dead-letter container (default eventgrid-deadletter)' },
    ...STORAGE_OPTIONS,
    ...EVENT_HUB_OPTIONS,
    ...SHAPING_OPTIONS,
  },
  details: 'Example:\n  flowlog-forwarder replay --container eventgrid-deadletter',
};

/** Metadata on a dead-letter blob: how many of its events were sent, and when all of them were. */
const REPLAYED_EVENTS = 'replayedevents';
const REPLAYED_AT = 'replayedat';

const isEventArray = new Ajv({ strict: true }).compile<unknown[]>({ type: 'array', items: { type: 'object' } });

export async function runReplay(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseCommand(replayCommand, argv);
  if (positionals.length > 0) throw new UsageError(`replay: unexpected argument "${positionals[0]}"`);
  const retry = sendRetryOptions(values);
  const env = settingsEnv(replayCommand, values, io.env);
  const runtime = createRuntime(readConfig(env));
  const container = blobServiceClient(runtime.config.appStorage).getContainerClient(stringOption(values, 'container') ?? 'eventgrid-deadletter');
  if (!(await container.exists())) throw new UsageError(`replay: container ${container.containerName} does not exist in ${runtime.config.appStorage.accountName}`);

  const blobs: { name: string; size: number }[] = [];
  let alreadyReplayed = 0;
  for await (const item of container.listBlobsFlat({ includeMetadata: true })) {
    if (item.metadata?.[REPLAYED_AT]) alreadyReplayed++;
    else blobs.push({ name: item.name, size: item.properties.contentLength ?? 0 });
  }

  const sender = EventHubSender.create(readEventHubTarget(env), retry);
  const progress = new Progress(io, 'replay', blobs.length, blobs.reduce((sum, blob) => sum + blob.size, 0));
  const total = emptyResult();
  let ignored = 0;
  const unreadable: string[] = [];
  try {
    for (const blob of blobs) {
      try {
        const outcome = await replayBlob(container, blob.name, runtime, sender, io);
        addResult(total, outcome.result);
        ignored += outcome.ignored;
        progress.update({ items: 1, bytes: blob.size, events: outcome.result.events });
      } catch (error) {
        // A blob that is not dead-lettered events is left as it is; the others are still replayed.
        if (!(error instanceof ForwarderError) || error.code !== 'INPUT') throw error;
        unreadable.push(blob.name);
        io.stderr.write(`replay: ${error.message}; left unmarked\n`);
        progress.update({ items: 1, bytes: blob.size });
      }
    }
  } finally {
    progress.finish();
    await sender.close();
  }
  io.stdout.write(
    `${summaryLine('replay', blobs.length, total, sender.stats.batches, progress.elapsedMs())}; ${ignored} events ignored, ${unreadable.length} blobs unreadable, ${alreadyReplayed} dead-letter blobs replayed before\n`,
  );
  return unreadable.length > 0 ? 1 : 0;
}

async function replayBlob(container: ContainerClient, name: string, runtime: Runtime, sender: EventHubSender, io: CommandIO): Promise<{ result: ReturnType<typeof emptyResult>; ignored: number }> {
  const blob = container.getBlobClient(name);
  const download = await blob.download();
  const metadata = download.metadata ?? {};
  let events: unknown;
  try {
    events = JSON.parse((await readStream(download.readableStreamBody)).toString('utf8'));
  } catch {
    events = undefined;
  }
  if (!isEventArray(events)) throw new ForwarderError('INPUT', `dead-letter blob ${name} is not a JSON array of Event Grid events`, false);

  const result = emptyResult();
  let ignored = 0;
  const done = Number(metadata[REPLAYED_EVENTS] ?? 0);
  for (let index = done; index < events.length; index++) {
    const decision = interpretEvent(events[index], runtime.config);
    if (decision.kind === 'ignore') {
      ignored++;
      io.stderr.write(`replay: ${name} event ${index} ignored: ${decision.reason}\n`);
    } else {
      addResult(result, await claimAndSend(decision.ref, decision.eventId, decision.contentLength, decision.eTag, runtime, sender));
    }
    // Progress per event: a replay stopped half-way resumes after the last event sent (the last is written below).
    if (index + 1 < events.length) await blob.setMetadata({ ...metadata, [REPLAYED_EVENTS]: String(index + 1) });
  }
  await blob.setMetadata({ ...metadata, [REPLAYED_EVENTS]: String(events.length), [REPLAYED_AT]: new Date().toISOString() });
  return { result, ignored };
}
