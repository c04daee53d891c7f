import { Char } from './charCodes';
import type { TupleFormat } from './tuples';

/**
 * The flow tuple grammar (docs/azure-facts.md sections 1-2), as one byte-level reader. parseTuple accepts
 * a tuple exactly when tupleMatches() does, and the framer's fast path accepts a whole `"flowTuples":[...]`
 * array exactly when every tuple in it does: the same code decides both, reading the blob's bytes in place
 * (no decoding, no allocation), which is what makes validating every tuple cheap.
 *
 * Fields: timestamp 1-15 digits (epoch seconds or milliseconds); IP: IPv4 dotted quad (0-255, no leading
 * zeros) or IPv6 (RFC 4291 text, `::`, IPv4 tail; no zone index); ports 1-5 digits up to 65535; VNet protocol
 * 1-3 digits up to 255; direction I/O; VNet state B/C/E/D; encryption X or NX(_WORD)*; NSG protocol T/U,
 * decision A/D, v2 state B/C/E; counters empty or up to 15 digits.
 */

// Letters as literals: V8 compares with a constant instead of loading a variable in the per-byte loop.
const A = 0x41, B = 0x42, C = 0x43, D = 0x44, E = 0x45, I = 0x49, N = 0x4e, O = 0x4f, T = 0x54, U = 0x55, X = 0x58;

const at = (bytes: Uint8Array, p: number): number => bytes[p] ?? -1;
const isDigit = (c: number): boolean => c >= Char.ZERO && c <= Char.NINE;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

export interface TupleArray {
  /** Index just after the closing `]`. */
  end: number;
  count: number;
}

/**
 * If `bytes` from `from` (just after a `[`) hold a compact JSON array of tuples that all follow `format`,
 * where it ends and how many tuples it holds; else undefined. Escapes, whitespace or a malformed tuple give
 * undefined (the slow path then parses the record and says which tuple is wrong).
 *
 * Written as one loop with each field read inline, because it runs for every byte of every tuple and a
 * call V8 does not inline costs as much as reading a field.
 */
export function readTupleArray(bytes: Uint8Array, from: number, format: TupleFormat): TupleArray | undefined {
  // A tuple array holds no `]` before its end. Without one in these bytes (an array cut by a chunk's end),
  // give up at once: reading past a buffer's end makes V8 recompile every read here with a slower check.
  if (bytes.indexOf(Char.CLOSE_BRACKET, from) === -1) return undefined;
  const vnet = format === 'vnet';
  const counters = format !== 'nsg1';
  let p = from;
  let count = 0;
  if (at(bytes, p) === Char.CLOSE_BRACKET) return { end: p + 1, count };
  for (;;) {
    if (at(bytes, p) !== Char.QUOTE) return undefined;
    // Timestamp.
    let start = ++p;
    let c = at(bytes, p);
    while (isDigit(c)) c = at(bytes, ++p);
    if (p === start || p - start > 15 || c !== Char.COMMA) return undefined;
    // Source and destination IP.
    for (let k = 0; k < 2; k++) {
      p = ipEnd(bytes, p + 1);
      if (p === -1 || at(bytes, p) !== Char.COMMA) return undefined;
    }
    // Source and destination port (up to 65535), then for VNet the protocol number (up to 255).
    for (let k = 0; k < (vnet ? 3 : 2); k++) {
      const protocol = k === 2;
      start = ++p;
      let value = 0;
      for (c = at(bytes, p); isDigit(c); c = at(bytes, ++p)) value = value * 10 + c - Char.ZERO;
      if (p === start || p - start > (protocol ? 3 : 5) || value > (protocol ? 255 : 65535) || c !== Char.COMMA) return undefined;
    }
    c = at(bytes, ++p);
    if (vnet) {
      // Direction, state, encryption.
      if ((c !== I && c !== O) || at(bytes, p + 1) !== Char.COMMA) return undefined;
      c = at(bytes, (p += 2));
      if ((c !== B && c !== C && c !== E && c !== D) || at(bytes, p + 1) !== Char.COMMA) return undefined;
      p += 2;
      if (at(bytes, p) === X) p++;
      else if (at(bytes, p) === N && at(bytes, p + 1) === X) {
        p += 2;
        while (at(bytes, p) === Char.UNDERSCORE) {
          start = ++p;
          for (c = at(bytes, p); isDigit(c) || (c >= 0x41 && c <= 0x5a); c = at(bytes, ++p));
          if (p === start) return undefined;
        }
      } else return undefined;
    } else {
      // Protocol, direction, decision, and for version 2 the state.
      if ((c !== T && c !== U) || at(bytes, p + 1) !== Char.COMMA) return undefined;
      c = at(bytes, (p += 2));
      if ((c !== I && c !== O) || at(bytes, p + 1) !== Char.COMMA) return undefined;
      c = at(bytes, (p += 2));
      if (c !== A && c !== D) return undefined;
      p++;
      if (counters) {
        c = at(bytes, p + 1);
        if (at(bytes, p) !== Char.COMMA || (c !== B && c !== C && c !== E)) return undefined;
        p += 2;
      }
    }
    // Four counters: empty or digits.
    for (let k = 0; counters && k < 4; k++) {
      if (at(bytes, p) !== Char.COMMA) return undefined;
      start = ++p;
      while (isDigit(at(bytes, p))) p++;
      if (p - start > 15) return undefined;
    }
    if (at(bytes, p) !== Char.QUOTE) return undefined;
    count++;
    c = at(bytes, ++p);
    if (c === Char.CLOSE_BRACKET) return { end: p + 1, count };
    if (c !== Char.COMMA) return undefined;
    p++;
  }
}

