import { isIP } from 'node:net';
import { configError } from './errors';

/** Every setting the forwarder reads is read and validated here, and nowhere else (docs/contract.md). */

export type Env = Readonly<Record<string, string | undefined>>;
export type OutputMode = 'records' | 'tuples';
export type PackingMode = 'envelope' | 'single';

/** A storage account reached either with a connection string (Azurite, local dev) or with an Entra identity. */
export type StorageTarget =
  | { kind: 'connectionString'; setting: string; accountName: string; connectionString: string }
  | { kind: 'identity'; setting: string; accountName: string; blobServiceUri: string; clientId: string | undefined };

export type EventHubTarget =
  | { kind: 'connectionString'; connectionString: string; eventHubName: string }
  | { kind: 'identity'; fullyQualifiedNamespace: string; eventHubName: string; clientId: string | undefined };

export interface ShapingConfig {
  output: OutputMode;
  packing: PackingMode;
  maxEventBytes: number;
}

export interface ForwarderConfig extends ShapingConfig {
  flowLogStorage: StorageTarget;
  /** Lower-case account names whose events are accepted; each maps to its own endpoint. */
  allowedAccounts: readonly string[];
  appStorage: StorageTarget;
  checkpointContainer: string;
  deadLetterContainer: string;
  flowLogContainers: readonly string[];
}

export const DEFAULT_FLOWLOG_CONTAINERS = ['insights-logs-flowlogflowevent', 'insights-logs-networksecuritygroupflowevent'];
/** The largest body that fits one 1 MiB Event Hubs publication with @azure/event-hubs framing. */
export const MAX_EVENT_BYTES_LIMIT = 1_048_520;
/** Below this, one VNet record skeleton plus a tuple may not fit. */
export const MIN_EVENT_BYTES = 4096;

const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const DEV_STORAGE_ACCOUNT = 'devstoreaccount1';

export function readShapingConfig(env: Env): ShapingConfig {
  return {
    output: readChoice(env, 'FLOWLOG_OUTPUT', ['records', 'tuples'], 'records'),
    packing: readChoice(env, 'FLOWLOG_PACKING', ['envelope', 'single'], 'envelope'),
    maxEventBytes: readMaxEventBytes(env),
  };
}

/** The function's settings. Throws a CONFIG ForwarderError naming the setting and its accepted values. */
export function readConfig(env: Env): ForwarderConfig {
  const flowLogStorage = readStorageTarget(env, 'FlowLogsStorage');
  return {
    ...readShapingConfig(env),
    flowLogStorage,
    allowedAccounts: readAllowedAccounts(env, flowLogStorage),
    appStorage: readStorageTarget(env, 'AzureWebJobsStorage'),
    checkpointContainer: readContainer(env, 'CHECKPOINT_CONTAINER', 'flowlog-checkpoints'),
    deadLetterContainer: readContainer(env, 'DEAD_LETTER_CONTAINER', 'flowlog-deadletter'),
    flowLogContainers: readContainerList(env, 'FLOWLOG_CONTAINERS', DEFAULT_FLOWLOG_CONTAINERS),
  };
}

/** The Event Hub the command line sends to (the function's output binding reads the same settings). */
export function readEventHubTarget(env: Env): EventHubTarget {
  const eventHubName = nonEmpty(env, 'EVENTHUB_NAME');
  if (!eventHubName || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/.test(eventHubName)) {
    throw configError('EVENTHUB_NAME', eventHubName ? `is not a valid Event Hub name ("${eventHubName}")` : 'is not set', 'an Event Hub name: letters, digits, ".", "_", "-"');
  }
  const connectionString = nonEmpty(env, 'EventHubConnection');
  if (connectionString) {
    if (!/(^|;)\s*Endpoint=sb:\/\//i.test(connectionString)) {
      throw configError('EventHubConnection', 'is not an Event Hubs connection string', '"Endpoint=sb://<namespace>/;SharedAccessKeyName=...;SharedAccessKey=..." or set EventHubConnection__fullyQualifiedNamespace instead');
    }
    return { kind: 'connectionString', connectionString, eventHubName };
  }
  const namespace = nonEmpty(env, 'EventHubConnection__fullyQualifiedNamespace');
  if (!namespace || !/^[A-Za-z0-9.-]+(:\d+)?$/.test(namespace)) {
    throw configError('EventHubConnection__fullyQualifiedNamespace', namespace ? `is not a host name ("${namespace}")` : 'is not set (nor EventHubConnection)', 'a namespace host name such as <namespace>.servicebus.windows.net, or an EventHubConnection connection string');
  }
  return { kind: 'identity', fullyQualifiedNamespace: namespace, eventHubName, clientId: readClientId(env, 'EventHubConnection') };
}

function readStorageTarget(env: Env, prefix: string): StorageTarget {
  const connectionString = nonEmpty(env, prefix);
  if (connectionString) {
    return { kind: 'connectionString', setting: prefix, connectionString, accountName: accountOfConnectionString(connectionString, prefix) };
  }
  const uriSetting = `${prefix}__blobServiceUri`;
  const blobServiceUri = nonEmpty(env, uriSetting);
  if (!blobServiceUri) {
    throw configError(prefix, 'is not set', `a storage connection string in ${prefix} (UseDevelopmentStorage=true for Azurite), or a blob endpoint in ${uriSetting} for managed identity`);
  }
  const url = parseUrl(blobServiceUri);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw configError(uriSetting, 'is not an http(s) URL', 'a blob endpoint such as https://<account>.blob.core.windows.net');
  }
  const endpoint = endpointAccount(url);
  const expectedPath = endpoint?.pathStyle ? `/${endpoint.account}` : '';
  if (!endpoint || url.pathname.replace(/\/+$/, '') !== expectedPath || url.search || url.hash) {
    // Only origin and path are echoed: a query string could hold a SAS token, which must not reach a log.
    throw configError(uriSetting, `is not a blob service endpoint ("${url.origin}${url.pathname}"${url.search ? ' with a query string' : ''})`, 'https://<account>.blob.<suffix> (no path, no query), or http://<emulator host>:<port>/<account>');
  }
  return { kind: 'identity', setting: uriSetting, blobServiceUri: blobServiceUri.replace(/\/+$/, ''), accountName: endpoint.account, clientId: readClientId(env, prefix) };
}

