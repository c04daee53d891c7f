import { isAscii } from 'node:buffer';
import { Char } from './charCodes';
import type { PackingMode } from './config';

/**
 * Packs JSON items into event bodies of at most `maxBytes` UTF-8 bytes: `envelope` fills
 * `{"records":[...]}` bodies greedily, `single` makes one body per item. Items are strings (rebuilt
 * records), UTF-8 bytes (records forwarded as written), or written in place (tuple objects).
 */

/** A JSON item: text, or UTF-8 bytes. */
export type PackItem = string | Buffer;

const ENVELOPE_OPEN = '{"records":[';
const ENVELOPE_CLOSE = ']}';
export const ENVELOPE_OVERHEAD = ENVELOPE_OPEN.length + ENVELOPE_CLOSE.length;

export interface Packer {
  /** The largest item that fits one body. */
  readonly itemBudget: number;
  /**
   * Adds an item (`byteLength` is its UTF-8 size; `ascii` if known to be all ASCII); false if it can never fit
   * one body. The item is copied at once: its buffer may be reused afterwards.
   */
  add(json: PackItem, byteLength: number, ascii?: boolean): boolean;
  /**
   * Where an item of at most `bound` bytes can be written in place into `buffer` now, or -1: then write it
   * elsewhere and add() it, which packs it by its exact size.
   */
  room(bound: number): number;
  /** The body being filled, for room(). */
  readonly buffer: Buffer;
  /** The item written from room()'s offset ends at `end`. */
  commit(end: number, ascii: boolean): void;
  /** Emits the body being filled, if any. */
  flush(): void;
}

export function createPacker(packing: PackingMode, maxBytes: number, emit: (body: string, byteLength: number) => void): Packer {
  return packing === 'envelope' ? new EnvelopePacker(maxBytes, emit) : new SinglePacker(maxBytes, emit);
}

class SinglePacker implements Packer {
  readonly itemBudget: number;
  readonly buffer = Buffer.alloc(0);
  constructor(
    maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes;
  }
  add(json: PackItem, byteLength: number, ascii?: boolean): boolean {
    if (byteLength > this.itemBudget) return false;
    this.emit(typeof json === 'string' ? json : json.toString((ascii ?? isAscii(json)) ? 'latin1' : 'utf8'), byteLength);
    return true;
  }
  room(): number {
    return -1;
  }
  commit(): void {
    throw new Error('SinglePacker has no room to write in');
  }
  flush(): void {}
}

/**
 * Copies items into one preallocated body and makes its string once, when the body is full: each byte is
 * copied once into the body and once into the string (ASCII, nearly always, decodes as latin1: a plain copy).
 */
class EnvelopePacker implements Packer {
  readonly itemBudget: number;
  readonly buffer: Buffer;
  /** Bytes of the body written so far: the opening, items and their commas. */
  private size = ENVELOPE_OPEN.length;
  private items = 0;
  private ascii = true;
  constructor(
    private readonly maxBytes: number,
    private readonly emit: (body: string, byteLength: number) => void,
  ) {
    this.itemBudget = maxBytes - ENVELOPE_OVERHEAD;
    this.buffer = Buffer.allocUnsafe(maxBytes);
    this.buffer.write(ENVELOPE_OPEN, 0, 'latin1');
  }
  add(json: PackItem, byteLength: number, ascii?: boolean): boolean {
    if (byteLength > this.itemBudget) return false;
    if (this.room(byteLength) === -1) this.flush();
    const at = this.room(byteLength);
    const written = typeof json === 'string' ? this.buffer.write(json, at, 'utf8') : json.copy(this.buffer, at);
    if (written !== byteLength) throw new Error(`packer: an item of ${written} bytes was given as ${byteLength}`);
    this.commit(at + byteLength, ascii ?? (typeof json === 'string' ? json.length === byteLength : isAscii(json)));
    return true;
  }
  room(bound: number): number {
    const at = this.items > 0 ? this.size + 1 : this.size;
    return at + bound + ENVELOPE_CLOSE.length <= this.maxBytes ? at : -1;
  }
  commit(end: number, ascii: boolean): void {
    if (this.items > 0) this.buffer[this.size] = Char.COMMA;
    this.size = end;
    this.items++;
    this.ascii &&= ascii;
  }
  flush(): void {
    if (this.items === 0) return;
    const length = this.size + this.buffer.write(ENVELOPE_CLOSE, this.size, 'latin1');
    this.emit(this.buffer.toString(this.ascii ? 'latin1' : 'utf8', 0, length), length);
    this.size = ENVELOPE_OPEN.length;
    this.items = 0;
    this.ascii = true;
  }
}
