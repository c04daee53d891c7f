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

class EnvelopePacker implements Packer {
  readonly itemBudget: number;
  private items: string[] = [];
  private size = ENVELOPE_OVERHEAD;
  constructor(
    private readonly maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes - ENVELOPE_OVERHEAD;
  }
  add(json: string, byteLength: number): boolean {
    if (byteLength > this.itemBudget) return false;
    const separator = this.items.length > 0 ? 1 : 0;
    if (this.size + separator + byteLength > this.maxBytes) this.flush();
    this.size += (this.items.length > 0 ? 1 : 0) + byteLength;
    this.items.push(json);
    return true;
  }
  flush(): void {
    if (this.items.length === 0) return;
    this.emit(ENVELOPE_OPEN + this.items.join(',') + ENVELOPE_CLOSE, this.size);
    this.items = [];
    this.size = ENVELOPE_OVERHEAD;
  }
}
