import type { PackingMode } from './config';

/**
 * Packs JSON items into event bodies of at most `maxBytes` UTF-8 bytes: `envelope` fills
 * `{"records":[...]}` bodies greedily, `single` makes one body per item.
 */

const ENVELOPE_OPEN = '{"records":[';
const ENVELOPE_CLOSE = ']}';
export const ENVELOPE_OVERHEAD = ENVELOPE_OPEN.length + ENVELOPE_CLOSE.length;

export interface Packer {
  /** The largest item that fits one body. */
  readonly itemBudget: number;
  /** Adds an item (`byteLength` is its UTF-8 size); false if it can never fit one body. */
  add(json: string, byteLength: number): boolean;
  /** The same for an item given as pieces to be joined (the array may be reused by the caller). */
  addPieces(pieces: readonly string[], byteLength: number): boolean;
  /** Emits the body being filled, if any. */
  flush(): void;
}

export function createPacker(packing: PackingMode, maxBytes: number, emit: (body: string, byteLength: number) => void): Packer {
  return packing === 'envelope' ? new EnvelopePacker(maxBytes, emit) : new SinglePacker(maxBytes, emit);
}

class SinglePacker implements Packer {
  readonly itemBudget: number;
  constructor(
    maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes;
  }
  add(json: string, byteLength: number): boolean {
    if (byteLength > this.itemBudget) return false;
    this.emit(json, byteLength);
    return true;
  }
  addPieces(pieces: readonly string[], byteLength: number): boolean {
    return this.add(pieces.join(''), byteLength);
  }
  flush(): void {}
}

/** Keeps the pieces of all its items and joins them once per body: every character is copied once. */
class EnvelopePacker implements Packer {
  readonly itemBudget: number;
  private pieces: string[] = [ENVELOPE_OPEN];
  private size = ENVELOPE_OVERHEAD;
  constructor(
    private readonly maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes - ENVELOPE_OVERHEAD;
  }
  add(json: string, byteLength: number): boolean {
    if (!this.makeRoom(byteLength)) return false;
    this.pieces.push(json);
    return true;
  }
  addPieces(pieces: readonly string[], byteLength: number): boolean {
    if (!this.makeRoom(byteLength)) return false;
    for (const piece of pieces) this.pieces.push(piece);
    return true;
  }
  flush(): void {
    if (this.size === ENVELOPE_OVERHEAD) return;
    this.pieces.push(ENVELOPE_CLOSE);
    this.emit(this.pieces.join(''), this.size);
    this.pieces = [ENVELOPE_OPEN];
    this.size = ENVELOPE_OVERHEAD;
  }
  /** Flushes if the item does not fit after the items so far, and accounts for it (with its comma). */
  private makeRoom(byteLength: number): boolean {
    if (byteLength > this.itemBudget) return false;
    const empty = this.size === ENVELOPE_OVERHEAD;
    if (!empty && this.size + 1 + byteLength > this.maxBytes) this.flush();
    if (this.size > ENVELOPE_OVERHEAD) {
      this.pieces.push(',');
      this.size++;
    }
    this.size += byteLength;
    return true;
  }
}
