/** Reading a vendor's public key from --key-file (a path, or `-` for stdin) or --key (the text itself). */
import {BastionError, inputError} from '../errors.js'
import {KEY_FILE_MAX_BYTES, readLimited, readStreamLimited} from '../input/file.js'
import {expandTilde} from '../input/parse.js'
import {parsePublicKey, type ParsedKey} from './keys.js'

const PUBLIC_KEY = 'a public key (one line of a few KB)'

function keyFileFixes(flag: string): string[] {
  return [
    `give the public key file itself: ${flag} hevo.pub (one line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa, a few KB at most)`,
    `or pipe the key in: cat hevo.pub | bastion … ${flag} -`,
  ]
}

/** Standard input, read to its end but never past the key size cap. */
export async function readStdin(flag = '--key-file', stdin: AsyncIterable<Buffer | string> & {isTTY?: boolean} = process.stdin): Promise<string> {
  if (stdin.isTTY) throw inputError('KEY_STDIN_TTY', `${flag} - reads the key from standard input, but standard input is a terminal`, [
    `pipe the key in: cat hevo.pub | bastion … ${flag} -`,
    `or give the file: ${flag} hevo.pub`,
  ])
  const data = await readStreamLimited(stdin, {
    label: `standard input (${flag} -)`,
    holds: PUBLIC_KEY,
    maxBytes: KEY_FILE_MAX_BYTES,
    fix: [`pipe in only the key: cat hevo.pub | bastion … ${flag} -`, `or give the file: ${flag} hevo.pub`],
  })
  return data.toString('utf8')
}

/**
 * The text of a key file named by `flag` (`-`: standard input). Only regular files are read, and at most
 * KEY_FILE_MAX_BYTES of them: a device, FIFO or endless stream is refused with exit 2.
 */
export async function readKeyText(file: string, flag: string): Promise<string> {
  if (file === '-') return readStdin(flag)
  try {
    return readLimited(expandTilde(file), {
      label: `${flag} ${file}`,
      holds: PUBLIC_KEY,
      maxBytes: KEY_FILE_MAX_BYTES,
      regularOnly: true,
      fix: keyFileFixes(flag),
    }).toString('utf8')
  } catch (err) {
    if (err instanceof BastionError) throw err
    const e = err as NodeJS.ErrnoException
    throw inputError('KEY_FILE', `cannot read ${flag} ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, [
      'check the path; the file holds one line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa',
    ])
  }
}

export async function readVendorKey(flags: {'key-file'?: string | undefined; key?: string | undefined}): Promise<ParsedKey> {
  const file = flags['key-file']
  const text = flags.key
  if (file !== undefined && text !== undefined)
    throw inputError('KEY_TWICE', 'give the vendor key once: either --key-file or --key, not both', ['--key-file hevo.pub'])
  if (file === undefined && text === undefined)
    throw inputError('KEY_MISSING', "the vendor's public key is missing", [
      '--key-file hevo.pub (the public key the vendor shows in its "SSH tunnel" form, saved to a file)',
      "--key 'ssh-ed25519 AAAA… hevo'",
    ])
  if (text !== undefined) return parsePublicKey(text, '--key')
  const content = await readKeyText(file as string, '--key-file')
  return parsePublicKey(content, file === '-' ? 'standard input' : (file as string))
}
