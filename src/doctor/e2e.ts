/**
 * doctor --e2e: the real path a vendor takes. A short-lived key (tagged, expiring, always removed) is added to the
 * vendor's authorized_keys — nothing else is touched, so the test sees the host as the vendor does; then, through the admin's SSH connection, we log in AS the vendor to the bastion's own sshd and open a
 * direct-tcpip channel to each database, exactly as the vendor's client would.
 */
import ssh2 from 'ssh2'
import type {ClientChannel} from 'ssh2'
import {sha256Fingerprint} from '../ssh/fingerprint.js'
import {generateEd25519} from '../ssh/keygen.js'
import type {SshSession} from '../ssh/types.js'
import {parsePublicKey} from '../access/keys.js'
import {checkScriptRun, renderScript} from '../remote/script.js'
import {planAdd} from '../access/service.js'
import {type ScriptRunner} from '../remote/run.js'
import type {DoctorInput, Finding, HostFacts} from './types.js'

const {Client} = ssh2

const E2E_COMMENT = 'bastion-doctor-e2e'

/** SSH channel-open failure reasons (RFC 4254 5.1). */
const OPEN_FAILURE: Record<number, string> = {
  1: 'administratively prohibited',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
}

function yyyymmdd(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '')
}

function openChannel(client: ssh2.Client, host: string, port: number, timeoutMs: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), {timeout: true})), timeoutMs)
    client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
      clearTimeout(t)
      if (err) reject(err)
      else resolve(ch)
    })
  })
}

function loginAsVendor(sock: ClientChannel, user: string, privateKey: string, hostKey: string, timeoutMs: number): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    client
      .on('ready', () => resolve(client))
      .on('error', (err) => reject(err))
      .connect({
        sock,
        username: user,
        privateKey,
        readyTimeout: timeoutMs,
        // The same sshd the admin session verified: accept exactly that host key.
        hostVerifier: (key: Buffer) => sha256Fingerprint(key) === hostKey,
      })
  })
}

export interface E2EOptions {
  timeoutMs?: number
  now?: Date
}

/** Run the end-to-end tunnel test. Never leaves the temporary key behind (removed in `finally`). */
export async function runE2E(session: SshSession, run: ScriptRunner, input: DoctorInput, facts: HostFacts, opts: E2EOptions = {}): Promise<Finding[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const findings: Finding[] = []
  if (!facts.user.exists) {
    return [{id: 'e2e.login', area: 'e2e', status: 'skip', title: 'the vendor logs in through the bastion', seen: `user ${input.vendor} does not exist`}]
  }
  if (input.dbs.length === 0) {
    return [{id: 'e2e.login', area: 'e2e', status: 'skip', title: 'the vendor logs in through the bastion', seen: 'no --db given: nothing to tunnel to'}]
  }
  const now = opts.now ?? facts.now
  const pair = generateEd25519(E2E_COMMENT)
  const key = parsePublicKey(pair.publicKey).key
  // A date two days on: expiry-time is read in the host's time zone, so a finer one could already be past there.
  // The key is removed at the end anyway; the expiry only guards against a doctor killed mid-way.
  const plan = planAdd({
    vendor: input.vendor,
    key,
    permitOpen: input.dbs,
    expiryTime: yyyymmdd(new Date(now.getTime() + 2 * 86_400_000)),
    today: now.toISOString().slice(0, 10),
  })
  const sshPort = input.sshPort
  const file = facts.authorizedKeys.find((a) => a.stat.exists && a.stat.type === 'file')?.path
  if (!file) {
    return [{id: 'e2e.login', area: 'e2e', status: 'skip', title: 'the vendor logs in through the bastion', seen: 'the vendor has no authorized_keys file to add a test key to'}]
  }
  const keyScript = (mode: 'add' | 'remove') =>
    renderScript('doctor-e2e-key.sh', {VENDOR: input.vendor, MODE: mode, FILE: file, LINE: plan.line, KEY_B64: key.base64})
  let vendor: ssh2.Client | undefined
  checkScriptRun(session.target.input, 'doctor-e2e-key.sh', await run(keyScript('add')))
  try {
    // Reach sshd where it listens for the vendor's port, as seen from the bastion itself.
    const listen = facts.sshd.listening.find((l) => l.port === sshPort)?.address ?? '127.0.0.1'
    const sshdAddress = listen === '0.0.0.0' || listen === '*' ? '127.0.0.1' : listen === '::' || listen === '[::]' ? '::1' : listen.replace(/^\[|\]$/g, '')
    let sock: ClientChannel
    try {
      sock = await session.forwardOut(sshdAddress, sshPort)
    } catch (err) {
      findings.push({
        id: 'e2e.login',
        area: 'e2e',
        status: 'skip',
        title: `the vendor logs in to ${sshdAddress}:${sshPort} on the bastion`,
        seen: `the admin connection may not forward to the bastion's own sshd: ${(err as Error).message}`,
        why: 'the end-to-end test reaches sshd through the admin connection; the other checks still apply',
      })
      return findings
    }
    try {
      vendor = await loginAsVendor(sock, input.vendor, pair.privateKey, session.hostKeyFingerprint, timeoutMs)
    } catch (err) {
      findings.push({
        id: 'e2e.login',
        area: 'e2e',
        status: 'fail',
        title: `the vendor user ${input.vendor} logs in with a key`,
        seen: `login refused: ${(err as Error).message}`,
        why: 'the vendor would see "Permission denied (publickey)": see the sshd, user and files findings for the reason',
        fix: {command: `sudo grep -E 'sshd.*${input.vendor}' /var/log/auth.log /var/log/secure 2>/dev/null | tail -20   # sshd's own reason`},
      })
      return findings
    }
    findings.push({id: 'e2e.login', area: 'e2e', status: 'pass', title: `the vendor user ${input.vendor} logs in with a key`, seen: 'accepted'})
    for (const db of input.dbs) {
      const title = `a tunnel to ${db.text} opens, as the vendor's client opens it`
      try {
        const ch = await openChannel(vendor, db.host, db.port, timeoutMs)
        ch.close()
        findings.push({id: 'e2e.tunnel', area: 'e2e', status: 'pass', title, seen: 'direct-tcpip channel accepted and connected'})
      } catch (err) {
        const e = err as Error & {reason?: number; timeout?: boolean}
        const reason = e.reason !== undefined ? (OPEN_FAILURE[e.reason] ?? `reason ${e.reason}`) : e.timeout ? 'timed out' : e.message
        const prohibited = e.reason === 1
        findings.push({
          id: 'e2e.tunnel',
          area: 'e2e',
          status: 'fail',
          title,
          seen: `channel open failed: ${reason}${e.message && e.reason !== undefined ? ` (${e.message})` : ''}`,
          why: prohibited
            ? 'sshd refused the forwarding: AllowTcpForwarding / DisableForwarding / PermitOpen for this user (see the sshd findings)'
            : 'sshd accepted the request but could not connect to the database from the bastion (see the network findings)',
          fix: {
            command: prohibited
              ? `sudo sshd -T -C user=${input.vendor},addr=${input.vendorIps[0]?.split('/')[0] ?? '192.0.2.1'},host=x,laddr=0.0.0.0,lport=${sshPort} | grep -Ei 'allowtcpforwarding|disableforwarding|permitopen'`
              : `nc -vz -w 5 ${db.host} ${db.port}   # on the bastion`,
          },
        })
      }
    }
  } finally {
    vendor?.end()
    checkScriptRun(session.target.input, 'doctor-e2e-key.sh', await run(keyScript('remove')))
  }
  return findings
}
