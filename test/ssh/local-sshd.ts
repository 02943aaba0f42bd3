/**
 * A throw-away OpenSSH server for integration tests: Debian's real /usr/sbin/sshd as a non-daemon child (-D -e),
 * on 127.0.0.1:<free port>, with its own host keys and authorized_keys in a temp directory, logging in as root by key.
 * It runs in a private mount namespace with a tmpfs on /run (sshd needs /run/sshd for privilege separation),
 * so nothing on the machine is changed. stop() kills it and removes the directory.
 */
import {execFile, spawn} from 'node:child_process'
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const execFileP = promisify(execFile)

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa'

export interface KeyPair {
  /** Private key path (public key at `${path}.pub`). */
  path: string
  type: string
  base64: string
  /** `SHA256:…` as ssh-keygen prints it. */
  fingerprint: string
  publicLine: string
}

export interface LocalSshd {
  host: string
  port: number
  dir: string
  hostKeys: KeyPair[]
  /** The ed25519 host key (first host key). */
  hostKey: KeyPair
  /** A client key listed in authorized_keys (root login). */
  clientKey: KeyPair
  /** `[127.0.0.1]:port` — the known_hosts name. */
  knownHostsName: string
  /** known_hosts line for one host key (default: the ed25519 one). */
  knownHostsLine(key?: KeyPair, name?: string): string
  /** Write a known_hosts file in the temp dir with the given lines; returns its path. */
  writeFile(name: string, text: string): string
  /** sshd's stderr so far (for debugging failed tests). */
  log(): string
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export async function sshKeygen(args: string[]): Promise<{stdout: string; stderr: string}> {
  return execFileP('ssh-keygen', args)
}

/** Generate a key pair (no passphrase unless given) at `path`. */
export async function makeKey(path: string, type: HostKeyType = 'ed25519', passphrase = '', comment = 'bastion-test'): Promise<KeyPair> {
  const args = ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', path]
  if (type === 'rsa') args.push('-b', '2048')
  await sshKeygen(args)
  return readKeyPair(path)
}

export async function readKeyPair(path: string): Promise<KeyPair> {
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim()
  const [type = '', base64 = ''] = publicLine.split(/\s+/)
  const {stdout} = await sshKeygen(['-l', '-E', 'sha256', '-f', `${path}.pub`])
  const fingerprint = stdout.split(/\s+/)[1] ?? ''
  return {path, type, base64, fingerprint, publicLine}
}

const running = new Set<ChildProcess>()

export interface LocalSshdOptions {
  hostKeyTypes?: HostKeyType[]
  /** Extra sshd_config lines (appended). */
  extraConfig?: string
}

export async function startLocalSshd(options: LocalSshdOptions = {}): Promise<LocalSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-sshd-'))
  const types = options.hostKeyTypes ?? ['ed25519']
  const hostKeys: KeyPair[] = []
  for (const t of types) hostKeys.push(await makeKey(join(dir, `ssh_host_${t}_key`), t, '', 'host'))
  const clientKey = await makeKey(join(dir, 'client_ed25519'), 'ed25519', '', 'client')
  writeFileSync(join(dir, 'authorized_keys'), `${clientKey.publicLine}\n`, {mode: 0o600})
  const port = await freePort()
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    ...hostKeys.map((k) => `HostKey ${k.path}`),
    'PidFile none',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    'MaxStartups 100',
    'MaxSessions 50',
    'LogLevel VERBOSE',
    options.extraConfig ?? '',
  ].join('\n') + '\n'
  const configPath = join(dir, 'sshd_config')
  writeFileSync(configPath, config)
  // Private mount namespace: a tmpfs on /run gives sshd its /run/sshd without touching the machine.
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && exec /usr/sbin/sshd -D -e -f "$1"', 'sh', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  running.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10s:\n${stderr}`)), 10_000)
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk
      if (/Server listening on/.test(stderr)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`sshd exited (${code}) before listening:\n${stderr}`))
    })
  })
  const knownHostsName = `[127.0.0.1]:${port}`
  const hostKey = hostKeys[0] as KeyPair
  return {
    host: '127.0.0.1',
    port,
    dir,
    hostKeys,
    hostKey,
    clientKey,
    knownHostsName,
    knownHostsLine: (key = hostKey, name = knownHostsName) => `${name} ${key.type} ${key.base64}`,
    writeFile(name: string, text: string): string {
      const p = join(dir, name)
      writeFileSync(p, text)
      return p
    },
    log: () => stderr,
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()))
        child.kill('SIGTERM')
        let timer: NodeJS.Timeout | undefined
        await Promise.race([exited, new Promise((r) => {
          timer = setTimeout(r, 3000)
        })])
        clearTimeout(timer)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      running.delete(child)
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

process.once('exit', () => {
  for (const c of running) {
    try {
      c.kill('SIGKILL')
    } catch {}
  }
})
