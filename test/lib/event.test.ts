import { blobCreatedEvent, type DeliveredBlobCreatedEvent } from '../../src/dev/networkWatcherWriter';
import type { BlobRef } from '../../src/lib/blobRef';
import { BLOB_CREATED, interpretEvent, type EventDecision } from '../../src/lib/event';

/** interpretEvent against docs/azure-facts.md section 4 and the contract's "other types, containers, or accounts" rule. */

const VNET = 'insights-logs-flowlogflowevent';
const NSG = 'insights-logs-networksecuritygroupflowevent';
const config = { flowLogContainers: [VNET, NSG], allowedAccounts: ['devstoreaccount1', 'acct'] };
const blobPath =
  'resourceId=/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/VNETFLOWLOG/y=2026/m=11/d=22/h=10/m=00/macAddress=00224871C205/PT1H.json';
const ref: BlobRef = { account: 'devstoreaccount1', container: VNET, blobPath };
const azuriteUrl = (r: BlobRef): string => `http://127.0.0.1:10000/${r.account}/${r.container}/${r.blobPath}`;
const commit = { contentLength: 1234, etag: '"0x8DAB1234567890A"' };

function validEvent(r: BlobRef = ref, url: string = azuriteUrl(r)): DeliveredBlobCreatedEvent {
  return blobCreatedEvent(r, commit, url);
}

/** The event as JSON: what the host delivers, free to be broken field by field. */
function eventJson(r: BlobRef = ref, url?: string): Record<string, unknown> & { data: Record<string, unknown> } {
  return JSON.parse(JSON.stringify(validEvent(r, url))) as Record<string, unknown> & { data: Record<string, unknown> };
}

function ignored(decision: EventDecision): string {
  if (decision.kind !== 'ignore') throw new Error(`expected the event to be ignored, got ${JSON.stringify(decision)}`);
  expect(decision.reason.length).toBeGreaterThan(0);
  return decision.reason;
}

describe('a valid BlobCreated event', () => {
  it('is processed with the ref of topic and subject, its id and its contentLength', () => {
    const event = validEvent();
    expect(interpretEvent(event, config)).toEqual({ kind: 'process', eventId: event.id, ref, contentLength: 1234, eTag: event.data.eTag });
  });

  it('is processed for the NSG container and contentLength 0', () => {
    const nsgRef: BlobRef = { ...ref, container: NSG };
    const event = blobCreatedEvent(nsgRef, { contentLength: 0, etag: 'x' }, azuriteUrl(nsgRef));
    expect(interpretEvent(event, config)).toEqual({ kind: 'process', eventId: event.id, ref: nsgRef, contentLength: 0, eTag: event.data.eTag });
  });

  it('accepts an Azure-style URL https://acct.blob.core.windows.net/container/path for account acct', () => {
    const acctRef: BlobRef = { ...ref, account: 'acct' };
    const event = validEvent(acctRef, `https://acct.blob.core.windows.net/${VNET}/${blobPath}`);
    expect(interpretEvent(event, config)).toEqual({ kind: 'process', eventId: event.id, ref: acctRef, contentLength: 1234, eTag: event.data.eTag });
  });

  it('accepts a URL whose path is URL-encoded', () => {
    const spaced: BlobRef = { ...ref, blobPath: 'some dir/ü=1/macAddress=00224871C205/PT1H.json' };
    const encodedUrl = `http://127.0.0.1:10000/devstoreaccount1/${VNET}/some%20dir/%C3%BC%3D1/macAddress%3D00224871C205/PT1H.json`;
    const event = validEvent(spaced, encodedUrl);
    expect(interpretEvent(event, config)).toEqual({ kind: 'process', eventId: event.id, ref: spaced, contentLength: 1234, eTag: event.data.eTag });
    const azure = validEvent({ ...spaced, account: 'acct' }, `https://acct.blob.core.windows.net/${VNET}/${spaced.blobPath.split('/').map(encodeURIComponent).join('/')}`);
    expect(interpretEvent(azure, config)).toMatchObject({ kind: 'process', ref: { account: 'acct', container: VNET, blobPath: spaced.blobPath } });
  });

  it('reads an upper-case account in the topic as lower case', () => {
    const event = eventJson();
    event.topic = String(event.topic).replace('devstoreaccount1', 'DevStoreAccount1');
    expect(interpretEvent(event, config)).toMatchObject({ kind: 'process', ref });
  });
});

