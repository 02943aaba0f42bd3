/**
 * `npm run demo`: the main job, end to end, on throw-away lab hosts.
 * A lab bastion (Debian's real sshd) and a lab PostgreSQL; bastion add-vendor-key against the bastion; the vendor's
 * own OpenSSH client opening its tunnel and running a real query through it; the refusals a vendor gets; doctor
 * finding a real breakage and --fix repairing it; off-boarding (the key, then the account); then the other way in: a
 * reverse tunnel from a booted host (systemd as pid 1) to the vendor's server, run by systemd, surviving kill -9;
 * teardown.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {packageRoot} from '../src/paths.js'
import {connectionArgs, startLab, type LabHost} from '../test/lab/lab.js'
import {startBootedLab, type BootedLabHost} from '../test/lab/booted.js'
import {startRelay, type Relay} from '../test/tunnel/relay.js'

const bold = (t: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${t}\x1b[0m` : t)
const step = (n: number, t: string) => console.log(`\n${bold(`── ${n}. ${t}`)}`)
const quote = (a: string) => (!/[\s"'$]/.test(a) ? a : a.includes("'") ? `"${a.replace(/(["\\$`])/g, '\\$1')}"` : `'${a}'`)
const shown = (cmd: string[]) => console.log(`$ ${cmd.map(quote).join(' ')}`)

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

function runShown(cmd: string, args: string[], display = [cmd, ...args]): number {
  shown(display)
  const r = spawnSync(cmd, args, {stdio: 'inherit', env: {...process.env, SSH_AUTH_SOCK: ''}})
  return r.status ?? 1
}

/** As runShown, without blocking this process: the reverse-tunnel part relays the labs' traffic in this process. */
function runShownAsync(cmd: string, args: string[], display = [cmd, ...args]): Promise<number> {
  shown(display)
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {stdio: 'inherit', env: {...process.env, SSH_AUTH_SOCK: ''}})
    child.on('close', (code) => resolve(code ?? 1))
  })
}

