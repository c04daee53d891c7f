/** A flow-log blob, as named by a BlobCreated event or a listing. */
export interface BlobRef {
  account: string;
  container: string;
  blobPath: string;
}

export function blobName(ref: BlobRef): string {
  return `${ref.account}/${ref.container}/${ref.blobPath}`;
}

/**
 * A blob name that resolves to itself in a URL: no empty, `.` or `..` segments (URL resolution would turn
 * `a/../../other/x` into another container's blob) and no backslashes.
 */
export function isSafeBlobPath(path: string): boolean {
  return !path.includes('\\') && path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}
