import { readConfig, readEventHubTarget, readShapingConfig, type Env } from '../../src/lib/config';
import { ForwarderError } from '../../src/lib/errors';

/** Settings of docs/contract.md: defaults, both storage modes, and a CONFIG error naming the setting for every bad value. */

const DEV = 'UseDevelopmentStorage=true';
const AZURITE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';
const AZURE = 'DefaultEndpointsProtocol=https;AccountName=FlowLogsAcct1;AccountKey=a2V5;EndpointSuffix=core.windows.net';
const GUID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';

const minimal: Env = { FlowLogsStorage: DEV, AzureWebJobsStorage: DEV };

/** Asserts `read` throws a CONFIG ForwarderError whose message names `setting` and lists what is accepted. */
function expectConfigError(read: () => unknown, setting: string): string {
  let thrown: unknown;
  try {
    read();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ForwarderError);
  const error = thrown as ForwarderError;
  expect(error.code).toBe('CONFIG');
  expect(error.message.startsWith(`Setting ${setting} `)).toBe(true);
  expect(error.message).toContain('Accepted: ');
  expect(error.message.length).toBeGreaterThan(error.message.indexOf('Accepted: ') + 'Accepted: '.length + 3);
  return error.message;
}

describe('readConfig defaults', () => {
  it('reads UseDevelopmentStorage=true as devstoreaccount1 and fills every default', () => {
    expect(readConfig(minimal)).toEqual({
      output: 'records',
      packing: 'envelope',
      maxEventBytes: 1_000_000,
      flowLogStorage: { kind: 'connectionString', setting: 'FlowLogsStorage', accountName: 'devstoreaccount1', connectionString: DEV },
      allowedAccounts: ['devstoreaccount1'],
      appStorage: { kind: 'connectionString', setting: 'AzureWebJobsStorage', accountName: 'devstoreaccount1', connectionString: DEV },
      checkpointContainer: 'flowlog-checkpoints',
      deadLetterContainer: 'flowlog-deadletter',
      flowLogContainers: ['insights-logs-flowlogflowevent', 'insights-logs-networksecuritygroupflowevent'],
    });
  });

  it('treats empty and blank settings as unset', () => {
    const config = readConfig({ ...minimal, FLOWLOG_OUTPUT: '', FLOWLOG_PACKING: '  ', MAX_EVENT_BYTES: '', CHECKPOINT_CONTAINER: ' ', FLOWLOG_CONTAINERS: '' });
    expect(config.output).toBe('records');
    expect(config.packing).toBe('envelope');
    expect(config.maxEventBytes).toBe(1_000_000);
    expect(config.checkpointContainer).toBe('flowlog-checkpoints');
    expect(config.flowLogContainers).toEqual(['insights-logs-flowlogflowevent', 'insights-logs-networksecuritygroupflowevent']);
  });

  it("takes the allowed account from the connection string's AccountName, lower-cased", () => {
    expect(readConfig({ ...minimal, FlowLogsStorage: AZURITE }).allowedAccounts).toEqual(['devstoreaccount1']);
    const config = readConfig({ ...minimal, FlowLogsStorage: AZURE });
    expect(config.flowLogStorage).toEqual({ kind: 'connectionString', setting: 'FlowLogsStorage', accountName: 'flowlogsacct1', connectionString: AZURE });
    expect(config.allowedAccounts).toEqual(['flowlogsacct1']);
  });

  it('reads every setting when given', () => {
    const config = readConfig({
      ...minimal,
      FLOWLOG_OUTPUT: 'tuples',
      FLOWLOG_PACKING: 'single',
      MAX_EVENT_BYTES: '250000',
      CHECKPOINT_CONTAINER: 'my-checkpoints',
      DEAD_LETTER_CONTAINER: 'my-dead-letters',
      FLOWLOG_CONTAINERS: ' insights-logs-flowlogflowevent , custom1,insights-logs-flowlogflowevent',
      FLOWLOG_ALLOWED_ACCOUNTS: 'DevStoreAccount1',
    });
    expect(config.output).toBe('tuples');
    expect(config.packing).toBe('single');
    expect(config.maxEventBytes).toBe(250000);
    expect(config.checkpointContainer).toBe('my-checkpoints');
    expect(config.deadLetterContainer).toBe('my-dead-letters');
    expect(config.flowLogContainers).toEqual(['insights-logs-flowlogflowevent', 'custom1']);
    expect(config.allowedAccounts).toEqual(['devstoreaccount1']);
  });
});