/** Run a command quietly without blocking this process; its exit code and stdout. */
function capture(cmd: string, args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, SSH_AUTH_SOCK: ''}})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('close', (code) => resolve({code: code ?? 1, stdout, stderr}))
  })
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run demo starts lab hosts in Linux namespaces and needs root (sudo npm run demo).')
    process.exit(2)
  }
  const work = mkdtempSync(join(tmpdir(), 'bastion-demo-'))
  let lab: LabHost | undefined
  let inside: BootedLabHost | undefined
  let relay: Relay | undefined
  try {
    step(1, 'Start a lab bastion (Debian sshd in its own namespaces) and a PostgreSQL database only it can reach')
    lab = await startLab({name: 'demo-bastion', db: 'postgres', usePam: false})
    const sshdVersion = spawnSync('sh', ['-c', 'ssh -V 2>&1'], {encoding: 'utf8'}).stdout.trim()
    console.log(`bastion host:  ${lab.adminUser}@${lab.address}:${lab.port}  (${sshdVersion}, UsePAM no, started in ${lab.startupMs} ms)`)
    console.log(`database:      PostgreSQL at ${lab.db.host}:${lab.db.port} (role ${lab.dbUser}, database ${lab.dbDatabase})`)

    step(2, 'The vendor ("hevo") generates its key pair and shows you the public key')
    const vendorKey = join(work, 'hevo')
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hevo@prod', '-f', vendorKey])
    console.log(readFileSync(`${vendorKey}.pub`, 'utf8').trim())

    step(3, 'You run bastion add-vendor-key')
    const cli = join(packageRoot, 'bin/run.js')
    const code = runShown(
      process.execPath,
      [cli, 'add-vendor-key', ...connectionArgs(lab),
        '--vendor', 'hevo', '--key-file', `${vendorKey}.pub`, '--db', `${lab.db.host}:${lab.db.port}`, '--expires', '30d'],
      ['bastion', 'add-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--vendor', 'hevo', '--key-file', 'hevo.pub',
        '--db', `${lab.db.host}:${lab.db.port}`, '--expires', '30d'],
    )
    if (code !== 0) throw new Error(`add-vendor-key failed with exit ${code}`)

    step(4, "The vendor opens its tunnel (ssh -N -L, as the vendor's servers do) and queries the database through it")
    const local = await freePort()
    const sshBase = ['-i', vendorKey, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
      '-o', 'StrictHostKeyChecking=yes', '-p', String(lab.port)]
    const tunnelArgs = [...sshBase, '-o', 'ExitOnForwardFailure=yes', '-N', '-L', `127.0.0.1:${local}:${lab.db.host}:${lab.db.port}`, `hevo@${lab.address}`]
    shown(['ssh', '-N', '-L', `${local}:${lab.db.host}:${lab.db.port}`, `hevo@${lab.address}`])
    const tunnel = spawn('ssh', tunnelArgs, {stdio: ['ignore', 'inherit', 'inherit']})
    try {
      for (let i = 0; i < 100; i++) {
        const up = spawnSync('nc', ['-z', '127.0.0.1', String(local)]).status === 0
        if (up) break
        await new Promise((r) => setTimeout(r, 100))
      }
      const q = runShown('psql', ['-h', '127.0.0.1', '-p', String(local), '-U', lab.dbUser, '-d', lab.dbDatabase, '-X', '-c',
        "select 'hello from behind the bastion' as message, current_user, inet_client_addr() as seen_from"])
      if (q !== 0) throw new Error('the query through the tunnel failed')
    } finally {
      tunnel.kill()
    }

    step(5, 'What the vendor cannot do: a shell, or a tunnel anywhere else')
    runShown('ssh', [...sshBase, `hevo@${lab.address}`, 'id'], ['ssh', `hevo@${lab.address}`, 'id'])
    const other = await freePort()
    const probe = spawn('ssh', [...sshBase, '-N', '-L', `127.0.0.1:${other}:127.0.0.1:22`, `hevo@${lab.address}`], {stdio: ['ignore', 'inherit', 'pipe']})
    shown(['ssh', '-N', '-L', `${other}:127.0.0.1:22`, `hevo@${lab.address}`, '# then connect to it'])
    let refused = ''
    probe.stderr.setEncoding('utf8').on('data', (d: string) => (refused += d))
    for (let i = 0; i < 50 && spawnSync('nc', ['-z', '127.0.0.1', String(other)]).status !== 0; i++) await new Promise((r) => setTimeout(r, 100))
    spawnSync('nc', ['-w', '2', '127.0.0.1', String(other)], {input: ''})
    await new Promise((r) => setTimeout(r, 300))
    probe.kill()
    console.log(refused.trim() || '(no message)')

    const conn = connectionArgs(lab)
    const bastion = (args: string[], display: string[]) => runShown(process.execPath, [cli, ...args], ['bastion', ...display])

    step(6, 'bastion list-vendor-keys shows what the vendor has')
    bastion(['list-vendor-keys', ...conn], ['list-vendor-keys', '--host', `${lab.adminUser}@${lab.address}`])

    step(7, 'Someone "fixes" permissions by hand (chmod 666 authorized_keys): the vendor\'s "Test connection" now fails')
    shown(['ssh', `${lab.adminUser}@${lab.address}`, 'sudo chmod 666 /home/hevo/.ssh/authorized_keys'])
    await lab.exec('chmod 666 /home/hevo/.ssh/authorized_keys')
    const doctorArgs = ['doctor', ...conn, '--vendor', 'hevo', '--key-file', `${vendorKey}.pub`, '--db', `${lab.db.host}:${lab.db.port}`, '--e2e']
    const doctorShown = ['doctor', '--host', `${lab.adminUser}@${lab.address}`, '--vendor', 'hevo', '--key-file', 'hevo.pub', '--db', `${lab.db.host}:${lab.db.port}`, '--e2e']
    const broken = bastion(doctorArgs, doctorShown)
    console.log(`(doctor exit code ${broken}: 1 means a check failed)`)

    step(8, 'bastion doctor --fix applies the safe fix and checks again')
    const fixed = bastion([...doctorArgs, '--fix'], [...doctorShown, '--fix'])
    if (fixed !== 0) throw new Error(`doctor --fix did not leave a healthy host (exit ${fixed})`)

    step(9, 'The contract ends: off-board the vendor (its key, then the whole account)')
    bastion(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--key-file', `${vendorKey}.pub`],
      ['remove-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--vendor', 'hevo', '--key-file', 'hevo.pub'])
    bastion(['remove-vendor-key', ...conn, '--vendor', 'hevo', '--delete-user', '--confirm', 'hevo'],
      ['remove-vendor-key', '--host', `${lab.adminUser}@${lab.address}`, '--vendor', 'hevo', '--delete-user', '--confirm', 'hevo'])
    runShown('ssh', [...sshBase, `hevo@${lab.address}`, 'true'], ['ssh', `hevo@${lab.address}`, '# the vendor is gone'])

    step(10, 'The other way in (Chartio, Integrate.io, Holistics): a host inside the network keeps an ssh -R to the vendor\'s server')
    inside = await startBootedLab({name: 'demo-inside', db: 'postgres'})
    // the labs have no route to each other: the inside host reaches the vendor's sshd through a relay on its own veth
    relay = await startRelay(`10.231.${inside.slot}.1`, {host: lab.address, port: lab.port})
    console.log(`inside host:   ${inside.adminUser}@${inside.address} (Debian, systemd as pid 1, booted in ${inside.bootMs} ms)`)
    console.log(`database:      PostgreSQL at ${inside.db.host}:${inside.db.port}, reachable only from the inside host`)
    console.log(`vendor server: ${relay.host}:${relay.port} (the lab sshd above, host key ${lab.hostKeyFingerprint})`)
    const inConn = connectionArgs(inside)
    const inHost = `${inside.adminUser}@${inside.address}`
    const tunnelFlags = ['--name', 'warehouse', '--server', relay.host, '--server-port', String(relay.port), '--server-user', 'tunnel',
      '--remote-port', '15432', '--db', `${inside.db.host}:${inside.db.port}`, '--server-host-key-fingerprint', lab.hostKeyFingerprint]
    const added = await capture(process.execPath, [cli, 'tunnel', 'add', ...inConn, ...tunnelFlags, '--json'])
    shown(['bastion', 'tunnel', 'add', '--host', inHost, ...tunnelFlags])
    const addResult = JSON.parse(added.stdout) as {hosts: {result?: {publicKey: string}}[]}
    const publicKey = addResult.hosts[0]?.result?.publicKey
    if (!publicKey) throw new Error(`tunnel add failed: ${added.stderr}${added.stdout}`)
    console.log(`service bastion-tunnel@warehouse.service enabled and started; the tunnel's public key (made on the host):\n  ${publicKey}`)

    step(11, 'The vendor puts that key on its server, for a login that may only listen on its one port')
    const restricted = `restrict,port-forwarding,permitlisten="localhost:15432",command="/bin/false" ${publicKey}`
    console.log(restricted)
    await lab.exec(`useradd -m -s /usr/sbin/nologin tunnel && usermod -p '*' tunnel && install -d -m 700 -o tunnel -g tunnel /home/tunnel/.ssh && printf '%s\\n' '${restricted}' > /home/tunnel/.ssh/authorized_keys && chown tunnel:tunnel /home/tunnel/.ssh/authorized_keys && chmod 600 /home/tunnel/.ssh/authorized_keys`)
    const upAgain = async (what: string): Promise<void> => {
      for (let i = 0; i < 120; i++) {
        const s = await capture(process.execPath, [cli, 'tunnel', 'status', ...inConn, '--name', 'warehouse', '--json'])
        if (s.code === 0) return
        await new Promise((r) => setTimeout(r, 1000))
      }
      throw new Error(`${what}: the tunnel did not come up`)
    }
    await upAgain('after the vendor added the key')
    const tunnelCli = (args: string[], display: string[]) => runShownAsync(process.execPath, [cli, ...args], ['bastion', ...display])
    await tunnelCli(['tunnel', 'status', ...inConn, '--name', 'warehouse', '--lines', '4'], ['tunnel', 'status', '--host', inHost, '--name', 'warehouse', '--lines', '4'])

    step(12, "The vendor queries the database through the remote port, from its own server")
    const query = `psql -h 127.0.0.1 -p 15432 -U ${inside.dbUser} -d ${inside.dbDatabase} -X -c "select 'hello through the reverse tunnel' as message, inet_client_addr() as seen_from"`
    console.log(`vendor-server$ ${query}`)
    const q = await lab.exec(query)
    process.stdout.write(q.stdout + q.stderr)
    if (q.code !== 0) throw new Error('the query through the reverse tunnel failed')

    step(13, 'kill -9 the tunnel\'s ssh: systemd starts it again (no autossh)')
    const pid = (await inside.exec('systemctl show -p MainPID --value bastion-tunnel@warehouse.service')).stdout.trim()
    console.log(`inside-host$ sudo kill -9 ${pid}`)
    await inside.exec(`kill -9 ${pid}`)
    await new Promise((r) => setTimeout(r, 1000))
    await upAgain('after kill -9')
    await tunnelCli(['tunnel', 'list', ...inConn], ['tunnel', 'list', '--host', inHost])
    const again = await lab.exec(query)
    process.stdout.write(again.stdout)

    step(14, 'Remove the tunnel and everything it made')
    await tunnelCli(['tunnel', 'remove', ...inConn, '--name', 'warehouse', '--purge'], ['tunnel', 'remove', '--host', inHost, '--name', 'warehouse', '--purge'])
  } finally {
    step(15, 'Tear down')
    await relay?.close()
    await inside?.stop()
    await lab?.stop()
    rmSync(work, {recursive: true, force: true})
    console.log('lab stopped and removed')
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
