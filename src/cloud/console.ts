/**
 * Reading a new host's serial console (EC2 GetConsoleOutput, Azure boot diagnostics): cloud-init prints the SSH host
 * keys there between
 *   -----BEGIN SSH HOST KEY FINGERPRINTS----- / -----END SSH HOST KEY FINGERPRINTS-----
 *   -----BEGIN SSH HOST KEY KEYS----- / -----END SSH HOST KEY KEYS-----
 * and our user-data prints its progress as `bastion-init: …` lines. Console lines may carry prefixes (`ec2: `,
 * `[   12.3] cloud-init[812]: `, CR characters) and kernel messages may interleave; the parser tolerates both.
 * Pure: no I/O.
 */
import {blobKeyType, sha256Fingerprint} from '../ssh/fingerprint.js'
import {parseFacts, type ScriptFact} from '../remote/script.js'

export interface ConsoleHostKey {
  type: string
  base64: string
  fingerprint: string
}

export interface ConsoleFingerprint {
  bits: number
  fingerprint: string
  /** ED25519, ECDSA, RSA … as ssh-keygen prints it in parentheses. */
  algorithm: string
}

export interface ConsoleReport {
  /** Keys from the last complete KEYS block, each checked against its blob; empty when there is none yet. */
  hostKeys: ConsoleHostKey[]
  /** The last complete FINGERPRINTS block. */
  fingerprints: ConsoleFingerprint[]
  /** Keys in the KEYS block whose fingerprint the FINGERPRINTS block does not list (both blocks present). */
  mismatched: ConsoleHostKey[]
  init: {
    /** done: the user-data finished; failed: it reported an error; running: started, not finished; absent: no line yet. */
    status: 'done' | 'failed' | 'running' | 'absent'
    /** The `bastion-init:` lines (without the prefix), `@bastion` facts excluded. */
    lines: string[]
    /** The vendor script's `@bastion` facts, passed through by the user-data. */
    facts: ScriptFact[]
  }
}

const KEY_TYPES = /(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s|$)/
const FP_LINE = /(\d{3,5})\s+(SHA256:[A-Za-z0-9+/]{43})\S*\s.*\(([A-Z0-9-]+)\)\s*$/

function block(lines: string[], name: string): string[] | undefined {
  const begin = `-----BEGIN ${name}-----`
  const end = `-----END ${name}-----`
  let last: string[] | undefined
  let current: string[] | undefined
  for (const line of lines) {
    if (line.includes(begin)) {
      current = []
      continue
    }
    if (line.includes(end)) {
      if (current) last = current
      current = undefined
      continue
    }
    current?.push(line)
  }
  return last
}

/** Parse console text (already decoded from base64). */
export function parseConsoleOutput(text: string): ConsoleReport {
  const lines = text.replace(/\r/g, '').split('\n')
  const hostKeys: ConsoleHostKey[] = []
  for (const line of block(lines, 'SSH HOST KEY KEYS') ?? []) {
    const m = KEY_TYPES.exec(line)
    if (!m) continue
    const [, type = '', base64 = ''] = m
    const blob = Buffer.from(base64, 'base64')
    if (blobKeyType(blob) !== type) continue // garbled (interleaved kernel output) or not a key
    if (hostKeys.some((k) => k.base64 === base64)) continue
    hostKeys.push({type, base64, fingerprint: sha256Fingerprint(blob)})
  }
  const fingerprints: ConsoleFingerprint[] = []
  for (const line of block(lines, 'SSH HOST KEY FINGERPRINTS') ?? []) {
    const m = FP_LINE.exec(line)
    if (m) fingerprints.push({bits: Number(m[1]), fingerprint: m[2] ?? '', algorithm: m[3] ?? ''})
  }
  const mismatched = fingerprints.length > 0 ? hostKeys.filter((k) => !fingerprints.some((f) => f.fingerprint === k.fingerprint)) : []

  const initLines: string[] = []
  const factLines: string[] = []
  for (const line of lines) {
    const at = line.indexOf('bastion-init: ')
    if (at < 0) continue
    const rest = line.slice(at + 'bastion-init: '.length).trimEnd()
    if (rest.startsWith('@bastion ')) factLines.push(rest)
    else initLines.push(rest)
  }
  let status: ConsoleReport['init']['status'] = 'absent'
  if (initLines.some((l) => l.startsWith('start'))) status = 'running'
  if (initLines.some((l) => l.startsWith('done'))) status = 'done'
  if (initLines.some((l) => l.startsWith('failed'))) status = 'failed'
  return {
    hostKeys: hostKeys.filter((k) => !mismatched.includes(k)),
    fingerprints,
    mismatched,
    init: {status, lines: initLines, facts: parseFacts(factLines.join('\n'))},
  }
}
