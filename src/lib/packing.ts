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
  flush(): void {}
}

/**
 * Keeps a body's pieces (opening, items with their commas, closing) and joins them once: one flat string,
 * each character copied once (`+` would build a rope that is copied again when the body is written).
 */
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
    if (byteLength > this.itemBudget) return false;
    if (this.size > ENVELOPE_OVERHEAD && this.size + 1 + byteLength > this.maxBytes) this.flush();
    if (this.size > ENVELOPE_OVERHEAD) {
      this.pieces.push(',');
      this.size++;
    }
    this.pieces.push(json);
    this.size += byteLength;
    return true;
  }
  flush(): void {
    if (this.size === ENVELOPE_OVERHEAD) return;
    this.pieces.push(ENVELOPE_CLOSE);
    this.emit(this.pieces.join(''), this.size);
    this.pieces = [ENVELOPE_OPEN];
    this.size = ENVELOPE_OVERHEAD;
  }
}