function readClientId(env: Env, prefix: string): string | undefined {
  const credential = nonEmpty(env, `${prefix}__credential`);
  if (credential && credential.toLowerCase() !== 'managedidentity') {
    throw configError(`${prefix}__credential`, `has an unsupported value ("${credential}")`, '"managedidentity", or unset');
  }
  const clientId = nonEmpty(env, `${prefix}__clientId`);
  if (clientId && !/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(clientId)) {
    throw configError(`${prefix}__clientId`, `is not a GUID ("${clientId}")`, 'the client id of a user-assigned managed identity');
  }
  return clientId;
}

function readAllowedAccounts(env: Env, flowLogStorage: StorageTarget): string[] {
  const listed = readList(env, 'FLOWLOG_ALLOWED_ACCOUNTS');
  if (!listed) return [flowLogStorage.accountName];
  const accounts = listed.map((name) => name.toLowerCase());
  const bad = accounts.find((name) => !ACCOUNT_NAME.test(name));
  if (bad !== undefined) {
    throw configError('FLOWLOG_ALLOWED_ACCOUNTS', `contains an invalid account name ("${bad}")`, 'a comma-separated list of storage account names (3-24 lower-case letters and digits)');
  }
  if (flowLogStorage.kind === 'connectionString' && accounts.some((name) => name !== flowLogStorage.accountName)) {
    throw configError('FLOWLOG_ALLOWED_ACCOUNTS', `lists accounts other than "${flowLogStorage.accountName}", which a connection string in FlowLogsStorage cannot read`, `only "${flowLogStorage.accountName}", or use FlowLogsStorage__blobServiceUri with a managed identity`);
  }
  return [...new Set(accounts)];
}

function readContainer(env: Env, setting: string, fallback: string): string {
  const value = nonEmpty(env, setting) ?? fallback;
  if (!CONTAINER_NAME.test(value)) {
    throw configError(setting, `is not a valid container name ("${value}")`, '3-63 lower-case letters, digits and single hyphens');
  }
  return value;
}

function readContainerList(env: Env, setting: string, fallback: string[]): string[] {
  const values = readList(env, setting) ?? fallback;
  const bad = values.find((value) => !CONTAINER_NAME.test(value));
  if (bad !== undefined) {
    throw configError(setting, `contains an invalid container name ("${bad}")`, 'a comma-separated list of container names (3-63 lower-case letters, digits and single hyphens)');
  }
  return [...new Set(values)];
}

function readMaxEventBytes(env: Env): number {
  const raw = nonEmpty(env, 'MAX_EVENT_BYTES');
  if (raw === undefined) return 1_000_000;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < MIN_EVENT_BYTES || value > MAX_EVENT_BYTES_LIMIT) {
    throw configError('MAX_EVENT_BYTES', `${Number.isNaN(value) ? 'is not a whole number' : 'is out of range'} ("${raw}")`, `an integer from ${MIN_EVENT_BYTES} to ${MAX_EVENT_BYTES_LIMIT} (Basic tier: at most 262144 minus headroom, e.g. 250000)`);
  }
  return value;
}

function readChoice<T extends string>(env: Env, setting: string, choices: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, setting);
  if (raw === undefined) return fallback;
  const match = choices.find((choice) => choice === raw.toLowerCase());
  if (!match) throw configError(setting, `has an unsupported value ("${raw}")`, choices.map((c) => `"${c}"`).join(' or '));
  return match;
}

function readList(env: Env, setting: string): string[] | undefined {
  const raw = nonEmpty(env, setting);
  if (raw === undefined) return undefined;
  const values = raw.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  return values.length > 0 ? values : undefined;
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function accountOfConnectionString(connectionString: string, setting: string): string {
  if (/^\s*UseDevelopmentStorage\s*=\s*true\s*(;|$)/i.test(connectionString)) return DEV_STORAGE_ACCOUNT;
  const match = /(?:^|;)\s*AccountName\s*=\s*([^;]+)/i.exec(connectionString);
  const name = match?.[1]?.trim().toLowerCase();
  if (!name || !ACCOUNT_NAME.test(name)) {
    throw configError(setting, 'is not a storage connection string with an AccountName', '"UseDevelopmentStorage=true" or "DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...;..."');
  }
  return name;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * The account an endpoint URL names: `https://<account>.blob.<suffix>/...` (Azure), or path style
 * `http://<host>:<port>/<account>/...` on an IP address, `localhost` or a one-label host (Azurite).
 */
export function endpointAccount(url: URL): { account: string; pathStyle: boolean } | undefined {
  const labels = url.hostname.split('.');
  const [first, second] = labels;
  if (second === 'blob' && first && ACCOUNT_NAME.test(first)) return { account: first, pathStyle: false };
  const emulatorHost = labels.length === 1 || isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0;
  const segment = url.pathname.split('/')[1];
  return emulatorHost && segment && ACCOUNT_NAME.test(segment) ? { account: segment, pathStyle: true } : undefined;
}
