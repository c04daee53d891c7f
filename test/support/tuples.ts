/** The flow tuple strings of a record's JSON text, in order (they start with a 10- to 13-digit timestamp). */
export function tupleStringsIn(recordJson: string): string[] {
  return [...recordJson.matchAll(/"(\d{10,13},[^"]+)"/g)].map((match) => match[1] ?? '');
}
