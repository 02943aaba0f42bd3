/**
 * Text from outside (a host, its files and programs, a cloud API, a vendor's key file) made safe to print on a terminal.
 * Code points a terminal acts on or that hide or reorder text become visible escapes (`\x1b`, `\u202e`); everything
 * else, backslashes included, is printed as it is, so ordinary values read exactly as on the host.
 * Apply it to each outside value before it is composed with our own text and styled: chalk's colour codes are ours.
 */

/**
 * C0 controls, DEL and C1 controls (\p{Cc}); the Arabic letter mark, zero-width and direction marks (U+200B–U+200F);
 * line and paragraph separators and bidi embeddings/overrides (U+2028–U+202E); word joiner, invisible operators and
 * bidi isolates (U+2060–U+2069); the byte order mark; the noncharacters U+FFFE/U+FFFF and lone surrogates (not
 * allowed in XML 1.0); the invisible tag characters (U+E0000–U+E007F).
 */
const UNSAFE = /[\p{Cc}\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff\ud800-\udfff\u{e0000}-\u{e007f}]/gu
const UNSAFE_EXCEPT_NEWLINE = /(?!\n)[\p{Cc}\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff\ud800-\udfff\u{e0000}-\u{e007f}]/gu

const NAMED: Record<string, string> = {'\t': '\\t', '\n': '\\n', '\r': '\\r'}

/** `\t`, `\n`, `\r`; `\xHH` up to U+00FF; `\uHHHH` in the BMP; `\u{HHHHH}` above it. */
export function escapeCodePoint(ch: string): string {
  const named = NAMED[ch]
  if (named) return named
  const cp = ch.codePointAt(0)!
  const hex = cp.toString(16)
  if (cp <= 0xff) return `\\x${hex.padStart(2, '0')}`
  if (cp <= 0xffff) return `\\u${hex.padStart(4, '0')}`
  return `\\u{${hex}}`
}

/** One value shown on one line: every unsafe code point, line breaks and tabs included, becomes a visible escape. */
export function inert(value: string): string {
  return value.replace(UNSAFE, escapeCodePoint)
}

/** Text of several lines (a remote stderr tail, an error message): line feeds stay line feeds, the rest as inert(). */
export function inertLines(text: string): string {
  return text.replace(UNSAFE_EXCEPT_NEWLINE, escapeCodePoint)
}
