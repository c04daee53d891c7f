import { parseArgs } from 'node:util';
import type { Env } from '../lib/config';

/**
 * Command-line parsing on node:util's parseArgs: each command declares its options once, and the same
 * declaration gives its --help. Settings use the function's names (docs/contract.md) from the environment;
 * a flag overrides its setting.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help. */
  description: string;
  /** The setting (environment variable) this flag overrides. */
  setting?: string;
  valueName?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra help text: examples. */
  details?: string;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
}

export const HELP_OPTION: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h', description: 'show this help' } };

/** Flags shared by the commands that shape events, each overriding the setting of the same meaning. */
export const SHAPING_OPTIONS: Record<string, OptionSpec> = {
  output: { type: 'string', setting: 'FLOWLOG_OUTPUT', valueName: 'records|tuples', description: 'records as written, or one flat object per flow tuple' },
  packing: { type: 'string', setting: 'FLOWLOG_PACKING', valueName: 'envelope|single', description: '{"records":[...]} envelopes filled up to the limit, or one item per event' },
  'max-event-bytes': { type: 'string', setting: 'MAX_EVENT_BYTES', valueName: 'N', description: 'largest event body in bytes (4096-1048520)' },
};

/** Flags for the storage accounts and containers the function uses. */
export const STORAGE_OPTIONS: Record<string, OptionSpec> = {
  'flow-logs-storage': { type: 'string', setting: 'FlowLogsStorage', valueName: 'CONNECTION', description: 'connection string of the flow-log storage account' },
  'app-storage': { type: 'string', setting: 'AzureWebJobsStorage', valueName: 'CONNECTION', description: "connection string of the app's storage (checkpoints, dead letters)" },
  'checkpoint-container': { type: 'string', setting: 'CHECKPOINT_CONTAINER', valueName: 'NAME', description: 'container of the checkpoint documents' },
  'dead-letter-container': { type: 'string', setting: 'DEAD_LETTER_CONTAINER', valueName: 'NAME', description: 'container for input that cannot be forwarded' },
};

export const EVENT_HUB_OPTIONS: Record<string, OptionSpec> = {
  'event-hub-connection': { type: 'string', setting: 'EventHubConnection', valueName: 'CONNECTION', description: 'Event Hubs connection string' },
  'event-hub-namespace': { type: 'string', setting: 'EventHubConnection__fullyQualifiedNamespace', valueName: 'HOST', description: 'or: the namespace host name, reached with your Entra identity' },
  'event-hub-name': { type: 'string', setting: 'EVENTHUB_NAME', valueName: 'NAME', description: 'the Event Hub' },
  'send-retries': { type: 'string', valueName: 'N', description: 'retries of a failed Event Hubs operation (default 5)' },
  'send-retry-delay-ms': { type: 'string', valueName: 'MS', description: 'wait before the first retry, growing exponentially (default 1000)' },
};

/** The Event Hubs client's retry settings from --send-retries and --send-retry-delay-ms. */
export function sendRetryOptions(values: OptionValues): { maxRetries: number; retryDelayInMs: number } {
  return { maxRetries: integerOption(values, 'send-retries', 5, 0, 100), retryDelayInMs: integerOption(values, 'send-retry-delay-ms', 1000, 0, 600_000) };
}

export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries({ ...spec.options, ...HELP_OPTION })) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: attachDashValues(spec, argv), options, allowPositionals: true, strict: true });
    return { values: { ...values }, positionals };
  } catch (error) {
    throw new UsageError(`${spec.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * parseArgs refuses `--since -24h` (a value that starts with a dash is "ambiguous"). A string option
 * followed by a negative number or relative time takes it as its value, as `--since=-24h` would.
 */
function attachDashValues(spec: CommandSpec, argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const name = Object.entries(spec.options).find(([long, option]) => arg === `--${long}` || (option.short !== undefined && arg === `-${option.short}`))?.[0];
    if (name !== undefined && spec.options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`--${name}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  return args;
}

/** The environment with each given setting flag applied over it. */
export function settingsEnv(spec: CommandSpec, values: OptionValues, env: Env): Env {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [name, option] of Object.entries(spec.options)) {
    const value = values[name];
    if (option.setting && typeof value === 'string') merged[option.setting] = value;
  }
  return merged;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item): item is string => typeof item === 'string');
}

export function integerOption(values: OptionValues, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return value;
}

/** An instant: ISO 8601 (`2026-11-22`, `2026-11-22T10:00Z`), or relative to now (`-6h`, `-2d`). */
export function timeOption(values: OptionValues, name: string, now = Date.now()): Date | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const relative = /^-(\d+)([mhd])$/.exec(raw);
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return new Date(now - Number(relative[1]) * unit);
  }
  // A time without a zone is UTC, as flow-log paths are (JavaScript would read it as local time).
  const utc = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(raw) ? `${raw}Z` : raw;
  const date = /^\d{4}-\d{2}-\d{2}/.test(raw) ? new Date(utc) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an ISO 8601 time (2026-11-22T10:00Z) or relative (-6h, -2d), not "${raw}"`);
  return date;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: flowlog-forwarder ${spec.usage}`, '', spec.summary, '', 'Options:'];
  const entries = Object.entries({ ...spec.options, ...HELP_OPTION });
  const labels = entries.map(([name, option]) => `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.valueName ?? 'VALUE'}` : ''}`);
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  entries.forEach(([, option], i) => {
    const setting = option.setting ? ` [${option.setting}]` : '';
    lines.push(`  ${(labels[i] ?? '').padEnd(width)}${option.description}${setting}${option.multiple ? ' (repeatable)' : ''}`);
  });
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}