describe('readShapingConfig', () => {
  it('defaults to records, envelope, 1000000 bytes', () => {
    expect(readShapingConfig({})).toEqual({ output: 'records', packing: 'envelope', maxEventBytes: 1_000_000 });
  });

  it('accepts the choices case-insensitively and the size limits inclusively', () => {
    expect(readShapingConfig({ FLOWLOG_OUTPUT: 'Tuples', FLOWLOG_PACKING: 'SINGLE', MAX_EVENT_BYTES: '4096' })).toEqual({ output: 'tuples', packing: 'single', maxEventBytes: 4096 });
    expect(readShapingConfig({ MAX_EVENT_BYTES: '1048520' }).maxEventBytes).toBe(1048520);
  });

  it.each([
    ['FLOWLOG_OUTPUT', 'json'],
    ['FLOWLOG_OUTPUT', 'record'],
    ['FLOWLOG_PACKING', 'batch'],
    ['FLOWLOG_PACKING', 'envelopes'],
  ])('rejects %s=%s naming the setting and the choices', (setting, value) => {
    const message = expectConfigError(() => readShapingConfig({ [setting]: value }), setting);
    expect(message).toContain(`"${value}"`);
    if (setting === 'FLOWLOG_OUTPUT') expect(message).toContain('Accepted: "records" or "tuples"');
    else expect(message).toContain('Accepted: "envelope" or "single"');
  });

  it.each(['4095', '0', '1048521', '2000000', 'abc', '1e6', '-5000', '250000.5', '250 000', '99999999999999999999'])('rejects MAX_EVENT_BYTES=%s', (value) => {
    const message = expectConfigError(() => readShapingConfig({ MAX_EVENT_BYTES: value }), 'MAX_EVENT_BYTES');
    expect(message).toContain('4096');
    expect(message).toContain('1048520');
  });

  it('is what readConfig reports for an invalid shaping setting too', () => {
    expectConfigError(() => readConfig({ ...minimal, FLOWLOG_OUTPUT: 'xml' }), 'FLOWLOG_OUTPUT');
    expectConfigError(() => readConfig({ ...minimal, MAX_EVENT_BYTES: '100' }), 'MAX_EVENT_BYTES');
  });
});

