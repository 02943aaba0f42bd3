// Reading one vendor public key as a person supplies it (a file, or text pasted from anywhere) and judging it by
// bastion's policy. Pure: no I/O. OpenSSH's own reading (sshkey_read) decides what a key line is; repairs that cannot
// change the key (line ends, wrapping, spaces) are made with a warning, everything else is refused with a reason.
import {SEND_PUB, blobToBastion, certError, dsaError, keyError, rsaShortError, unsupportedTypeError} from './errors.js'
import {readOtherFormat, refuseBinary} from './formats.js'
import {
  ACCEPTED_KEY_TYPES,
  KeyError,
  TYPE_INFO,
  MIN_RSA_BITS,
  canonicalKeyType,
  isCertificateType,
  looksLikeKeyType,
  type KeyAlgorithm,
  type ParsedKey,
  type PublicKey,
} from './types.js'
import {KeyBlobError, decodeBase64Strict, decodeBlob, fingerprintOf, type DecodedBlob} from './wire.js'
import type {BastionError} from '../../errors.js'

/** Type, bits and algorithm read from a raw key blob; throws BastionError on malformed blobs. */
export function describeBlob(blob: Buffer): {type: string; bits: number; algorithm: KeyAlgorithm} {
  try {
    const d = decodeBlob(blob)
    return {type: d.type, bits: d.bits, algorithm: d.algorithm}
  } catch (err) {
    if (err instanceof KeyBlobError) throw blobToBastion(err, '')
    throw err
  }
}

/** `256 SHA256:… comment (ED25519)`: the line `ssh-keygen -lf` prints for this key. */
export function formatKeyLikeSshKeygen(key: PublicKey): string {
  return `${key.bits} ${key.fingerprint} ${key.comment === '' ? 'no comment' : key.comment} (${key.algorithm})`
}

// C0/C1 controls, DEL, line/paragraph separators and bidi overrides (which can make a comment display misleadingly).
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu

/** Keep printable text; tabs become spaces, other control characters are dropped, whitespace runs collapsed. */
export function sanitizeComment(comment: string): {comment: string; dropped: boolean} {
  const withSpaces = comment.replace(/\t/g, ' ')
  const cleaned = withSpaces.replace(UNSAFE_CHARS, '')
  return {comment: cleaned.replace(/\s+/g, ' ').trim(), dropped: cleaned !== withSpaces}
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!
  const names: Record<number, string> = {0: 'NUL', 7: 'BEL', 8: 'backspace', 11: 'vertical tab', 12: 'form feed', 27: 'ESC', 127: 'DEL'}
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${names[cp] ? ` (${names[cp]})` : ''}`
}

/** Apply bastion's policy (types, sizes) to a decoded key; throws the refusal. */
export function checkKeyPolicy(d: {type: string; bits: number}, source?: string): void {
  if (d.type === 'ssh-dss') throw dsaError(source)
  if (d.type === 'ssh-rsa' && d.bits < MIN_RSA_BITS) throw rsaShortError(source, d.bits)
  if (!(ACCEPTED_KEY_TYPES as readonly string[]).includes(d.type)) throw unsupportedTypeError(source, d.type)
}

/** Larger input is not a public key (an RSA-16384 key line is under 3 KB). */
const MAX_INPUT = 64 * 1024

/** Separators between fields: space and tab as OpenSSH, plus no-break and other Unicode spaces pasted from web pages. */
const SEP = /[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+/
const ODD_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
const B64ISH = /^[A-Za-z0-9+/]+={0,2}$/

interface Token {
  text: string
  line: number
}

function tokenize(line: string): string[] {
  return line.split(SEP).filter((t) => t !== '')
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`
}

function keyFrom(blob: Buffer, decoded: DecodedBlob, comment: string, base64 = blob.toString('base64')): PublicKey {
  return {
    type: decoded.type,
    base64,
    comment,
    bits: decoded.bits,
    algorithm: decoded.algorithm,
    fingerprint: fingerprintOf(blob),
  }
}

/** Decode + policy for a blob that came from a conversion (RFC 4716, PEM, bare base64). */
function acceptBlob(blob: Buffer, comment: string, source: string | undefined, warnings: string[]): ParsedKey {
  let d: DecodedBlob
  try {
    d = decodeBlob(blob)
  } catch (err) {
    if (err instanceof KeyBlobError) throw blobToBastion(err, source)
    throw err
  }
  checkKeyPolicy(d, source)
  const c = sanitizeComment(comment)
  if (c.dropped) warnings.push('Control characters were removed from the key comment.')
  return {key: keyFrom(blob, d, c.comment), warnings}
}

