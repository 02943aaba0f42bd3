// Manual testing: `node dist/test/lab/cli.js start [--count N] [--db postgres] [--no-pam] [--name NAME] [--booted]`
// prints the lab(s) as JSON, keeps them up until Ctrl-C / SIGTERM, then tears them down.
// `node dist/test/lab/cli.js rootfs` builds (or finds) the booted labs' cached Debian rootfs (scripts/setup.sh runs it).
import {parseArgs} from 'node:util'
import {ensureRootfs, startBootedLab, type BootedLabHost} from './booted.js'
import {startLab, type LabHost} from './lab.js'

function describe(lab: LabHost | BootedLabHost): Record<string, unknown> {
  return {
    name: lab.name,
    address: lab.address,
    port: lab.port,
    ssh: `ssh -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes -i ${lab.adminKeyPath} ${lab.adminUser}@${lab.address}`,
    enter: 'kind' in lab ? `nsenter -t ${lab.pid} -m -u -i -n -p -C -r -w` : `nsenter -t ${lab.pid} -m -u -i -n -p`,
    ...('kind' in lab ? {kind: lab.kind, machine: lab.machine, consoleLogFile: lab.consoleLogFile, bootMs: lab.bootMs} : {}),
    adminUser: lab.adminUser,
    adminKeyPath: lab.adminKeyPath,
    hostKeyFingerprint: lab.hostKeyFingerprint,
    knownHostsFile: lab.knownHostsFile,
    db: lab.db,
    dbKind: lab.dbKind,
    ...(lab.dbKind === 'postgres' ? {dbUser: lab.dbUser, dbDatabase: lab.dbDatabase} : {}),
    dbName: lab.dbName,
    closedPort: lab.closedPort,
    timeoutEndpoint: lab.timeoutEndpoint,
    noRouteEndpoint: lab.noRouteEndpoint,
    unresolvableName: lab.unresolvableName,
    sudoPasswordUser: lab.sudoPasswordUser,
    sudoPasswordUserKeyPath: lab.sudoPasswordUserKeyPath,
    sudoPassword: lab.sudoPassword,
    sshdLogFile: lab.sshdLogFile,
    dir: lab.dir,
    pid: lab.pid,
    startupMs: lab.startupMs,
  }
}

async function main(): Promise<void> {
  const {positionals, values} = parseArgs({
    allowPositionals: true,
    options: {
      count: {type: 'string', default: '1'},
      db: {type: 'string', default: 'tcp'},
      name: {type: 'string'},
      'no-pam': {type: 'boolean', default: false},
      booted: {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
  const usage = 'usage: node dist/test/lab/cli.js start [--count N] [--db tcp|postgres] [--name NAME] [--no-pam] [--booted]\n' +
    '       node dist/test/lab/cli.js rootfs'
  if (positionals[0] === 'rootfs' && !values.help) {
    const rootfs = await ensureRootfs()
    console.log(`${rootfs.path}: ${Math.round(rootfs.sizeKiB / 1024)} MiB, ${rootfs.builtMs ? `built in ${Math.round(rootfs.builtMs / 1000)} s` : 'already cached'}`)
    return
  }
  if (values.help || positionals[0] !== 'start') {
    console.error(usage)
    process.exitCode = values.help ? 0 : 2
    return
  }
  const count = Number(values.count)
  if (!Number.isInteger(count) || count < 1 || count > 254) throw new Error(`--count must be 1..254\n${usage}`)
  if (values.db !== 'tcp' && values.db !== 'postgres') throw new Error(`--db must be tcp or postgres\n${usage}`)
  if (values.name && count > 1) throw new Error('--name needs --count 1')

  const t0 = performance.now()
  const labs = await Promise.all(
    Array.from({length: count}, () =>
      (values.booted ? startBootedLab : startLab)({
        db: values.db as 'tcp' | 'postgres', usePam: !values['no-pam'], ...(values.name ? {name: values.name} : {}),
      }),
    ),
  )
  const out = labs.map(describe)
  console.log(JSON.stringify(count === 1 ? out[0] : out, null, 2))
  console.error(`${count} lab(s) up in ${Math.round(performance.now() - t0)} ms; Ctrl-C to stop`)

  // lab.ts's own SIGINT/SIGTERM/SIGHUP handlers stop every lab and exit; until then, stay alive
  setInterval(() => {}, 1 << 30)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exitCode = 1
})