describe('identity mode', () => {
  const identity: Env = {
    FlowLogsStorage__blobServiceUri: 'https://myacct.blob.core.windows.net',
    FlowLogsStorage__clientId: GUID,
    FLOWLOG_ALLOWED_ACCOUNTS: 'myacct,otheracct',
    AzureWebJobsStorage__blobServiceUri: 'https://appacct.blob.core.windows.net/',
  };

  it('reads the endpoint, the client id and the allowed accounts', () => {
    const config = readConfig(identity);
    expect(config.flowLogStorage).toEqual({
      kind: 'identity',
      setting: 'FlowLogsStorage__blobServiceUri',
      accountName: 'myacct',
      blobServiceUri: 'https://myacct.blob.core.windows.net',
      clientId: GUID,
    });
    expect(config.allowedAccounts).toEqual(['myacct', 'otheracct']);
    expect(config.appStorage).toEqual({
      kind: 'identity',
      setting: 'AzureWebJobsStorage__blobServiceUri',
      accountName: 'appacct',
      blobServiceUri: 'https://appacct.blob.core.windows.net',
      clientId: undefined,
    });
  });

  it('lower-cases, trims and de-duplicates the allowed accounts', () => {
    expect(readConfig({ ...identity, FLOWLOG_ALLOWED_ACCOUNTS: ' MyAcct , otheracct,myacct,' }).allowedAccounts).toEqual(['myacct', 'otheracct']);
  });

  it('defaults the allowed accounts to the endpoint account', () => {
    const { FLOWLOG_ALLOWED_ACCOUNTS: _unused, ...rest } = identity;
    expect(readConfig(rest).allowedAccounts).toEqual(['myacct']);
  });

  it('accepts an Azurite path-style endpoint and __credential=managedidentity', () => {
    const config = readConfig({
      FlowLogsStorage__blobServiceUri: 'http://127.0.0.1:10000/devstoreaccount1',
      FlowLogsStorage__credential: 'managedidentity',
      AzureWebJobsStorage: DEV,
    });
    expect(config.flowLogStorage).toEqual({
      kind: 'identity',
      setting: 'FlowLogsStorage__blobServiceUri',
      accountName: 'devstoreaccount1',
      blobServiceUri: 'http://127.0.0.1:10000/devstoreaccount1',
      clientId: undefined,
    });
    expect(config.allowedAccounts).toEqual(['devstoreaccount1']);
  });

  it('prefers the connection string when both are set', () => {
    expect(readConfig({ ...minimal, FlowLogsStorage__blobServiceUri: 'https://myacct.blob.core.windows.net' }).flowLogStorage.kind).toBe('connectionString');
  });

  it.each([
    ['not-a-guid'],
    ['6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b'],
    ['{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}'],
    ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4'],
  ])('rejects FlowLogsStorage__clientId=%s', (value) => {
    expect(expectConfigError(() => readConfig({ ...identity, FlowLogsStorage__clientId: value }), 'FlowLogsStorage__clientId')).toContain(`"${value}"`);
  });

  it('rejects an AzureWebJobsStorage__clientId that is not a GUID', () => {
    expectConfigError(() => readConfig({ ...identity, AzureWebJobsStorage__clientId: 'app-identity' }), 'AzureWebJobsStorage__clientId');
  });

  it.each(['connectionstring', 'azurecli', 'clientsecret'])('rejects FlowLogsStorage__credential=%s', (value) => {
    expect(expectConfigError(() => readConfig({ ...identity, FlowLogsStorage__credential: value }), 'FlowLogsStorage__credential')).toContain('managedidentity');
  });

  it.each([
    ['not a url'],
    ['myacct.blob.core.windows.net'],
    ['ftp://myacct.blob.core.windows.net'],
    ['https://example.com'],
    ['https://my_acct.blob.core.windows.net'],
    ['http://127.0.0.1:10000/'],
    ['http://127.0.0.1:10000/Dev_Store'],
  ])('rejects FlowLogsStorage__blobServiceUri=%s', (value) => {
    const message = expectConfigError(() => readConfig({ ...identity, FlowLogsStorage__blobServiceUri: value }), 'FlowLogsStorage__blobServiceUri');
    // A URL is shown by origin and path; anything else is not echoed (it could be a pasted connection string).
    if (/^https?:/.test(value)) expect(message).toContain(value.replace(/\/$/, ''));
    else expect(message).not.toContain(value);
  });

  it('never echoes a query string, which could hold a SAS token', () => {
    const message = expectConfigError(() => readConfig({ ...identity, FlowLogsStorage__blobServiceUri: 'https://myacct.blob.core.windows.net/?sv=2024&sig=SECRET' }), 'FlowLogsStorage__blobServiceUri');
    expect(message).not.toContain('SECRET');
    expect(message).toContain('with a query string');
  });

  it.each([
    ['my_acct'],
    ['ab'],
    ['a'.repeat(25)],
    ['myacct,other-acct'],
    ['myacct;otheracct'],
    ['myacct.blob.core.windows.net'],
  ])('rejects FLOWLOG_ALLOWED_ACCOUNTS=%s', (value) => {
    expectConfigError(() => readConfig({ ...identity, FLOWLOG_ALLOWED_ACCOUNTS: value }), 'FLOWLOG_ALLOWED_ACCOUNTS');
  });
});

