/**
 * bastion tunnel on real hosts: a booted lab (Debian with systemd as pid 1) is the host inside the network, a second
 * (sshd-only) lab is the vendor's tunnel server, where the tunnel's key may log in as a user that can only listen on
 * its one remote port (restrict,port-forwarding,permitlisten=…). The two labs reach each other through a relay of the
 * test process on the booted lab's host-side address (see relay.ts: labs have no route to one another).
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {startBootedLab, type BootedLabHost} from '../lab/booted.js'
import {connectionArgs, startLab, type LabHost} from '../lab/lab.js'
import {isolatedHome, runCli, type CliRun} from '../helpers/cli.js'
import {startRelay, type Relay} from './relay.js'
import {assertValid} from '../schema/validate.js'

const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
const PORT = 15432
const WRONG_PORT = 15433

let inside: BootedLabHost
let vendor: LabHost
let relay: Relay
let home: string

const cli = (args: string[], timeoutMs = 180_000): Promise<CliRun> => runCli(args, {home, timeoutMs})
const onInside = (...args: string[]) => [...args, ...connectionArgs(inside)]
function addArgs(name: string, port: number, ...extra: string[]): string[] {
  return onInside('tunnel', 'add', '--name', name, '--server', relay.host, '--server-port', String(relay.port), '--server-user', 'tunnel',
    '--remote-port', String(port), '--db', `${inside.db.host}:${inside.db.port}`, ...extra)
}

async function must(lab: LabHost, command: string): Promise<string> {
  const r = await lab.exec(command, undefined, {timeoutMs: 60_000})
  assert.equal(r.code, 0, `${command}: ${r.stderr}${r.stdout}`)
  return r.stdout.trim()
}

/** What a vendor's client gets from the remote port on the vendor's server ('' when nothing answers there). */
async function throughTunnel(port = PORT): Promise<string> {
  const r = await vendor.exec(`timeout 5 nc 127.0.0.1 ${port} </dev/null`, undefined, {timeoutMs: 20_000})
  return r.stdout.trim()
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  for (const t = Date.now(); !(await check()); await sleep(500)) {
    if (Date.now() - t > timeoutMs) assert.fail(`${what} (waited ${timeoutMs} ms)`)
  }
}

async function mainPid(name: string): Promise<number> {
  return Number(await must(inside, `systemctl show -p MainPID --value bastion-tunnel@${name}.service`))
}

before(async () => {
  home = isolatedHome()
  ;[inside, vendor] = await Promise.all([startBootedLab({name: 'inside'}), startLab({name: 'vendor'})])
  relay = await startRelay(`10.231.${inside.slot}.1`, {host: vendor.address, port: vendor.port})
})

after(async () => {
  await relay?.close()
  await Promise.all([inside?.stop(), vendor?.stop()])
})