/**
 * A key line exactly as ssh-keygen writes it: `<type> <base64> [comment]`, single spaces, printable ASCII. Checked
 * against the line as a whole so that what follows it never rescans the text.
 */
const PLAIN_LINE = /^([a-z0-9@.-]+) (AAAA[A-Za-z0-9+/]*={0,2})(?: ([\x21-\x7e]+(?: [\x21-\x7e]+)*))?$/
/** Text in a comment that the full reading below treats as something else (a private key, a block, a second key). */
const NOT_PLAIN_COMMENT = /----|PuTTY-User-Key-File-|SSH PRIVATE KEY FILE FORMAT|b3BlbnNzaC1rZXktdjE|AAAA/

/**
 * The common case, read directly (a config file lists thousands of keys): a plain line of a key type bastion accepts
 * whose base64 decodes, whole and padded, to a blob of that type. Whatever is not exactly that — a repair to make, a
 * type to refuse, a comment that looks like anything else — returns undefined and is read in full by parsePublicKey,
 * which reaches the same result for every line this accepts (test/access/keys-plain-line.test.ts).
 */
function parsePlainLine(text: string, source: string | undefined): ParsedKey | undefined {
  const m = PLAIN_LINE.exec(text)
  if (!m) return undefined
  const [, type = '', b64 = '', comment = ''] = m
  if (!Object.hasOwn(TYPE_INFO, type) || type === 'ssh-dss' || NOT_PLAIN_COMMENT.test(comment)) return undefined
  // PLAIN_LINE allows only base64 characters and final padding: what is left of decodeBase64Strict is that the text
  // is the canonical encoding of what it decodes to (no missing padding, no stray bits).
  const blob = Buffer.from(b64, 'base64')
  if (blob.toString('base64') !== b64) return undefined
  let decoded: DecodedBlob
  try {
    decoded = decodeBlob(blob)
  } catch (err) {
    if (err instanceof KeyBlobError) return undefined
    throw err
  }
  if (decoded.type !== type) return undefined
  checkKeyPolicy(decoded, source)
  return {key: keyFrom(blob, decoded, comment, b64), warnings: []}
}

/**
 * Parse one public key as a user supplies it (file contents or pasted text).
 * Accepts ed25519, ECDSA (nistp256/384/521), RSA >= 2048 (and the -sk variants).
 * Refuses with a BastionError (exit 2, code starting `KEY_`) and a specific message:
 * a private key, bad base64 / blob that does not decode to its declared type, a line with options in front,
 * several keys where one was expected, embedded NUL or stray newlines inside the key, DSA, RSA < 2048,
 * unknown types, empty input. CRLF line endings and a key wrapped over several lines are repaired with a warning.
 */