describe('invalid settings with a connection string', () => {
  it('rejects other accounts in FLOWLOG_ALLOWED_ACCOUNTS, which a connection string cannot read', () => {
    const message = expectConfigError(() => readConfig({ ...minimal, FLOWLOG_ALLOWED_ACCOUNTS: 'devstoreaccount1,otheracct' }), 'FLOWLOG_ALLOWED_ACCOUNTS');
    expect(message).toContain('devstoreaccount1');
    expect(message).toContain('FlowLogsStorage__blobServiceUri');
    expectConfigError(() => readConfig({ ...minimal, FlowLogsStorage: AZURE, FLOWLOG_ALLOWED_ACCOUNTS: 'otheracct' }), 'FLOWLOG_ALLOWED_ACCOUNTS');
  });

  it('rejects an invalid account name in FLOWLOG_ALLOWED_ACCOUNTS before comparing accounts', () => {
    expect(expectConfigError(() => readConfig({ ...minimal, FLOWLOG_ALLOWED_ACCOUNTS: 'Bad_Name' }), 'FLOWLOG_ALLOWED_ACCOUNTS')).toContain('"bad_name"');
  });

  it('rejects missing storage settings, naming each', () => {
    expect(expectConfigError(() => readConfig({ AzureWebJobsStorage: DEV }), 'FlowLogsStorage')).toContain('FlowLogsStorage__blobServiceUri');
    expect(expectConfigError(() => readConfig({ FlowLogsStorage: DEV }), 'AzureWebJobsStorage')).toContain('AzureWebJobsStorage__blobServiceUri');
    expectConfigError(() => readConfig({}), 'FlowLogsStorage');
    expectConfigError(() => readConfig({ FlowLogsStorage: '  ', AzureWebJobsStorage: DEV }), 'FlowLogsStorage');
  });

  it('rejects a connection string without an AccountName', () => {
    expectConfigError(() => readConfig({ ...minimal, FlowLogsStorage: 'DefaultEndpointsProtocol=https;AccountKey=a2V5' }), 'FlowLogsStorage');
    expectConfigError(() => readConfig({ ...minimal, AzureWebJobsStorage: 'UseDevelopmentStorage=false' }), 'AzureWebJobsStorage');
  });

  it.each([
    ['CHECKPOINT_CONTAINER', 'Checkpoints'],
    ['CHECKPOINT_CONTAINER', 'ab'],
    ['CHECKPOINT_CONTAINER', 'flowlog--checkpoints'],
    ['CHECKPOINT_CONTAINER', '-flowlog'],
    ['CHECKPOINT_CONTAINER', 'flowlog-'],
    ['CHECKPOINT_CONTAINER', 'a'.repeat(64)],
    ['DEAD_LETTER_CONTAINER', 'dead_letters'],
    ['DEAD_LETTER_CONTAINER', 'dead letters'],
    ['FLOWLOG_CONTAINERS', 'insights-logs-flowlogflowevent,Bad'],
    ['FLOWLOG_CONTAINERS', 'x'],
    ['FLOWLOG_CONTAINERS', 'insights-logs-flowlogflowevent,logs/sub'],
  ])('rejects %s=%s', (setting, value) => {
    expectConfigError(() => readConfig({ ...minimal, [setting]: value }), setting);
  });

  it('accepts container names of 3 and 63 characters', () => {
    const config = readConfig({ ...minimal, CHECKPOINT_CONTAINER: 'abc', DEAD_LETTER_CONTAINER: 'a'.repeat(63) });
    expect(config.checkpointContainer).toBe('abc');
    expect(config.deadLetterContainer).toBe('a'.repeat(63));
  });
});