describe('bastion tunnel on a booted host, with a vendor tunnel server', () => {
  let publicKey = ''

  it('add: pins the server key fetched by fingerprint, makes the key on the host, runs the service; the vendor does not know the key yet, and status says so', async () => {
    const r = await cli([...addArgs('warehouse', PORT, '--server-host-key-fingerprint', vendor.hostKeyFingerprint), '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assertValid('tunnel-add', r.json)
    const res = r.json.hosts[0].result
    assert.equal(res.hostKey.source, 'fetched')
    assert.equal(res.hostKey.fingerprint, vendor.hostKeyFingerprint)
    assert.equal(res.key, 'created')
    assert.match(res.publicKey, /^ssh-ed25519 AAAA\S+ bastion-tunnel:warehouse@inside$/)
    publicKey = res.publicKey
    assert.equal(await must(inside, 'stat -c "%a %U" /var/lib/bastion-tunnel/warehouse/id_ed25519'), '600 bastion-tunnel')
    assert.match(await must(inside, 'getent passwd bastion-tunnel'), /:\/var\/lib\/bastion-tunnel:\/usr\/sbin\/nologin$/)
    assert.equal(await must(inside, 'systemctl is-enabled bastion-tunnel@warehouse.service'), 'enabled')
    const pinned = await must(inside, 'cat /etc/bastion/tunnels/warehouse.known_hosts')
    assert.equal(pinned, `[${relay.host}]:${relay.port} ${vendor.knownHostsLines[0]?.split(' ').slice(1).join(' ')}`)
    await until('ssh tried to log in and was refused', async () => {
      const s = await cli([...onInside('tunnel', 'status', '--name', 'warehouse'), '--json'])
      return s.json?.hosts?.[0]?.result?.tunnels?.[0]?.problem?.code === 'auth'
    })
  })

  it('once the vendor has the key, a client on the vendor server reaches the database through the remote port', async () => {
    await must(vendor, [
      'useradd -m -s /usr/sbin/nologin tunnel',
      "usermod -p '*' tunnel",
      'install -d -m 700 -o tunnel -g tunnel /home/tunnel/.ssh',
      `printf '%s\\n' 'restrict,port-forwarding,permitlisten="localhost:${PORT}",command="/bin/false" ${publicKey}' > /home/tunnel/.ssh/authorized_keys`,
      'chown tunnel:tunnel /home/tunnel/.ssh/authorized_keys',
      'chmod 600 /home/tunnel/.ssh/authorized_keys',
    ].join(' && '))
    await until('the database answers on the vendor server', async () => (await throughTunnel()) === `bastion-lab-db ${inside.name}`)
    const s = await cli([...onInside('tunnel', 'status', '--name', 'warehouse'), '--json'])
    assert.equal(s.code, 0, s.stdout)
    assertValid('tunnel-status', s.json)
    const t = s.json.hosts[0].result.tunnels[0]
    assert.equal(t.forward, 'established')
    assert.equal(t.unit.active, 'active')
    assert.ok(t.since)
    assert.equal(t.connections[0].peer, `${relay.host}:${relay.port}`)
    const d = await cli([...onInside('doctor', '--tunnel', 'warehouse'), '--json'])
    assert.equal(d.code, 0, d.stdout)
    assertValid('doctor', d.json)
    assert.deepEqual(d.json.hosts[0].findings.filter((f: {status: string}) => f.status !== 'pass'), [])
    assert.equal(d.json.tunnel, 'warehouse')
  })

  it("ssh runs as bastion-tunnel under systemd's sandbox: no new privileges, a seccomp filter, no capabilities, nothing it may write", async () => {
    const pid = await mainPid('warehouse')
    const status = await must(inside, `cat /proc/${pid}/status`)
    assert.match(status, /^NoNewPrivs:\s+1$/m)
    assert.match(status, /^Seccomp:\s+2$/m)
    assert.match(status, /^CapEff:\s+0+$/m)
    assert.match(status, /^CapBnd:\s+0+$/m)
    assert.equal(await must(inside, `ps -o user= -p ${pid}`), 'bastion-tunnel')
    const write = await inside.exec(`nsenter -t ${pid} -m setpriv --reuid=bastion-tunnel --regid=bastion-tunnel --clear-groups touch /var/lib/bastion-tunnel/.ssh/probe`)
    assert.notEqual(write.code, 0, 'the tunnel account could write in its (read-only) home')
    assert.match(write.stderr, /Read-only file system/)
  })

  it('re-running add changes nothing: same files, same key, the running ssh left alone', async () => {
    const pid = await mainPid('warehouse')
    const r = await cli([...addArgs('warehouse', PORT, '--server-host-key-fingerprint', vendor.hostKeyFingerprint), '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const res = r.json.hosts[0].result
    assert.deepEqual(res.files, {conf: 'unchanged', knownHosts: 'unchanged', unit: 'unchanged'})
    assert.equal(res.service, 'unchanged')
    assert.equal(res.key, 'present')
    assert.equal(res.publicKey, publicKey)
    assert.equal(await mainPid('warehouse'), pid)
  })

  it('after kill -9 of the tunnel ssh, systemd starts it again and the database is reachable again', async () => {
    const pid = await mainPid('warehouse')
    const restarts = Number(await must(inside, 'systemctl show -p NRestarts --value bastion-tunnel@warehouse.service'))
    await must(inside, `kill -9 ${pid}`)
    await until('a new ssh runs', async () => {
      const now = await mainPid('warehouse')
      return now !== 0 && now !== pid
    })
    await until('the database answers again on the vendor server', async () => (await throughTunnel()) === `bastion-lab-db ${inside.name}`)
    assert.ok(Number(await must(inside, 'systemctl show -p NRestarts --value bastion-tunnel@warehouse.service')) > restarts)
  })

  it('a wrong pinned host key: ssh refuses the server, nothing listens for the vendor, and status and doctor say the host key is why', async () => {
    const r = await cli([...addArgs('wrongkey', WRONG_PORT, '--server-host-key', OTHER_KEY, '--wait', '3'), '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    await until('status names the host key', async () => {
      const s = await cli([...onInside('tunnel', 'status', '--name', 'wrongkey'), '--json'])
      return s.code === 1 && s.json?.hosts?.[0]?.result?.tunnels?.[0]?.problem?.code === 'host-key'
    })
    const d = await cli([...onInside('doctor', '--tunnel', 'wrongkey'), '--json'])
    assert.equal(d.code, 1)
    assertValid('doctor', d.json)
    const failed = d.json.hosts[0].findings.filter((f: {status: string}) => f.status === 'fail').map((f: {id: string}) => f.id)
    assert.ok(failed.includes('tunnel.host_key'), failed.join(' '))
    assert.ok(failed.includes('tunnel.forward'), failed.join(' '))
    assert.equal(await throughTunnel(WRONG_PORT), '')
    const human = await cli(onInside('tunnel', 'status', '--name', 'wrongkey'))
    assert.match(human.stdout, /why: the server's host key is not the pinned one/)
  })

  it('a planted symbolic link where a tunnel file goes: refused, nothing written through it', async () => {
    await must(inside, 'ln -s /etc/shadow /etc/bastion/tunnels/planted.known_hosts')
    const before = await must(inside, 'sha256sum /etc/shadow')
    const r = await cli([...addArgs('planted', WRONG_PORT, '--server-host-key', OTHER_KEY), '--json'])
    assert.equal(r.code, 8, r.stdout)
    assert.equal(r.json.hosts[0].error.code, 'REMOTE_SYMLINK')
    assert.equal(await must(inside, 'sha256sum /etc/shadow'), before)
    assert.equal(await must(inside, 'ls /etc/bastion/tunnels /var/lib/bastion-tunnel | grep -c "^planted" || true'), '1')
    assert.equal(await must(inside, 'systemctl is-enabled bastion-tunnel@planted.service || true'), 'disabled')
    await must(inside, 'rm /etc/bastion/tunnels/planted.known_hosts')
  })

  it('a fingerprint the server does not have: refused before anything is made, nothing left of that tunnel', async () => {
    const r = await cli([...addArgs('mismatch', WRONG_PORT, '--server-host-key-fingerprint', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), '--json'])
    assert.equal(r.code, 8, r.stdout)
    assert.equal(r.json.hosts[0].error.code, 'REMOTE_HOST_KEY_MISMATCH')
    assert.match(r.json.hosts[0].error.message, new RegExp(vendor.hostKeyFingerprint.replace(/[+/]/g, '\\$&')))
    assert.equal(await must(inside, 'ls /etc/bastion/tunnels /var/lib/bastion-tunnel | grep -c mismatch || true'), '0')
  })

  it("doctor tells a refused, a silent and an unresolvable server apart (from the tunnel host)", async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['refused', inside.closedPort.host, inside.closedPort.port, /refused the connection/],
      ['silent', inside.timeoutEndpoint.host, inside.timeoutEndpoint.port, /timed out/],
      ['nodns', inside.unresolvableName, 22, /does not resolve/],
    ]
    for (const [name, server, port, seen] of cases) {
      const a = await cli(onInside('tunnel', 'add', '--name', name, '--server', server, '--server-port', String(port), '--server-user', 'tunnel',
        '--remote-port', '15999', '--db', `${inside.db.host}:${inside.db.port}`, '--server-host-key', OTHER_KEY, '--wait', '0'))
      assert.equal(a.code, 0, a.stderr)
      const d = await cli([...onInside('doctor', '--tunnel', name), '--json'])
      const f = d.json.hosts[0].findings.find((x: {id: string}) => x.id === 'tunnel.server')
      assert.equal(f.status, 'fail', name)
      assert.match(f.seen, seen, name)
      assert.equal(d.json.hosts[0].findings.find((x: {id: string}) => x.id === 'tunnel.db').status, 'pass')
    }
  })

  it('list shows every tunnel on the host', async () => {
    const r = await cli([...onInside('tunnel', 'list'), '--json'])
    assert.equal(r.code, 0, r.stderr)
    assertValid('tunnel-list', r.json)
    const names = r.json.hosts[0].result.tunnels.map((t: {name: string}) => t.name).sort()
    assert.deepEqual(names, ['nodns', 'refused', 'silent', 'warehouse', 'wrongkey'])
  })

  it('remove stops the tunnel and keeps its key; --purge of every tunnel leaves nothing behind', async () => {
    const r = await cli([...onInside('tunnel', 'remove', '--name', 'warehouse'), '--json'])
    assert.equal(r.code, 0, r.stderr)
    assertValid('tunnel-remove', r.json)
    assert.equal(r.json.hosts[0].result.keptKey, '/var/lib/bastion-tunnel/warehouse/id_ed25519')
    await until('nothing answers for the vendor any more', async () => (await throughTunnel()) === '')
    for (const name of ['warehouse', 'wrongkey', 'refused', 'silent', 'nodns']) {
      const p = await cli([...onInside('tunnel', 'remove', '--name', name, '--purge'), '--json'])
      assert.equal(p.code, 0, p.stderr + p.stdout)
      assert.deepEqual(p.json.hosts[0].result.warnings, [])
    }
    assert.equal(await must(inside, 'ls -d /etc/bastion /var/lib/bastion-tunnel /etc/systemd/system/bastion-tunnel* /etc/systemd/system/*.wants/bastion-tunnel* 2>/dev/null || true'), '')
    assert.equal(await must(inside, 'getent passwd bastion-tunnel; getent group bastion-tunnel; true'), '')
    assert.equal(await must(inside, "systemctl list-units --all --plain --no-legend 'bastion-tunnel@*'"), '')
    assert.equal(await must(inside, 'pgrep -a -x ssh || true'), '')
    const again = await cli([...onInside('tunnel', 'remove', '--name', 'warehouse', '--purge'), '--json'])
    assert.equal(again.json.hosts[0].result.absent, true)
  })

  it('a host without systemd gets a clear error, and nothing is made there', async () => {
    const r = await cli(['tunnel', 'add', ...connectionArgs(vendor), '--name', 'x', '--server', 'tunnel.vendor.example', '--server-user', 'u',
      '--remote-port', '1', '--db', '10.0.0.1:5432', '--server-host-key', OTHER_KEY, '--json'])
    assert.equal(r.code, 8, r.stdout)
    assert.equal(r.json.hosts[0].error.code, 'REMOTE_NO_SYSTEMD')
    assert.match(r.json.hosts[0].error.message, /does not run systemd/)
    assert.equal(await must(vendor, 'ls -d /etc/bastion /var/lib/bastion-tunnel 2>/dev/null; getent passwd bastion-tunnel; true'), '')
  })
})