export function parsePublicKey(text: string, source?: string): ParsedKey {
  const warnings: string[] = []

  if (text.length > MAX_INPUT) {
    throw keyError(KeyError.FORMAT, source, `the input has ${text.length} characters; an OpenSSH public key is one line of at most a few thousand.`, [SEND_PUB])
  }
  const plain = parsePlainLine(text, source)
  if (plain) return plain
  refuseBinary(text, source)

  let t = text
  if (t.startsWith('\ufeff')) {
    t = t.slice(1)
    warnings.push('A byte-order mark (BOM) at the start of the key was removed.')
  }
  if (t.includes('\r')) {
    t = t.replace(/\r\n?/g, '\n')
    warnings.push('Windows line endings (CRLF) were converted; authorized_keys needs plain LF lines.')
  }
  const trimmed = t.trim()
  if (trimmed === '') {
    throw keyError(KeyError.EMPTY, source, 'the key is empty.', [SEND_PUB])
  }
  if (trimmed !== t.replace(/\n+$/, '')) warnings.push('Leading or trailing whitespace around the key was removed.')

  const other = readOtherFormat(trimmed, source, warnings)
  if (other) return acceptBlob(other.blob, other.comment, source, warnings)

  // One key in OpenSSH format, perhaps wrapped over several lines, perhaps with junk around it.
  const lines: string[][] = []
  let commentLines = 0
  for (const raw of trimmed.split('\n')) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      commentLines++
      continue
    }
    lines.push(tokenize(line))
  }
  if (commentLines > 0) warnings.push(`${plural(commentLines, 'comment line')} starting with "#" ignored.`)
  if (lines.length === 0) throw keyError(KeyError.EMPTY, source, 'the key text contains only comment lines.', [SEND_PUB])
  if (trimmed.split('\n').some((l) => ODD_SPACE.test(l))) warnings.push('Non-standard spaces (e.g. no-break spaces from a web page) were treated as plain spaces.')

  // Control characters inside the type or the key data (the first two fields) are refused; in the comment dropped.
  for (const tok of lines[0]!.slice(0, 2)) {
    const cc = CONTROL.exec(tok)
    if (cc) {
      throw keyError(KeyError.CONTROL_CHAR, source, `the key contains the control character ${describeChar(cc[0])} inside "${tok.replace(CONTROL, '?').slice(0, 40)}"; a key is printable text only.`, [
        'Copy the key again from the original `.pub` file, as plain text.',
      ])
    }
  }

  // Where do key types appear? The first token of the first line, or any type followed by base64 that starts like a blob.
  const marks: Array<{line: number; idx: number}> = []
  lines.forEach((toks, li) => {
    toks.forEach((tok, ti) => {
      if (!looksLikeKeyType(tok)) return
      if ((li === 0 && ti === 0) || /^AAAA[A-Za-z0-9+/]{8,}/.test(toks[ti + 1] ?? '')) marks.push({line: li, idx: ti})
    })
  })
  if (marks.length > 1) {
    throw keyError(
      KeyError.MULTIPLE,
      source,
      `found ${marks.length} keys (${marks.map((m) => lines[m.line]![m.idx]).join(', ')}); exactly one was expected.`,
      ['Pass one key at a time: split the file and run the command once per key (each vendor key gets its own line).'],
      {count: marks.length},
    )
  }

  if (marks.length === 0) {
    const first = lines[0]![0]!
    if (B64ISH.test(first) && first.startsWith('AAAA')) {
      // Only the base64 blob was pasted: the type is inside it.
      const tokens = allTokens(lines, 0, 0)
      const picked = pickBlob(tokens, 0, source, undefined)
      warnings.push(`The key type was missing; it was read from the key data (${picked.decoded.type}).`)
      blobWarnings(picked, warnings)
      checkKeyPolicy(picked.decoded, source)
      return finish(picked.blob, picked.decoded, tokens.slice(picked.consumed), warnings)
    }
    if (/^[a-z0-9]+(?:-[a-z0-9@.]+)+$/.test(first)) throw unsupportedTypeError(source, first)
    throw keyError(
      KeyError.FORMAT,
      source,
      `this does not look like an OpenSSH public key (it starts with "${first.slice(0, 40)}"). The format is one line: \`<type> <base64> [comment]\`, e.g. \`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5… vendor@example\`.`,
      [SEND_PUB],
    )
  }

  const mark = marks[0]!
  if (mark.line > 0) {
    throw keyError(KeyError.LEADING_TEXT, source, `there is text before the key ("${lines[0]!.join(' ').slice(0, 60)}"); only the key line is expected.`, [
      'Remove everything except the key line (`<type> <base64> [comment]`).',
    ])
  }
  if (mark.idx > 0) {
    const before = lines[0]!.slice(0, mark.idx).join(' ')
    if (/^[A-Za-z][A-Za-z0-9-]*(?:=|,|$)/.test(before) && (/[=,]/.test(before) || KNOWN_FLAG_OPTIONS.has(before.toLowerCase()))) {
      throw keyError(
        KeyError.OPTIONS,
        source,
        `the key has authorized_keys options in front of it (${before.length > 80 ? before.slice(0, 77) + '...' : before}). bastion writes its own least-privilege options (restrict, permitopen, from); options supplied with the key could widen the vendor's access, so they are not accepted.`,
        [`Pass only the key, starting at "${lines[0]![mark.idx]}"; set destinations with --db and source addresses with the vendor's IPs.`],
        {options: before},
      )
    }
    throw keyError(
      KeyError.LEADING_TEXT,
      source,
      `there is text before the key type ("${before.slice(0, 60)}")${/^[\w.*?[\]:,-]+$/.test(before) ? '; this looks like a known_hosts line (host names in front of a host key), not a user key' : ''}.`,
      [`Pass only the key, starting at "${lines[0]![mark.idx]}".`],
    )
  }

  const declared = lines[0]![0]!
  if (isCertificateType(declared)) throw certError(source, declared)
  const canonical = canonicalKeyType(declared)
  if (canonical === 'ssh-dss') throw dsaError(source)
  if (!canonical) throw unsupportedTypeError(source, declared)

  const rest = allTokens(lines, 0, 1)
  if (rest.length === 0) {
    throw keyError(KeyError.MISSING_BLOB, source, `the line has the key type "${declared}" but no key data after it.`, [SEND_PUB])
  }
  const picked = pickBlob(rest, 0, source, declared)
  const {blob, decoded} = picked
  if (decoded.type !== canonical) {
    throw keyError(
      KeyError.TYPE_MISMATCH,
      source,
      `the line says "${declared}" but the key data is a ${decoded.type} key. OpenSSH refuses such a line; it was edited or pieced together from two keys.`,
      ['Copy the key again from the original `.pub` file.'],
      {declared, actual: decoded.type},
    )
  }
  blobWarnings(picked, warnings)
  if (declared !== decoded.type) warnings.push(`The key type name "${declared}" was replaced by its canonical name "${decoded.type}".`)
  checkKeyPolicy(decoded, source)
  return finish(blob, decoded, rest.slice(picked.consumed), warnings)
}

