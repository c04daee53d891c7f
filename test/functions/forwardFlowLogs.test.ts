import { recordsOf, invoke, shuffled, writeHour } from '../support/hour';
import { listBlobNames, useForwarderEnvironment } from '../support/storage';
import { tupleStringsIn } from '../support/tuples';

/**
 * The function end to end against Azurite: blobs written commit by commit the way Network Watcher writes
 * them, and the handler driven with the BlobCreated event of each commit, in every delivery order.
 */

const containers = useForwarderEnvironment();

async function deliverAll(events: readonly unknown[], mode: 'sequential' | 'concurrent'): Promise<string[]> {
  if (mode === 'concurrent') return (await Promise.all(events.map((event) => invoke(event)))).flatMap((result) => result.bodies);
  const bodies: string[] = [];
  for (const event of events) bodies.push(...(await invoke(event)).bodies);
  return bodies;
}

describe('an hour of 60 commits', () => {
  const cases: [string, (events: unknown[]) => unknown[], 'sequential' | 'concurrent'][] = [
    ['in order', (events) => events, 'sequential'],
    ['in shuffled order', (events) => shuffled(events), 'sequential'],
    ['all at once', (events) => events, 'concurrent'],
    ['only the last event', (events) => events.slice(-1), 'sequential'],
  ];

  it.each(cases)('forwards every record exactly once when events arrive %s', async (_name, order, mode) => {
    const hour = await writeHour(containers.flowLogs, { commits: 60 });
    const bodies = await deliverAll(order(hour.events), mode);
    expect(recordsOf(bodies).sort()).toEqual([...hour.records].sort());
    if (mode === 'sequential' && order(hour.events).length === 60 && order === cases[0]?.[1]) {
      expect(recordsOf(bodies)).toEqual(hour.records); // in order, the records also come out in order
    }
  });

  it('re-sends exactly its own claim when an event is redelivered, and nothing else', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 60 });
    const first = await deliverAll(hour.events, 'sequential');
    const redelivered = shuffled(hour.events, 3).slice(0, 20);
    const again = await Promise.all(redelivered.map((event) => invoke(event)));
    const claims = await Promise.all(redelivered.map((event) => invoke(event))); // and once more: idempotent
    expect(recordsOf(first)).toEqual(hour.records);
    again.forEach((result, i) => {
      const index = hour.events.indexOf(redelivered[i] as (typeof hour.events)[number]);
      expect(recordsOf(result.bodies)).toEqual([hour.records[index]]);
      expect(claims[i]?.bodies).toEqual(result.bodies);
    });
  });

  it('forwards every record once under concurrent duplicates and out-of-order deliveries', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 60 });
    const deliveries = shuffled([...hour.events, ...hour.events.slice(10, 30)], 11);
    const results = await Promise.all(deliveries.map(async (event) => ({ event, result: await invoke(event) })));
    // Duplicates may only come from redelivery of the same event id: per id, keep the first delivery.
    const firstById = new Map<string, string[]>();
    for (const { event, result } of results) if (!firstById.has(event.id)) firstById.set(event.id, result.bodies);
    const forwarded = [...firstById.values()].flatMap((bodies) => recordsOf(bodies));
    expect(forwarded.sort()).toEqual([...hour.records].sort());
    const secondDeliveries = results.filter(({ event }, i) => results.findIndex((r) => r.event.id === event.id) !== i);
    for (const { event, result } of secondDeliveries) expect(result.bodies).toEqual(firstById.get(event.id));
  });

  it('reads only the bytes no earlier event claimed', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 60 });
    let previousEnd = 0;
    for (const event of hour.events) {
      const { logs } = await invoke(event);
      const summary = JSON.parse(logs.find((log) => log.level === 'information')?.message ?? '{}') as { claimed: [number, number]; outcome: string };
      expect(summary.outcome).toBe('forwarded');
      expect(summary.claimed[0]).toBe(previousEnd);
      expect(summary.claimed[1]).toBe(event.data.contentLength - 2);
      previousEnd = summary.claimed[1];
    }
  });

  it('returns [] for an event that brings nothing new', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 3 });
    await invoke(hour.events[2]);
    for (const event of hour.events.slice(0, 2)) {
      const { bodies, logs } = await invoke(event);
      expect(bodies).toEqual([]);
      expect(logs.map((log) => JSON.parse(log.message) as { outcome: string })).toEqual([expect.objectContaining({ outcome: 'nothing-new' })]);
    }
  });
});

