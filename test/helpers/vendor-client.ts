/** The vendor's side of a tunnel, as its SSH client behaves: log in with its key, open direct-tcpip channels. */
import {readFileSync} from 'node:fs'
import ssh2 from 'ssh2'
import {sha256Fingerprint} from '../../src/ssh/fingerprint.js'
import type {ClientChannel} from 'ssh2'

const {Client, BaseAgent} = ssh2 as unknown as {Client: typeof ssh2.Client; BaseAgent: new () => object}

/** An empty agent: enough for the client to ask the server for agent forwarding. */
class EmptyAgent extends (BaseAgent as unknown as new () => {getIdentities(cb: (e: Error | null, keys?: unknown[]) => void): void}) {
  override getIdentities(cb: (e: Error | null, keys?: unknown[]) => void): void {
    cb(null, [])
  }
  sign(_pub: unknown, _data: Buffer, _opts: unknown, cb: (e: Error) => void): void {
    cb(new Error('empty agent'))
  }
}

export interface VendorSession {
  client: ssh2.Client
  /** Open a direct-tcpip channel like `ssh -L` does; resolves with the channel or rejects with the server's reason. */
  tunnel(host: string, port: number): Promise<ClientChannel>
  /** Run a command (the vendor should get nologin's refusal). */
  exec(command: string, opts?: {pty?: boolean; agentForward?: boolean}): Promise<{code: number | null; output: string; error?: Error}>
  close(): void
}

export function vendorLogin(opts: {host: string; port: number; user: string; privateKeyPath: string; hostKeyFingerprint: string}): Promise<VendorSession> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    client
      .on('ready', () => {
        resolve({
          client,
          tunnel: (host, port) =>
            new Promise((res, rej) => client.forwardOut('127.0.0.1', 40000, host, port, (err, ch) => (err ? rej(err) : res(ch)))),
          exec: (command, o = {}) =>
            new Promise((res) => {
              client.exec(command, {pty: o.pty ?? false, agentForward: o.agentForward ?? false} as ssh2.ExecOptions, (err, stream) => {
                if (err) return res({code: null, output: '', error: err})
                let output = ''
                let code: number | null = null
                stream.on('data', (d: Buffer) => (output += d.toString()))
                stream.stderr.on('data', (d: Buffer) => (output += d.toString()))
                stream.on('exit', (c: number | null) => (code = c))
                stream.on('close', () => res({code, output}))
              })
            }),
          close: () => client.end(),
        })
      })
      .on('error', reject)
      .connect({
        host: opts.host,
        port: opts.port,
        username: opts.user,
        privateKey: readFileSync(opts.privateKeyPath),
        agent: new EmptyAgent() as never,
        readyTimeout: 15_000,
        hostVerifier: (key: Buffer) => sha256Fingerprint(key) === opts.hostKeyFingerprint,
      })
  })
}

/** Read from a channel until `predicate(text)` holds (or time out). */
export function readUntil(ch: ClientChannel, predicate: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const t = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(text)}`)), timeoutMs)
    ch.on('data', (d: Buffer) => {
      text += d.toString()
      if (predicate(text)) {
        clearTimeout(t)
        resolve(text)
      }
    })
  })
}
