import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import type {ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer, connect as netConnect} from 'node:net'
import type {Server, Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {classifyConnectError, connect, hostKeyAlgorithmOrder} from '../../src/ssh/connection.js'
import type {ConnectionOptions} from '../../src/ssh/types.js'
import {freePort, makeKey, startLocalSshd} from './local-sshd.js'
import type {KeyPair, LocalSshd} from './local-sshd.js'

let sshd: LocalSshd
let tmp: string
let otherKey: KeyPair
let wrongClient: KeyPair
let encryptedClient: KeyPair
const realHome = process.env.HOME

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bastion-conn-'))
  process.env.HOME = tmp // no default identities, no real known_hosts
  sshd = await startLocalSshd({hostKeyTypes: ['ed25519', 'ecdsa']})
  otherKey = await makeKey(join(tmp, 'other_host'), 'ed25519')
  wrongClient = await makeKey(join(tmp, 'wrong_client'), 'ed25519', '', 'wrong')
  encryptedClient = await makeKey(join(tmp, 'encrypted_client'), 'ed25519', 'secret-passphrase', 'enc')
})
after(async () => {
  await sshd?.stop()
  process.env.HOME = realHome
  rmSync(tmp, {recursive: true, force: true})
})

let n = 0
/** A fresh known_hosts path (not created) and base options: our client key, no agent. */
function opts(extra: ConnectionOptions = {}, knownHostsText?: string): ConnectionOptions & {knownHostsFiles: string[]} {
  const file = join(tmp, `known_hosts_${++n}`)
  if (knownHostsText !== undefined) writeFileSync(file, knownHostsText)
  return {identityFiles: [sshd.clientKey.path], agentSocket: '', knownHostsFiles: [file], connectTimeoutMs: 5000, ...extra}
}
const target = () => `root@127.0.0.1:${sshd.port}`
const ecdsa = () => sshd.hostKeys[1] as KeyPair

async function rejectsWith(p: Promise<unknown>, code: string, exit: number): Promise<BastionError> {
  try {
    await p
  } catch (error) {
    assert.ok(error instanceof BastionError, `expected BastionError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    assert.equal(error.exit, exit)
    assert.ok(error.suggestions.length > 0, 'has suggestions')
    return error
  }
  assert.fail(`expected ${code}`)
}

describe('host key verification', () => {
  test('connects with a pinned key, runs a command and reports the fingerprint', async () => {
    const s = await connect(target(), opts({hostKeyPins: [sshd.hostKey.fingerprint]}))
    try {
      assert.equal(s.hostKeyFingerprint, sshd.hostKey.fingerprint)
      const r = await s.exec('echo out; echo err >&2; exit 3')
      assert.deepEqual(r, {code: 3, stdout: 'out\n', stderr: 'err\n'})
    } finally {
      s.close()
    }
  })

  test('a pin for another key type of the same host works (the server is asked for that type)', async () => {
    const s = await connect(target(), opts({hostKeyPins: [ecdsa().fingerprint]}))
    assert.equal(s.hostKeyFingerprint, ecdsa().fingerprint)
    s.close()
  })

  test('a pin that matches none of the host keys is refused (HOST_KEY_MISMATCH) listing what the host presented', async () => {
    const e = await rejectsWith(connect(target(), opts({hostKeyPins: [otherKey.fingerprint]})), 'HOST_KEY_MISMATCH', Exit.HOST_KEY)
    assert.ok(e.message.includes(sshd.hostKey.fingerprint) && e.message.includes(ecdsa().fingerprint), e.message)
  })

  test('a key in known_hosts matches', async () => {
    const s = await connect(target(), opts({}, `${sshd.knownHostsLine()}\n`))
    assert.equal(s.hostKeyFingerprint, sshd.hostKey.fingerprint)
    s.close()
  })

  test('when known_hosts holds only the ECDSA key, the ECDSA key is negotiated (not reported as changed)', async () => {
    const s = await connect(target(), opts({}, `${sshd.knownHostsLine(ecdsa())}\n`))
    assert.equal(s.hostKeyFingerprint, ecdsa().fingerprint)
    s.close()
  })

  test('an unknown host is refused with HOST_KEY_UNKNOWN, its fingerprint and both ways to trust it; nothing is written', async () => {
    const o = opts()
    const e = await rejectsWith(connect(target(), o), 'HOST_KEY_UNKNOWN', Exit.HOST_KEY)
    assert.ok(e.message.includes(sshd.hostKey.fingerprint), e.message)
    assert.ok(e.message.includes(sshd.knownHostsName))
    const s = e.suggestions.join('\n')
    assert.ok(s.includes(`--host-key ${sshd.hostKey.fingerprint}`), s)
    assert.ok(s.includes('--accept-new'), s)
    assert.ok(!existsSync(o.knownHostsFiles[0] as string))
  })

  test('--accept-new records the key (file 0600) and the next connection matches it without --accept-new', async () => {
    const o = opts({acceptNew: true})
    const file = o.knownHostsFiles[0] as string
    const s = await connect(target(), o)
    s.close()
    assert.equal(readFileSync(file, 'utf8'), `${sshd.knownHostsLine()}\n`)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const again = await connect(target(), {...o, acceptNew: false})
    assert.equal(again.hostKeyFingerprint, sshd.hostKey.fingerprint)
    again.close()
    assert.equal(readFileSync(file, 'utf8'), `${sshd.knownHostsLine()}\n`, 'not recorded twice')
  })

  test('a changed key is refused even with --accept-new: OpenSSH-style warning, file:line of the old key, ssh-keygen -R', async () => {
    const text = `# old entry below\n${sshd.knownHostsLine(otherKey)}\n`
    const o = opts({acceptNew: true}, text)
    const file = o.knownHostsFiles[0] as string
    const e = await rejectsWith(connect(target(), o), 'HOST_KEY_CHANGED', Exit.HOST_KEY)
    assert.match(e.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/)
    assert.ok(e.message.includes(sshd.hostKey.fingerprint), 'presented fingerprint')
    assert.ok(e.message.includes(`${file}:2`), 'file:line of the old entry')
    assert.ok(e.suggestions.some((x) => x.includes(`ssh-keygen -R "${sshd.knownHostsName}"`)), e.suggestions.join('\n'))
    assert.equal(readFileSync(file, 'utf8'), text, 'known_hosts untouched')
  })

  test('a @revoked key is refused (HOST_KEY_REVOKED)', async () => {
    await rejectsWith(connect(target(), opts({acceptNew: true}, `${sshd.knownHostsLine()}\n@revoked * ${sshd.hostKey.type} ${sshd.hostKey.base64}\n`)), 'HOST_KEY_REVOKED', Exit.HOST_KEY)
  })
})

