/**
 * The bytes that JSON and flow tuples are read by (ASCII codes). A const enum: the compiler writes each
 * value where it is used, so hot loops compare with literals rather than load a module property per byte.
 */
export const enum Char {
  QUOTE = 0x22,
  COMMA = 0x2c,
  DOT = 0x2e,
  ZERO = 0x30,
  NINE = 0x39,
  COLON = 0x3a,
  OPEN_BRACKET = 0x5b,
  BACKSLASH = 0x5c,
  CLOSE_BRACKET = 0x5d,
  UNDERSCORE = 0x5f,
  OPEN_BRACE = 0x7b,
  CLOSE_BRACE = 0x7d,
}
