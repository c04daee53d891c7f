import { app, output, type EventGridEvent, type InvocationContext } from '@azure/functions';
import { readConfig, type ForwarderConfig } from '../lib/config';
import { ForwarderError, errorMessage } from '../lib/errors';
import { forwardEvent } from '../lib/forward';
import { createRuntime, type Runtime } from '../lib/runtime';

/**
 * Event Grid BlobCreated → the new records of that flow-log blob → Event Hub events (the return binding).
 * Errors worth retrying are rethrown so Event Grid retries and, finally, dead-letters the event.
 */

let cached: { key: string; runtime: Runtime } | undefined;

function runtimeFor(config: ForwarderConfig): Runtime {
  const key = JSON.stringify(config);
  if (cached?.key !== key) cached = { key, runtime: createRuntime(config) };
  return cached.runtime;
}

export async function forwardFlowLogs(event: EventGridEvent, context: InvocationContext): Promise<string[]> {
  try {
    const runtime = runtimeFor(readConfig(process.env));
    const { bodies, summary } = await forwardEvent(event, runtime);
    const line = JSON.stringify({ invocationId: context.invocationId, ...summary });
    if (summary.outcome === 'ignored') context.warn(line);
    else context.info(line);
    return bodies;
  } catch (error) {
    const retryable = !(error instanceof ForwarderError) || error.retryable;
    const code = error instanceof ForwarderError ? error.code : 'UNEXPECTED';
    context.error(JSON.stringify({ invocationId: context.invocationId, outcome: retryable ? 'failed' : 'dropped', eventId: event.id, code, error: errorMessage(error) }));
    if (retryable) throw error;
    return []; // retrying cannot help; the log line says why
  }
}

app.eventGrid('forwardFlowLogs', {
  handler: forwardFlowLogs,
  return: output.eventHub({ eventHubName: '%EVENTHUB_NAME%', connection: 'EventHubConnection' }),
});