describe('authentication', () => {
  test('a key the server does not accept gives AUTH_REFUSED naming the user, the key fingerprint and the server\'s methods', async () => {
    const e = await rejectsWith(connect(target(), opts({identityFiles: [wrongClient.path], hostKeyPins: [sshd.hostKey.fingerprint]})), 'AUTH_REFUSED', Exit.AUTH)
    assert.ok(e.message.includes('"root"'), e.message)
    assert.ok(e.message.includes(wrongClient.fingerprint), e.message)
    assert.match(e.message, /accepts: publickey/)
  })

  test('an encrypted key alone is a clear KEY_ENCRYPTED error; next to a usable key it is skipped with a note', async () => {
    const e = await rejectsWith(connect(target(), opts({identityFiles: [encryptedClient.path], hostKeyPins: [sshd.hostKey.fingerprint]})), 'KEY_ENCRYPTED', Exit.AUTH)
    assert.ok(e.suggestions.some((s) => s.includes(`ssh-add ${encryptedClient.path}`)))
    const s = await connect(target(), opts({identityFiles: [encryptedClient.path, sshd.clientKey.path], hostKeyPins: [sshd.hostKey.fingerprint]}))
    assert.ok(s.notes.some((x) => x.includes(encryptedClient.path) && /passphrase/.test(x)), s.notes.join('\n'))
    s.close()
  })

  test('keys held by ssh-agent are used (after the wrong key file fails)', async () => {
    const sock = join(tmp, 'agent.sock')
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], {stdio: 'ignore'})
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20))
      await new Promise<void>((resolve, reject) => {
        const add = spawn('ssh-add', [sshd.clientKey.path], {env: {...process.env, SSH_AUTH_SOCK: sock}, stdio: 'ignore'})
        add.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh-add exited ${code}`))))
      })
      const s = await connect(target(), opts({agentSocket: sock, identityFiles: [wrongClient.path], hostKeyPins: [sshd.hostKey.fingerprint]}))
      assert.equal((await s.exec('echo agent-ok')).stdout, 'agent-ok\n')
      s.close()
    } finally {
      agent.kill()
    }
  })
})

describe('network failures', () => {
  test('a port with nothing listening is UNREACHABLE: "nothing listening on host:port"', async () => {
    const port = await freePort()
    const e = await rejectsWith(connect(`root@127.0.0.1:${port}`, opts()), 'UNREACHABLE', Exit.UNREACHABLE)
    assert.ok(e.message.includes(`Nothing listening on 127.0.0.1:${port}`), e.message)
    assert.match(e.message, /is sshd running\? is the port right\?/)
  })

  test('a listener that never sends the SSH banner is a TIMEOUT within the connect timeout', async () => {
    const sockets: Socket[] = []
    const server: Server = createServer((s) => sockets.push(s))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as {port: number}).port
    try {
      const t0 = Date.now()
      const e = await rejectsWith(connect(`root@127.0.0.1:${port}`, opts({connectTimeoutMs: 400, hostKeyPins: [sshd.hostKey.fingerprint]})), 'TIMEOUT', Exit.TIMEOUT)
      // Gave up on its own timeout instead of waiting for the test runner's (a bound no loaded machine comes near).
      assert.ok(Date.now() - t0 < 60_000, 'gave up on the connect timeout')
      assert.equal(e.detail?.reason, 'handshake-timeout')
      assert.match(e.message, /handshake did not finish within 400 ms/)
    } finally {
      for (const s of sockets) s.destroy()
      server.close()
    }
  })

  /** A TCP proxy to sshd that slams the first `drop` connections shut (like sshd's MaxStartups). */
  async function flakyProxy(drop: number): Promise<{port: number; seen: () => number; close: () => void}> {
    let count = 0
    const sockets: Socket[] = []
    const server = createServer((client) => {
      sockets.push(client)
      if (count++ < drop) {
        client.destroy()
        return
      }
      const upstream = netConnect(sshd.port, '127.0.0.1')
      sockets.push(upstream)
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    return {
      port: (server.address() as {port: number}).port,
      seen: () => count,
      close: () => {
        for (const s of sockets) s.destroy()
        server.close()
      },
    }
  }

  test('connections dropped before the handshake are retried (up to 3 times)', async () => {
    const proxy = await flakyProxy(2)
    try {
      const s = await connect(`root@127.0.0.1:${proxy.port}`, opts({hostKeyPins: [sshd.hostKey.fingerprint]}))
      assert.equal(proxy.seen(), 3)
      s.close()
    } finally {
      proxy.close()
    }
  })

  test('when every attempt is dropped: UNREACHABLE "closed the connection before the SSH handshake" after 4 attempts', async () => {
    const proxy = await flakyProxy(100)
    try {
      const e = await rejectsWith(connect(`root@127.0.0.1:${proxy.port}`, opts({hostKeyPins: [sshd.hostKey.fingerprint]})), 'UNREACHABLE', Exit.UNREACHABLE)
      assert.match(e.message, /closed the connection before the SSH handshake/)
      assert.equal(proxy.seen(), 4)
    } finally {
      proxy.close()
    }
  })

  test('DNS failures, no route and silent drops are told apart, each with what to check', () => {
    const base = {target: {input: 'db-jump', hostName: 'db-jump.example', port: 22, user: 'admin', identityFiles: [], knownHostsName: 'db-jump.example'}, timeoutMs: 15000, handshakeDone: false}
    const dns = classifyConnectError(Object.assign(new Error('getaddrinfo ENOTFOUND db-jump.example'), {code: 'ENOTFOUND', level: 'client-socket'}), {...base, tcpConnected: false})
    assert.equal(dns.code, 'UNREACHABLE')
    assert.match(dns.message, /Cannot resolve host name "db-jump.example"/)
    const again = classifyConnectError(Object.assign(new Error('x'), {code: 'EAI_AGAIN'}), {...base, tcpConnected: false})
    assert.match(again.message, /Cannot resolve/)
    const route = classifyConnectError(Object.assign(new Error('x'), {code: 'EHOSTUNREACH'}), {...base, tcpConnected: false})
    assert.equal(route.exit, Exit.UNREACHABLE)
    assert.match(route.message, /No route to db-jump.example:22/)
    const drop = classifyConnectError(Object.assign(new Error('Timed out while waiting for handshake'), {level: 'client-timeout'}), {...base, tcpConnected: false})
    assert.equal(drop.code, 'TIMEOUT')
    assert.equal(drop.exit, Exit.TIMEOUT)
    assert.ok(drop.suggestions.some((s) => /security group/.test(s) && /your public IP/.test(s)))
  })
})

describe('ProxyJump', () => {
  test('reaches the host through a jump host (the same sshd: jump to 127.0.0.1, then forward to 127.0.0.1:port)', async () => {
    const s = await connect(target(), opts({jump: `root@127.0.0.1:${sshd.port}`}, `${sshd.knownHostsLine()}\n`))
    try {
      assert.equal(s.hops.length, 1)
      const r = await s.exec('echo "$SSH_CONNECTION"')
      // The inner connection arrives from the jump host's forward, i.e. from 127.0.0.1 again.
      assert.match(r.stdout, /^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/)
    } finally {
      s.close()
    }
  })

  test('the jump host is verified against known_hosts too (unknown jump host refused)', async () => {
    const e = await rejectsWith(connect(target(), opts({jump: `root@127.0.0.1:${sshd.port}`, hostKeyPins: [sshd.hostKey.fingerprint]})), 'HOST_KEY_UNKNOWN', Exit.HOST_KEY)
    assert.ok(e.message.includes(sshd.knownHostsName))
  })

  test('a destination the jump host cannot reach is UNREACHABLE, saying which jump host failed', async () => {
    const closed = await freePort()
    const e = await rejectsWith(connect(`root@127.0.0.1:${closed}`, opts({jump: `root@127.0.0.1:${sshd.port}`, hostKeyPins: [sshd.hostKey.fingerprint]}, `${sshd.knownHostsLine()}\n`)), 'UNREACHABLE', Exit.UNREACHABLE)
    assert.match(e.message, new RegExp(`jump host root@127.0.0.1:${sshd.port} could not open a connection to 127.0.0.1:${closed}`))
  })
})

describe('exec', () => {
  test('stdin is delivered and closed; large output is collected whole', async () => {
    const s = await connect(target(), opts({hostKeyPins: [sshd.hostKey.fingerprint]}))
    try {
      const input = 'x'.repeat(300_000) + '\nend'
      const r = await s.exec('wc -c; head -c 200000 /dev/zero | tr "\\0" y', input)
      assert.equal(r.code, 0)
      assert.equal(r.stdout.split('\n')[0]?.trim(), String(Buffer.byteLength(input)))
      assert.equal(r.stdout.length, String(Buffer.byteLength(input)).length + 1 + 200_000)
      const sig = await s.exec('kill -TERM $$')
      assert.equal(sig.code, null)
      assert.equal(sig.signal, 'SIGTERM')
    } finally {
      s.close()
    }
  })

  test('a command that outlives commandTimeoutMs is a TIMEOUT named in a readable unit; the session stays usable', async () => {
    const s = await connect(target(), opts({hostKeyPins: [sshd.hostKey.fingerprint], commandTimeoutMs: 300}))
    try {
      const e = await rejectsWith(s.exec('sleep 60'), 'TIMEOUT', Exit.TIMEOUT)
      assert.match(e.message, /did not finish within 300 ms/)
      // A loaded machine may take longer than 300 ms for any command: the follow-up gets a generous timeout of its own.
      assert.equal((await s.exec('echo still-here', undefined, {timeoutMs: 120_000})).stdout, 'still-here\n')
    } finally {
      s.close()
    }
  })

  test('exec after close rejects with CONNECTION_LOST', async () => {
    const s = await connect(target(), opts({hostKeyPins: [sshd.hostKey.fingerprint]}))
    s.close()
    await rejectsWith(s.exec('true'), 'CONNECTION_LOST', Exit.UNREACHABLE)
  })
})

describe('hostKeyAlgorithmOrder', () => {
  test('puts algorithms for known key types first, RSA as all three signature algorithms', () => {
    assert.deepEqual(hostKeyAlgorithmOrder(['ssh-rsa']).slice(0, 4), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519'])
    assert.equal(hostKeyAlgorithmOrder([])[0], 'ssh-ed25519')
    assert.ok(!hostKeyAlgorithmOrder([], ['ssh-ed25519']).includes('ssh-ed25519'))
  })
})