describe('records and packing', () => {
  it('forwards records byte-for-byte inside {"records":[...]} envelopes', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 5 });
    const bodies = await deliverAll(hour.events.slice(-1), 'sequential');
    expect(bodies).toEqual([`{"records":[${hour.records.join(',')}]}`]);
  });

  it('sends one record per event with FLOWLOG_PACKING=single', async () => {
    process.env.FLOWLOG_PACKING = 'single';
    const hour = await writeHour(containers.flowLogs, { commits: 4 });
    const bodies = await deliverAll(hour.events, 'sequential');
    expect(bodies).toEqual(hour.records);
  });

  it('sends flat tuple objects with FLOWLOG_OUTPUT=tuples, each tuple once, with stable ids', async () => {
    process.env.FLOWLOG_OUTPUT = 'tuples';
    const hour = await writeHour(containers.flowLogs, { commits: 10, tuplesPerRecord: 12 });
    const bodies = await deliverAll(shuffled(hour.events), 'sequential');
    const tuples = bodies.flatMap((body) => (JSON.parse(body) as { records: { id: string; srcIP: string }[] }).records);
    const written = hour.records.flatMap((record) => tupleStringsIn(record));
    expect(tuples).toHaveLength(written.length);
    expect(new Set(tuples.map((t) => t.id)).size).toBe(written.length);
    const redelivered = await invoke(hour.events[4]);
    const again = redelivered.bodies.flatMap((body) => (JSON.parse(body) as { records: { id: string }[] }).records.map((t) => t.id));
    expect(again.length).toBeGreaterThan(0);
    for (const id of again) expect(tuples.map((t) => t.id)).toContain(id);
  });

  it('splits a record several times MAX_EVENT_BYTES into parts that together hold every tuple once', async () => {
    process.env.MAX_EVENT_BYTES = '8192';
    const hour = await writeHour(containers.flowLogs, { commits: 3, tuplesPerRecord: 400 });
    expect(Buffer.byteLength(hour.records[1] ?? '')).toBeGreaterThan(3 * 8192);
    const bodies = await deliverAll(hour.events, 'concurrent');
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8192);
    const parts = recordsOf(bodies).map((part) => JSON.parse(part) as { flowLogGUID: string });
    expect(parts.length).toBeGreaterThan(9);
    const forwardedTuples = parts.flatMap((part) => tupleStringsIn(JSON.stringify(part)));
    const writtenTuples = hour.records.flatMap((record) => tupleStringsIn(record));
    expect(forwardedTuples.sort()).toEqual(writtenTuples.sort());
    const guids = new Set(parts.map((part) => part.flowLogGUID));
    expect(guids.size).toBe(3); // every part still carries its record's fields
  });
});

describe('input that cannot be forwarded', () => {
  it('dead-letters non-JSON and schema-invalid records byte-for-byte and forwards the rest', async () => {
    const broken = new Map<number, string>([
      [2, 'this is not json'],
      [5, '{"time":"2026-11-22T10:06:00Z","flowLogVersion":4,"macAddress":"X","category":"FlowLogFlowEvent","targetResourceID":"/x"}'],
      [7, '{"time":"2026-11-22T10:08:00Z", "flowRecords": {"flows": [{"aclID": "a", "flowGroups": [{"rule": "r", "flowTuples": ["unterminated'],
    ]);
    const hour = await writeHour(containers.flowLogs, { commits: 10, recordAt: (minute, generated) => broken.get(minute) ?? generated });
    const bodies = await deliverAll(shuffled(hour.events), 'sequential');
    const good = hour.records.filter((_, minute) => !broken.has(minute));
    expect(recordsOf(bodies).sort()).toEqual([...good].sort());

    const deadLetters = containers.deadLetters;
    const names = await listBlobNames(deadLetters);
    expect(names).toHaveLength(3);
    const contents = await Promise.all(names.map(async (name) => (await deadLetters.getBlobClient(name).downloadToBuffer()).toString()));
    expect(contents.sort()).toEqual([...broken.values()].sort());
    const properties = await deadLetters.getBlobClient(names[0] ?? '').getProperties();
    expect(properties.metadata).toEqual(
      expect.objectContaining({ sourcecontainer: containers.flowLogs.containerName, sourceblob: encodeURIComponent(hour.ref.blobPath), rangestart: expect.stringMatching(/^\d+$/), reason: expect.any(String) }),
    );
  });

  it('dead-letters a malformed tuple and forwards its record without it', async () => {
    const hour = await writeHour(containers.flowLogs, { commits: 2, recordAt: (minute, generated) => (minute === 1 ? generated.replace(/"flowTuples":\["[^"]*"/, '"flowTuples":["1663146003599,10.0.0.6,not-an-ip,1,2,6,O,B,NX,0,0,0,0"') : generated) });
    const bodies = await deliverAll(hour.events, 'sequential');
    const forwarded = recordsOf(bodies);
    expect(forwarded[0]).toBe(hour.records[0]);
    expect(forwarded[1]).toBe((hour.records[1] ?? '').replace('"1663146003599,10.0.0.6,not-an-ip,1,2,6,O,B,NX,0,0,0,0",', ''));
    const deadLetters = containers.deadLetters;
    const [name] = await listBlobNames(deadLetters);
    const bytes = await deadLetters.getBlobClient(name ?? '').downloadToBuffer();
    expect(bytes.toString()).toBe('"1663146003599,10.0.0.6,not-an-ip,1,2,6,O,B,NX,0,0,0,0"');
  });
});

