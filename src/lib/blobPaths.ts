/**
 * What a flow-log blob path says. Network Watcher's paths end with
 * `/y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=XXXXXXXXXXXX/PT1H.json`; the part before `y=` differs between
 * Microsoft's own pages, so only the trailing segments are read.
 */

const HOUR_SEGMENTS = /(?:^|\/)y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=\d{2}\/(?:macAddress=([0-9A-Fa-f]{12})\/)?PT1H\.json$/;

/** The start of the hour the blob covers, or undefined for a path that is not a flow-log blob. */
export function hourOfBlobPath(path: string): Date | undefined {
  const match = HOUR_SEGMENTS.exec(path);
  if (!match) return undefined;
  const [, year, month, day, hour] = match.map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 ? date : undefined;
}

/** The NIC's MAC address: the partition key that keeps one NIC's events in order. */
export function macOfBlobPath(path: string): string | undefined {
  return HOUR_SEGMENTS.exec(path)?.[5]?.toUpperCase();
}