describe('readEventHubTarget', () => {
  const connection = 'Endpoint=sb://flowlogs.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=a2V5';

  it('reads a connection string', () => {
    expect(readEventHubTarget({ EVENTHUB_NAME: 'flowlogs', EventHubConnection: connection })).toEqual({ kind: 'connectionString', connectionString: connection, eventHubName: 'flowlogs' });
  });

  it('reads the emulator connection string', () => {
    const emulator = 'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';
    expect(readEventHubTarget({ EVENTHUB_NAME: 'eh1', EventHubConnection: emulator })).toEqual({ kind: 'connectionString', connectionString: emulator, eventHubName: 'eh1' });
  });

  it('reads a namespace with an optional client id', () => {
    expect(readEventHubTarget({ EVENTHUB_NAME: 'flowlogs', EventHubConnection__fullyQualifiedNamespace: 'flowlogs.servicebus.windows.net' })).toEqual({
      kind: 'identity',
      fullyQualifiedNamespace: 'flowlogs.servicebus.windows.net',
      eventHubName: 'flowlogs',
      clientId: undefined,
    });
    expect(
      readEventHubTarget({ EVENTHUB_NAME: 'flowlogs', EventHubConnection__fullyQualifiedNamespace: 'flowlogs.servicebus.windows.net', EventHubConnection__clientId: GUID }),
    ).toEqual({ kind: 'identity', fullyQualifiedNamespace: 'flowlogs.servicebus.windows.net', eventHubName: 'flowlogs', clientId: GUID });
  });

  it('rejects a missing or invalid hub name', () => {
    expect(expectConfigError(() => readEventHubTarget({ EventHubConnection: connection }), 'EVENTHUB_NAME')).toContain('is not set');
    expectConfigError(() => readEventHubTarget({ EVENTHUB_NAME: 'flow logs', EventHubConnection: connection }), 'EVENTHUB_NAME');
    expectConfigError(() => readEventHubTarget({ EVENTHUB_NAME: '-flowlogs', EventHubConnection: connection }), 'EVENTHUB_NAME');
  });

  it('rejects a missing connection, naming the namespace setting and the connection string alternative', () => {
    const message = expectConfigError(() => readEventHubTarget({ EVENTHUB_NAME: 'flowlogs' }), 'EventHubConnection__fullyQualifiedNamespace');
    expect(message).toContain('EventHubConnection');
    expect(message).toContain('is not set');
  });

  it('rejects a connection string without Endpoint=sb://, and a namespace that is a URL', () => {
    expectConfigError(() => readEventHubTarget({ EVENTHUB_NAME: 'flowlogs', EventHubConnection: 'SharedAccessKeyName=send;SharedAccessKey=a2V5' }), 'EventHubConnection');
    expectConfigError(
      () => readEventHubTarget({ EVENTHUB_NAME: 'flowlogs', EventHubConnection__fullyQualifiedNamespace: 'https://flowlogs.servicebus.windows.net/' }),
      'EventHubConnection__fullyQualifiedNamespace',
    );
  });

  it('rejects a bad client id or credential for the identity connection', () => {
    const base = { EVENTHUB_NAME: 'flowlogs', EventHubConnection__fullyQualifiedNamespace: 'flowlogs.servicebus.windows.net' };
    expectConfigError(() => readEventHubTarget({ ...base, EventHubConnection__clientId: 'nope' }), 'EventHubConnection__clientId');
    expectConfigError(() => readEventHubTarget({ ...base, EventHubConnection__credential: 'secret' }), 'EventHubConnection__credential');
  });
});

describe('endpoints and connection strings, strictly', () => {
  const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
  it.each([
    ['https://example.com/abc'],
    ['https://myacct.blob.core.windows.net/somecontainer'],
    ['http://127.0.0.1:10000/devstoreaccount1/container'],
  ])('rejects %s as FlowLogsStorage__blobServiceUri, naming the accepted forms', (uri) => {
    expect(() => readConfig({ ...base, FlowLogsStorage__blobServiceUri: uri })).toThrow(/FlowLogsStorage__blobServiceUri is not a blob service endpoint.*Accepted: https:\/\/<account>\.blob/);
  });

  it('accepts Azurite behind a one-label host name, path style', () => {
    expect(readConfig({ ...base, FlowLogsStorage__blobServiceUri: 'http://azurite:10000/devstoreaccount1/' }).flowLogStorage).toEqual(
      expect.objectContaining({ accountName: 'devstoreaccount1', blobServiceUri: 'http://azurite:10000/devstoreaccount1' }),
    );
  });

  it('rejects a connection string whose AccountName is not a storage account name', () => {
    expect(() => readConfig({ ...base, FlowLogsStorage: 'DefaultEndpointsProtocol=https;AccountName=my_acct;AccountKey=a2V5' })).toThrow(/Setting FlowLogsStorage .*Accepted:/);
  });

  it('accepts UseDevelopmentStorage=true with further options', () => {
    expect(readConfig({ ...base, FlowLogsStorage: 'UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://127.0.0.1' }).allowedAccounts).toEqual(['devstoreaccount1']);
  });

  it('says a non-numeric MAX_EVENT_BYTES is not a whole number', () => {
    expect(() => readShapingConfig({ MAX_EVENT_BYTES: 'abc' })).toThrow('Setting MAX_EVENT_BYTES is not a whole number ("abc")');
  });
});