describe('events that are ignored', () => {
  it('ignores another event type, keeping the id', () => {
    const event = eventJson();
    event.eventType = 'Microsoft.Storage.BlobDeleted';
    const decision = interpretEvent(event, config);
    expect(decision).toMatchObject({ kind: 'ignore', eventId: event.id });
    expect(ignored(decision)).toBe(`event type Microsoft.Storage.BlobDeleted is not ${BLOB_CREATED}`);
  });

  it('ignores another container, naming it', () => {
    const other: BlobRef = { ...ref, container: 'other-container' };
    const decision = interpretEvent(validEvent(other), config);
    expect(decision).toMatchObject({ kind: 'ignore', ref: other });
    expect(ignored(decision)).toContain('other-container');
    expect(ignored(decision)).toContain('FLOWLOG_CONTAINERS');
  });

  it('ignores another account, naming it', () => {
    const other: BlobRef = { ...ref, account: 'otheraccount' };
    const decision = interpretEvent(validEvent(other), config);
    expect(decision).toMatchObject({ kind: 'ignore', ref: other });
    expect(ignored(decision)).toContain('otheraccount');
    expect(ignored(decision)).toContain('FLOWLOG_ALLOWED_ACCOUNTS');
  });

  it.each(['topic', 'subject', 'data', 'id', 'eventType'])('ignores an event without %s as not an Event Grid event', (field) => {
    const event = eventJson();
    delete event[field];
    const reason = ignored(interpretEvent(event, config));
    expect(reason).toMatch(/^not an Event Grid event/);
    expect(reason).toContain(field);
  });

  it.each([null, 'event', 42, [], undefined])('ignores %p as not an Event Grid event', (value) => {
    const decision = interpretEvent(value, config);
    expect(decision).toMatchObject({ kind: 'ignore', eventId: undefined });
    expect(ignored(decision)).toMatch(/^not an Event Grid event/);
  });

  it('keeps the id of an invalid event when it has one', () => {
    const event = eventJson();
    delete event.subject;
    expect(interpretEvent(event, config)).toMatchObject({ kind: 'ignore', eventId: event.id });
  });

  it('ignores a topic that is not a storage account', () => {
    const event = eventJson();
    event.topic = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/flowlog-rg/providers/Microsoft.EventHub/namespaces/devstoreaccount1';
    expect(ignored(interpretEvent(event, config))).toContain('topic');
  });

  it.each([
    '/blobServices/default/containers/insights-logs-flowlogflowevent',
    '/blobServices/default/containers/insights-logs-flowlogflowevent/blobs/',
    '/blobServices/default/containers//blobs/PT1H.json',
    '/fileServices/default/shares/insights-logs-flowlogflowevent/files/PT1H.json',
    'insights-logs-flowlogflowevent/PT1H.json',
  ])('ignores subject %s as not a blob subject', (subject) => {
    const event = eventJson();
    event.subject = subject;
    expect(ignored(interpretEvent(event, config))).toContain('subject');
  });

  it.each([
    ['negative', -1],
    ['non-integer', 12.5],
    ['a string', '1234'],
    ['null', null],
  ])('ignores a contentLength that is %s', (_name, value) => {
    const event = eventJson();
    event.data.contentLength = value;
    const decision = interpretEvent(event, config);
    expect(decision).toMatchObject({ kind: 'ignore', ref });
    expect(ignored(decision)).toContain('contentLength');
  });

  it('ignores data without contentLength, and data that is not an object', () => {
    const event = eventJson();
    delete event.data.contentLength;
    expect(ignored(interpretEvent(event, config))).toContain('contentLength');
    expect(ignored(interpretEvent({ ...eventJson(), data: null }, config))).toContain('contentLength');
    expect(ignored(interpretEvent({ ...eventJson(), data: 'x' }, config))).toContain('contentLength');
  });

  it.each([
    ['another account (path style)', `http://127.0.0.1:10000/otheraccount/${VNET}/${blobPath}`],
    ['another account (Azure style)', `https://otheraccount.blob.core.windows.net/${VNET}/${blobPath}`],
    ['another container', `http://127.0.0.1:10000/devstoreaccount1/${NSG}/${blobPath}`],
    ['another blob', `http://127.0.0.1:10000/devstoreaccount1/${VNET}/${blobPath.replace('h=10', 'h=11')}`],
    ['a shorter path', `http://127.0.0.1:10000/devstoreaccount1/${VNET}/PT1H.json`],
    ['no account at all', `https://example.com/${VNET}/${blobPath}`],
    ['the account as a path on another host', `https://evil.example/devstoreaccount1/${VNET}/${blobPath}`],
    ['something that is not a URL', 'not a url'],
    ['a malformed percent-encoding', `http://127.0.0.1:10000/devstoreaccount1/${VNET}/%E0%A4%A/${blobPath}`],
  ])('ignores data.url naming %s', (_name, url) => {
    const decision = interpretEvent(validEvent(ref, url), config);
    expect(decision).toMatchObject({ kind: 'ignore', ref });
    expect(ignored(decision)).toContain('data.url');
  });

  // A URL with an extra leading path segment names another blob (container "other").
  it.each([
    ['an extra container segment (Azure style)', `https://acct.blob.core.windows.net/other/${VNET}/${blobPath}`, 'acct'],
    ['an extra container segment (path style)', `http://127.0.0.1:10000/devstoreaccount1/other/${VNET}/${blobPath}`, 'devstoreaccount1'],
  ])('ignores data.url with %s, which names another blob', (_name, url, account) => {
    const r: BlobRef = { ...ref, account };
    expect(interpretEvent(validEvent(r, url), config)).toMatchObject({ kind: 'ignore' });
  });
});

describe('events that could point outside the flow-log containers', () => {
  it.each([
    ['a .. segment', `../secrets/keys.json`],
    ['a . segment', `./y=2026/PT1H.json`],
    ['an empty segment', `a//PT1H.json`],
    ['a backslash', `a\\..\\PT1H.json`],
  ])('are ignored when the blob path has %s', (_name, path) => {
    const event = blobCreatedEvent({ account: 'devstoreaccount1', container: VNET, blobPath: path }, { contentLength: 100, etag: '"x"' }, `http://127.0.0.1:10000/devstoreaccount1/${VNET}/${path}`);
    expect(interpretEvent(event, config)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/empty, "\." or "\.\." segments/) });
  });

  it('are ignored without data.url', () => {
    const event = blobCreatedEvent(ref, { contentLength: 100, etag: '"x"' }, 'http://127.0.0.1:10000/x');
    const { url: _url, ...data } = event.data;
    expect(interpretEvent({ ...event, data }, config)).toMatchObject({ kind: 'ignore', reason: expect.stringMatching(/url/) });
  });
});
