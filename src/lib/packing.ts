import { isAscii } from 'node:buffer';
import type { PackingMode } from './config';

/**
 * Packs JSON items into event bodies of at most `maxBytes` UTF-8 bytes: `envelope` fills
 * `{"records":[...]}` bodies greedily, `single` makes one body per item. Items are strings (tuple objects,
 * rebuilt records) or the UTF-8 bytes of records forwarded as written, which are decoded once per body.
 */

/** A JSON item: text, or UTF-8 bytes. */
export type PackItem = string | Buffer;

const ENVELOPE_OPEN = '{"records":[';
const ENVELOPE_CLOSE = ']}';
export const ENVELOPE_OVERHEAD = ENVELOPE_OPEN.length + ENVELOPE_CLOSE.length;

export interface Packer {
  /** The largest item that fits one body. */
  readonly itemBudget: number;
  /** Adds an item (`byteLength` is its UTF-8 size); false if it can never fit one body. */
  add(json: PackItem, byteLength: number): boolean;
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
  add(json: PackItem, byteLength: number): boolean {
    if (byteLength > this.itemBudget) return false;
    this.emit(typeof json === 'string' ? flat(json) : decode(json), byteLength);
    return true;
  }
  flush(): void {}
}

/**
 * Keeps a body's pieces (opening, items with their commas, closing) and makes the body once: joined if all
 * are strings, else copied into one buffer and decoded once. Each character is copied once (`+` would build
 * a rope that is copied again when the body is written out).
 */
class EnvelopePacker implements Packer {
  readonly itemBudget: number;
  private pieces: PackItem[] = [ENVELOPE_OPEN];
  private hasBytes = false;
  private size = ENVELOPE_OVERHEAD;
  constructor(
    private readonly maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes - ENVELOPE_OVERHEAD;
  }
  add(json: PackItem, byteLength: number): boolean {
    if (byteLength > this.itemBudget) return false;
    if (this.size > ENVELOPE_OVERHEAD && this.size + 1 + byteLength > this.maxBytes) this.flush();
    if (this.size > ENVELOPE_OVERHEAD) {
      this.pieces.push(',');
      this.size++;
    }
    this.pieces.push(json);
    this.hasBytes ||= typeof json !== 'string';
    this.size += byteLength;
    return true;
  }
  flush(): void {
    if (this.size === ENVELOPE_OVERHEAD) return;
    this.pieces.push(ENVELOPE_CLOSE);
    const body = this.hasBytes ? decode(Buffer.concat(this.pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)), this.size)) : this.pieces.join('');
    this.emit(body, this.size);
    this.pieces = [ENVELOPE_OPEN];
    this.hasBytes = false;
    this.size = ENVELOPE_OVERHEAD;
  }
}

/** UTF-8 bytes as text. ASCII (flow logs nearly always are) decodes as latin1, a plain copy. */
function decode(bytes: Buffer): string {
  return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

/**
 * Items built with `+` are ropes. Reading a character makes V8 copy a rope into one flat string in one pass,
 * before the body is handed on; writing a rope out later is slower. (Joining an envelope flattens its items.)
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
