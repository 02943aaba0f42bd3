/** Reading a vendor's public key from --key-file (a path, or `-` for stdin) or --key (the text itself). */
import {readFileSync} from 'node:fs'
import {inputError} from '../errors.js'
import {parsePublicKey, type ParsedKey} from './keys.js'

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw inputError('KEY_STDIN_TTY', '--key-file - reads the key from standard input, but standard input is a terminal', [
    'pipe the key in: cat hevo.pub | bastion add-vendor-key … --key-file -',
    'or give the file: --key-file hevo.pub',
  ])
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
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
  if (file === '-') return parsePublicKey(await readStdin(), 'standard input')
  let content: string
  try {
    content = readFileSync(file as string, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw inputError('KEY_FILE', `cannot read --key-file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, [
      'check the path; the file holds one line starting with ssh-ed25519, ecdsa-sha2-… or ssh-rsa',
    ])
  }
  return parsePublicKey(content, file)
}
