/**
 * Reading files a user names on the command line (key files, ssh config, known_hosts) with a size cap, so that a
 * path like /dev/zero, a FIFO or any endless stream ends in a clear refusal instead of reading until memory runs out.
 */
import {closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats} from 'node:fs'
import {inputError} from '../errors.js'

const MiB = 1024 * 1024

/** A public or private key file: one key is a few KB, so 1 MiB is generous. */
export const KEY_FILE_MAX_BYTES = MiB
/** ssh config and known_hosts: text files that grow with the number of hosts, but not past this. */
export const CONFIG_FILE_MAX_BYTES = 64 * MiB

const CHUNK = 64 * 1024

export interface ReadLimits {
  /** How the file is named in messages, e.g. `--key-file hevo.pub`. */
  label: string
  /** What the file should hold, for messages, e.g. `a public key (one line of a few KB)`. */
  holds: string
  maxBytes: number
  /**
   * Refuse anything but a regular file: devices, FIFOs, sockets, directories. The file is opened non-blocking, so a
   * FIFO without a writer is refused at once instead of waiting.
   */
  regularOnly?: boolean
  /** How to fix a refusal (what the file should be). */
  fix?: string[]
}

/** `1 MiB`, `64 MiB`, or bytes below that. */
export function formatBytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

type Naming = Pick<ReadLimits, 'label' | 'holds' | 'fix'>

function notRegular(st: Stats, limits: Naming) {
  return inputError('FILE_TYPE', `${limits.label} is ${fileKind(st)}, not a regular file: ${limits.holds} is read only from a regular file`, limits.fix ?? [])
}

function tooLarge(limits: Naming & {maxBytes: number}) {
  return inputError('FILE_TOO_LARGE', `${limits.label} holds more than ${formatBytes(limits.maxBytes)}, too much for ${limits.holds}; reading stopped there`, limits.fix ?? [])
}

/** Refuse (exit 2) a path that exists but is not a regular file, without opening it (a FIFO would block). */
export function checkRegularFile(path: string, limits: Naming): void {
  const st = statSync(path)
  if (!st.isFile()) throw notRegular(st, limits)
}

/**
 * Read at most `limits.maxBytes` of `path`; refuse (exit 2) a file with more, and with `regularOnly` anything but a
 * regular file. Errors opening or reading the file (ENOENT, EACCES …) are thrown as they come, for the caller to word.
 */
export function readLimited(path: string, limits: ReadLimits): Buffer {
  const flags = constants.O_RDONLY | (limits.regularOnly ? constants.O_NONBLOCK : 0)
  const fd = openSync(path, flags)
  try {
    const st = fstatSync(fd)
    if (limits.regularOnly && !st.isFile()) throw notRegular(st, limits)
    if (st.isFile() && st.size > limits.maxBytes) throw tooLarge(limits)
    const chunks: Buffer[] = []
    let total = 0
    // A regular file is read in one go (its size and one more byte, to see it did not grow); anything else in chunks.
    let size = st.isFile() ? st.size + 1 : CHUNK
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(size, limits.maxBytes + 1 - total))
      size = CHUNK
      const n = readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      total += n
      if (total > limits.maxBytes) throw tooLarge(limits)
      chunks.push(buf.subarray(0, n))
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
  } finally {
    closeSync(fd)
  }
}

/** Read a stream (standard input) to its end, refusing (exit 2) and stopping as soon as it passes `limits.maxBytes`. */
export async function readStreamLimited(stream: AsyncIterable<Buffer | string>, limits: ReadLimits): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    total += buf.length
    if (total > limits.maxBytes) throw tooLarge(limits)
    chunks.push(buf)
  }
  return Buffer.concat(chunks, total)
}
