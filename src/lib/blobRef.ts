/** A flow-log blob, as named by a BlobCreated event or a listing. */
export interface BlobRef {
  account: string;
  container: string;
  blobPath: string;
}

export function blobName(ref: BlobRef): string {
  return `${ref.account}/${ref.container}/${ref.blobPath}`;
}
