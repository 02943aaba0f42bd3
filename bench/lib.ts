/**
 * Benchmark plumbing: timed child processes, medians, a fleet of lab hosts sharing one admin key and one known_hosts
 * file (so one bastion process, one ansible run and N ssh clients can all reach every host the same way).
 */
import {spawn, spawnSync} from 'node:child_process'
import {appendFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {generateEd25519} from '../src/ssh/keygen.js'
import {startLab, type LabHost} from '../test/lab/lab.js'

export interface Timed {
  code: number | null
  ms: number
  stdout: string
  stderr: string
}

export interface RunSpec {
  cmd: string
  args: string[]
  input?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
}

/** Run one command; `ms` is wall time from spawn to exit (output drained). */
export function timed(spec: RunSpec): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(spec.cmd, spec.args, {env: spec.env ?? process.env, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.stdin.on('error', () => {})
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs ?? 300_000)
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - t0
      clearTimeout(timer)
      resolve({code, ms, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()})
    })
    child.stdin.end(spec.input ?? '')
  })
}

/** Run several commands at once; `ms` is the wall time until the last one exited. */
export async function timedParallel(specs: RunSpec[]): Promise<{ms: number; runs: Timed[]}> {
  const t0 = performance.now()
  const runs = await Promise.all(specs.map((s) => timed(s)))
  return {ms: performance.now() - t0, runs}
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Throw with the command's output when it failed: a benchmark of a failing command measures nothing. */
export function expectOk(what: string, r: Timed, okCodes: number[] = [0]): Timed {
  if (r.code === null || !okCodes.includes(r.code)) {
    throw new Error(`${what} exited ${r.code}:\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`)
  }
  return r
}

/** Is `cmd` on PATH? */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : undefined
}

// ------------------------------------------------------------------------------------------------------------ fleet

export interface Fleet {
  labs: LabHost[]
  /** The shared admin key (private key file; passwordless). */
  keyPath: string
  /** One known_hosts file with every lab's host key. */
  knownHosts: string
  /** `admin@<address>` for each lab, in order. */
  hosts: string[]
  stop(): Promise<void>
}

/**
 * Start `count` lab hosts at once and give their admin user one shared key (appended to each lab's
 * authorized_keys), so every tool logs in with the same single identity.
 */
export async function startFleet(count: number, dir: string): Promise<Fleet> {
  mkdirSync(dir, {recursive: true})
  const labs: LabHost[] = []
  try {
    const started = await Promise.allSettled(Array.from({length: count}, () => startLab()))
    for (const s of started) if (s.status === 'fulfilled') labs.push(s.value)
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    const key = generateEd25519('bench-admin')
    const keyPath = join(dir, 'admin_ed25519')
    writeFileSync(keyPath, key.privateKey, {mode: 0o600})
    writeFileSync(`${keyPath}.pub`, key.publicKey + '\n')
    const knownHosts = join(dir, 'known_hosts')
    writeFileSync(knownHosts, '')
    await Promise.all(labs.map(async (lab) => {
      const r = await lab.exec(`cat >> /home/${lab.adminUser}/.ssh/authorized_keys`, key.publicKey + '\n')
      if (r.code !== 0) throw new Error(`adding the bench key to ${lab.name}: ${r.stderr}`)
    }))
    for (const lab of labs) appendFileSync(knownHosts, lab.knownHostsLines.join('\n') + '\n')
    return {
      labs,
      keyPath,
      knownHosts,
      hosts: labs.map((l) => `${l.adminUser}@${l.address}`),
      stop: async () => {
        await Promise.all(labs.map((l) => l.stop()))
      },
    }
  } catch (error) {
    await Promise.all(labs.map((l) => l.stop().catch(() => {})))
    throw error
  }
}