const KNOWN_FLAG_OPTIONS = new Set([
  'restrict', 'cert-authority', 'port-forwarding', 'no-port-forwarding', 'agent-forwarding', 'no-agent-forwarding',
  'x11-forwarding', 'no-x11-forwarding', 'pty', 'no-pty', 'user-rc', 'no-user-rc', 'touch-required', 'no-touch-required',
  'verify-required', 'no-verify-required',
])

function allTokens(lines: string[][], fromLine: number, fromIdx: number): Token[] {
  const out: Token[] = []
  for (let li = fromLine; li < lines.length; li++) {
    const toks = lines[li]!
    for (let ti = li === fromLine ? fromIdx : 0; ti < toks.length; ti++) out.push({text: toks[ti]!, line: li})
  }
  return out
}

function finish(blob: Buffer, decoded: DecodedBlob, commentTokens: Token[], warnings: string[]): ParsedKey {
  const last = commentTokens.length > 0 ? commentTokens[commentTokens.length - 1]!.line : 0
  const firstLine = commentTokens[0]?.line ?? 0
  if (commentTokens.length > 0 && last !== firstLine) {
    warnings.push(`Text on ${plural(last - firstLine + 1, 'line')} after the key data was joined into the comment.`)
  }
  const raw = commentTokens.map((t) => t.text).join(' ')
  const c = sanitizeComment(raw)
  if (c.dropped) warnings.push('Control characters were removed from the key comment.')
  return {key: keyFrom(blob, decoded, c.comment), warnings}
}

interface Picked {
  blob: Buffer
  decoded: DecodedBlob
  /** Tokens used for the key data. */
  consumed: number
  /** Lines the type and key data were spread over (1 = not wrapped). */
  lines: number
  /** Key data was split by spaces on one line. */
  spaces: boolean
  paddingAdded: boolean
}

function blobWarnings(p: Picked, warnings: string[]): void {
  if (p.lines > 1) warnings.push(`The key was wrapped over ${p.lines} lines (as web pages and e-mail do); the lines were joined.`)
  if (p.spaces) warnings.push('Spaces inside the key data were removed.')
  if (p.paddingAdded) warnings.push('The "=" padding missing at the end of the key data was restored.')
}

/**
 * Find the key data among the tokens after the type: the shortest run of base64 tokens (joined without spaces: a
 * wrapped key) that decodes to a complete, valid blob. Throws the most telling error when none does.
 */
function pickBlob(tokens: Token[], typeLine: number, source: string | undefined, declared: string | undefined): Picked {
  let firstError: BastionError | undefined
  let lastError: BastionError | undefined
  let joined = ''
  for (let k = 1; k <= Math.min(tokens.length, 256); k++) {
    const piece = tokens[k - 1]!.text
    if (k > 1 && (!B64ISH.test(piece) || joined.includes('='))) break
    joined += piece
    const dec = decodeBase64Strict(joined, true)
    let err: BastionError
    if (dec.ok) {
      try {
        const decoded = decodeBlob(dec.blob)
        return {
          blob: dec.blob,
          decoded,
          consumed: k,
          lines: tokens[k - 1]!.line - typeLine + 1,
          spaces: tokens.slice(1, k).some((t, i) => t.line === tokens[i]!.line),
          paddingAdded: dec.paddingAdded,
        }
      } catch (e) {
        if (!(e instanceof KeyBlobError)) throw e
        err = blobToBastion(e, source, declared)
      }
    } else {
      err = keyError(KeyError.BASE64, source, `the key data is not valid base64: ${dec.reason}.`, [
        'Copy the key again from the original `.pub` file (one line, nothing cut off), or ask the vendor to send the file itself.',
      ])
    }
    firstError ??= err
    lastError = err
    if (k === 1 && !B64ISH.test(piece)) break
  }
  // Prefer the error for the whole wrapped key when the data goes on over several lines; else the first token's.
  const spansLines = tokens.length > 1 && tokens[1]!.line !== tokens[0]!.line && B64ISH.test(tokens[1]!.text)
  throw (spansLines ? lastError : firstError) ?? firstError!
}
