/** Test helpers: run the real CLI as a user would (bin/run.js in a child process), make keys with ssh-keygen. */
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {packageRoot} from '../../src/paths.js'

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON when --json was given. */
  json?: any
}

/** A private HOME so ~/.ssh/config, known_hosts and agents of the machine never leak into tests. */
export function isolatedHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'bastion-home-'))
  mkdirSync(join(home, '.ssh'), {mode: 0o700})
  return home
}

/**
 * `memoryLimitMb` caps the child's address space (ulimit -v), Buffers included, which --max-old-space-size does not:
 * a regression that reads an endless input then fails instead of eating the machine's memory.
 */
export function runCli(
  args: string[],
  opts: {home?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; memoryLimitMb?: number} = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...opts.env}
  delete env.SSH_AUTH_SOCK
  if (opts.home) env.HOME = opts.home
  const argv = [process.execPath, join(packageRoot, 'bin/run.js'), ...args]
  const [cmd, cmdArgs]: [string, string[]] = opts.memoryLimitMb === undefined
    ? [process.execPath, argv.slice(1)]
    : ['/bin/sh', ['-c', `ulimit -v ${opts.memoryLimitMb * 1024} && exec "$@"`, 'sh', ...argv]]
  return runProcess(cmd, cmdArgs, {env, input: opts.input, timeoutMs: opts.timeoutMs, json: args.includes('--json')})
}

/** Spawn, feed stdin, collect stdout/stderr; parse stdout as JSON when asked. */
export function runProcess(
  cmd: string,
  args: string[],
  opts: {env?: NodeJS.ProcessEnv; cwd?: string; input?: string | undefined; timeoutMs?: number | undefined; json?: boolean},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: opts.env ?? process.env, ...(opts.cwd ? {cwd: opts.cwd} : {}), stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const run: CliRun = {code, stdout, stderr}
      if (opts.json) {
        try {
          run.json = JSON.parse(stdout)
        } catch {
          // left undefined: the assertion on json will show stdout
        }
      }
      resolve(run)
    })
    // A command that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

export interface TestKey {
  privatePath: string
  publicPath: string
  publicText: string
  fingerprint: string
}

const keyDir = mkdtempSync(join(tmpdir(), 'bastion-keys-'))
process.on('exit', () => rmSync(keyDir, {recursive: true, force: true}))
let keyCount = 0

/** A fresh key pair made by the real ssh-keygen; fingerprint as `ssh-keygen -lf` prints it. */
export function makeKey(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', comment = `test-${type}-${keyCount}`, bits?: number): TestKey {
  const base = join(keyDir, `key${keyCount++}`)
  const args = ['-q', '-t', type, '-N', '', '-C', comment, '-f', base]
  if (bits) args.push('-b', String(bits))
  const r = spawnSync('ssh-keygen', args, {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`)
  const fp = spawnSync('ssh-keygen', ['-lf', `${base}.pub`], {encoding: 'utf8'}).stdout.split(' ')[1] ?? ''
  return {privatePath: base, publicPath: `${base}.pub`, publicText: readFileSync(`${base}.pub`, 'utf8'), fingerprint: fp}
}