/** An IPv4 or IPv6 address from p: the index just after it (at the comma), or -1. */
function ipEnd(bytes: Uint8Array, p: number): number {
  const v4 = ipv4End(bytes, p);
  if (v4 !== -1 && at(bytes, v4) === Char.COMMA) return v4;
  let end = p;
  let colon = false;
  for (let c = at(bytes, end); isHex(c) || c === Char.COLON || c === Char.DOT; c = at(bytes, ++end)) colon ||= c === Char.COLON;
  return colon && ipv6(bytes, p, end) ? end : -1;
}

/** A dotted quad (each part 0-255, no leading zeros) from p: the index just after it, or -1. */
function ipv4End(bytes: Uint8Array, p: number): number {
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0 && at(bytes, p++) !== Char.DOT) return -1;
    const c0 = at(bytes, p);
    const c1 = at(bytes, p + 1);
    const c2 = at(bytes, p + 2);
    if (!isDigit(c0)) return -1;
    if (!isDigit(c1)) p += 1;
    else if (c0 === Char.ZERO) return -1;
    else if (!isDigit(c2)) p += 2;
    else if ((c0 - Char.ZERO) * 100 + (c1 - Char.ZERO) * 10 + c2 - Char.ZERO > 255 || isDigit(at(bytes, p + 3))) return -1;
    else p += 3;
  }
  return p;
}

/** RFC 4291 text form in bytes [start, end): what node:net's isIP accepts as IPv6, zone indexes aside. */
function ipv6(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2) return false;
  let hextets = 0;
  let run = 0;
  let gap = false;
  let p = start;
  if (at(bytes, p) === Char.COLON) {
    if (at(bytes, p + 1) !== Char.COLON) return false;
    if (end - start === 2) return true;
    gap = true;
    p += 2;
  }
  let partStart = p;
  for (; p < end; p++) {
    const c = at(bytes, p);
    if (c === Char.COLON) {
      if (run === 0) {
        if (gap) return false; // a second `::`
        gap = true;
        if (p === end - 1) return hextets <= 7;
      } else {
        hextets++;
        run = 0;
        if (p === end - 1) return false;
      }
      partStart = p + 1;
    } else if (c === Char.DOT) {
      // An IPv4 tail: the last part, ending the address.
      return ipv4End(bytes, partStart) === end && (gap ? hextets + 2 <= 7 : hextets + 2 === 8);
    } else if (!isHex(c) || ++run > 4) {
      return false;
    }
  }
  hextets++;
  return gap ? hextets <= 7 : hextets === 8;
}

/** Whether one tuple follows the grammar of `format`. */
export function tupleMatches(text: string, format: TupleFormat): boolean {
  const bytes = Buffer.from(`"${text}"]`, 'utf8');
  const array = readTupleArray(bytes, 0, format);
  return array !== undefined && array.count === 1 && array.end === bytes.length;
}

export const TUPLE_FORMATS: readonly TupleFormat[] = ['vnet', 'nsg2', 'nsg1'];

/** One field, for naming what is wrong with a tuple that does not match (readers for the slow path only). */
export type FieldKind = 'timestamp' | 'ip' | 'port' | 'protocol' | 'direction' | 'vnetState' | 'encryption' | 'nsgProtocol' | 'decision' | 'nsgState' | 'counter';

const FIELD_PATTERNS: Record<Exclude<FieldKind, 'ip'>, RegExp> = {
  timestamp: /^\d{1,15}$/,
  port: /^(?:\d{1,4}|[0-5]\d{4}|6[0-4]\d{3}|65[0-4]\d\d|655[0-2]\d|6553[0-5])$/,
  protocol: /^(?:\d{1,2}|[01]\d\d|2[0-4]\d|25[0-5])$/,
  direction: /^[IO]$/,
  vnetState: /^[BCED]$/,
  encryption: /^(?:X|NX(?:_[A-Z0-9]+)*)$/,
  nsgProtocol: /^[TU]$/,
  decision: /^[AD]$/,
  nsgState: /^[BCE]$/,
  counter: /^\d{0,15}$/,
};

export function fieldMatches(field: FieldKind, text: string): boolean {
  if (field !== 'ip') return FIELD_PATTERNS[field].test(text);
  const bytes = Buffer.from(`${text},`, 'utf8'); // the comma ends an address as in a tuple
  return ipEnd(bytes, 0) === bytes.length - 1;
}

/** Whether `text` is an IPv6 address as the grammar reads one. */
export function isIPv6(text: string): boolean {
  const bytes = Buffer.from(`${text},`, 'utf8');
  return ipv6(bytes, 0, bytes.length - 1);
}
