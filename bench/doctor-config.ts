/**
 * `bastion doctor --config` over a fleet (default 30 lab hosts × 3 vendors) against the raw OpenSSH floor, and the
 * figures written into bench/RESULTS.md (the section between the doctor-config markers; the rest of the file is
 * `npm run bench`'s). Run: `npm run bench:doctor-config [-- --hosts 30 --runs 5]`.
 *
 * - bastion: one `bastion doctor --config bastion.yml` process (every bastion, every vendor, drift), human output;
 * - floor (same work): one OpenSSH client per host, all started at once, each piping the very batch bastion sends
 *   (the list script and the three vendors' probes, src/remote/batch.ts) into `sudo -n sh -s`;
 * - floor (`true`): one `ssh host true` per host, all at once: the bare cost of 30 logins.
 * Ratios are taken pair by pair (run i of bastion against run i of the floor, order alternated), then the median.
 */
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir, totalmem} from 'node:os'
import {join} from 'node:path'
import {parsePublicKey} from '../src/access/keys.js'
import {listScript} from '../src/access/service.js'
import {probeScript} from '../src/doctor/probe.js'
import {parseHostPort} from '../src/input/parse.js'
import {packageRoot} from '../src/paths.js'
import {batchScript} from '../src/remote/batch.js'
import {generateEd25519} from '../src/ssh/keygen.js'
import {expectOk, median, startFleet, timed, timedParallel, type Fleet, type RunSpec} from './lib.js'
import {bastion, bastionBin, benchEnv, DB, type BenchContext} from './tools.js'

const VENDORS = ['hevo', 'fivetran', 'airbyte']

function log(msg: string): void {
  process.stderr.write(`[bench:doctor-config] ${msg}\n`)
}

function args(argv: string[]): {hosts: number; runs: number} {
  const get = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? Number(argv[i + 1]) : dflt
  }
  return {hosts: get('hosts', 30), runs: get('runs', 5)}
}

function ssh(fleet: Fleet, host: string, command: string, input: string, env: NodeJS.ProcessEnv): RunSpec {
  return {
    cmd: 'ssh',
    args: [
      '-F', '/dev/null', '-i', fleet.keyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${fleet.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      host, command,
    ],
    input,
    env,
  }
}

function configFile(fleet: Fleet, keys: Record<string, string>): string {
  const lines = ['version: 1', 'databases:', `  warehouse: {host: ${DB.split(':')[0]}, port: ${DB.split(':')[1]}}`, 'vendors:']
  VENDORS.forEach((v, i) => lines.push(`  ${v}:`, `    cidrs: [52.6.1.${i + 1}/32]`, `    keys: ['${keys[v]}']`, '    databases: [warehouse]'))
  lines.push('bastions:')
  fleet.labs.forEach((lab, i) =>
    lines.push(
      `  b${String(i + 1).padStart(2, '0')}:`,
      `    ssh: {host: ${lab.address}, user: ${lab.adminUser}, identity: ${fleet.keyPath}, knownHosts: ${fleet.knownHosts}}`,
      `    vendors: [${VENDORS.join(', ')}]`,
    ),
  )
  return `${lines.join('\n')}\n`
}

async function main(): Promise<void> {
  const opts = args(process.argv.slice(2))
  const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-config-'))
  const home = join(dir, 'home')
  mkdirSync(join(home, '.ssh'), {recursive: true, mode: 0o700})
  const vk = generateEd25519('vendor@bench')
  const ctx: BenchContext = {dir, home, vendorKey: parsePublicKey(vk.publicKey).key, vendorKeyLine: vk.publicKey, vendorKeyFile: '', bin: process.env.BENCH_BASTION_BIN ?? bastionBin, env: benchEnv(home)}
  const load0 = loadavg().map((l) => l.toFixed(2)).join(' ')
  const t0 = Date.now()
  log(`starting ${opts.hosts} lab hosts`)
  const fleet = await startFleet(opts.hosts, join(dir, 'fleet'))
  try {
    const keys = Object.fromEntries(VENDORS.map((v) => [v, generateEd25519(`${v}@bench`).publicKey.trim()]))
    const file = join(dir, 'bastion.yml')
    writeFileSync(file, configFile(fleet, keys))
    log('apply --config (set-up)')
    expectOk('bastion apply', await timed(bastion(ctx, ['apply', '--config', file])))
    // the batch bastion sends each host: the list script and each vendor's probe
    const batch = batchScript([
      listScript(),
      ...VENDORS.map((v, i) =>
        probeScript({vendor: v, key: parsePublicKey(keys[v] ?? '').key, dbs: [parseHostPort(DB)], vendorIps: [`52.6.1.${i + 1}/32`], sshPort: 22}),
      ),
    ])
    const rows: {b: number; work: number; bare: number}[] = []
    for (let i = 0; i < opts.runs; i++) {
      const row = {b: 0, work: 0, bare: 0}
      const steps = [
        async () => {
          const r = expectOk('bastion doctor --config', await timed(bastion(ctx, ['doctor', '--config', file])), [0, 1])
          row.b = r.ms
        },
        async () => {
          const p = await timedParallel(fleet.hosts.map((h) => ssh(fleet, h, 'sudo -n sh -s', batch, ctx.env)))
          p.runs.forEach((r, k) => expectOk(`ssh ${fleet.hosts[k]} 'sudo -n sh -s' < batch`, r))
          row.work = p.ms
        },
        async () => {
          const p = await timedParallel(fleet.hosts.map((h) => ssh(fleet, h, 'true', '', ctx.env)))
          p.runs.forEach((r, k) => expectOk(`ssh ${fleet.hosts[k]} true`, r))
          row.bare = p.ms
        },
      ]
      for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step()
      rows.push(row)
      log(`run ${i + 1}/${opts.runs}: bastion ${Math.round(row.b)} ms, floor (same work) ${Math.round(row.work)} ms, floor (ssh true) ${Math.round(row.bare)} ms`)
    }
    const b = median(rows.map((r) => r.b))
    const work = median(rows.map((r) => r.work))
    const bare = median(rows.map((r) => r.bare))
    const overWork = median(rows.map((r) => r.b / r.work))
    const overBare = median(rows.map((r) => r.b / r.bare))
    const now = new Date()
    const section = [
      '<!-- doctor-config: written by npm run bench:doctor-config (bench/doctor-config.ts) -->',
      '## doctor --config (issue 11)',
      '',
      `Written by \`npm run bench:doctor-config\` on ${now.toISOString()}; ${opts.hosts} lab hosts × ${VENDORS.length} vendors, ${opts.runs} runs, took ${Math.round((Date.now() - t0) / 1000)} s. Machine: ${cpus()[0]?.model ?? '?'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB (load average at start: ${load0}; at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}).`,
      '',
      '| target | measured | met |',
      '| --- | --- | --- |',
      `| doctor --config over ${opts.hosts} hosts × ${VENDORS.length} vendors: ≤ 1.5× the raw OpenSSH floor | ${overWork.toFixed(2)}× the same remote work over ${opts.hosts} parallel ssh (${Math.round(b)} ms vs ${Math.round(work)} ms); ${overBare.toFixed(2)}× ${opts.hosts} parallel \`ssh host true\` (${Math.round(bare)} ms) | ${overWork <= 1.5 ? '✔' : '✖'} |`,
      '',
      '| run | bastion doctor --config | floor: same work | floor: `ssh host true` |',
      '| ---: | ---: | ---: | ---: |',
      ...rows.map((r, i) => `| ${i + 1} | ${Math.round(r.b)} ms | ${Math.round(r.work)} ms | ${Math.round(r.bare)} ms |`),
      '',
      `- **bastion**: one \`bastion doctor --config\` process: every bastion and vendor of the file, drift included, one SSH connection and one round trip per host (the list script and the ${VENDORS.length} vendors' probes batched), all hosts at once; human output.`,
      `- **floor (same work)**: one OpenSSH client per host, all started at once, each piping the same batch (src/remote/batch.ts: vendor-list.sh and ${VENDORS.length} doctor-probe.sh) into \`sudo -n sh -s\`.`,
      '- **floor (`ssh host true`)**: one OpenSSH login per host, all at once, running nothing: the cost of the logins alone.',
      '- The lab hosts share this machine\'s cores with the client tools: fleet figures are CPU-bound, not network-bound.',
      '<!-- /doctor-config -->',
    ].join('\n')
    const results = join(packageRoot, 'bench', 'RESULTS.md')
    const old = existsSync(results) ? readFileSync(results, 'utf8') : '# bastion benchmarks\n'
    const re = /<!-- doctor-config:[\s\S]*?<!-- \/doctor-config -->/
    writeFileSync(results, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}\n`)
    log(`median: bastion ${Math.round(b)} ms, floor ${Math.round(work)} ms (${overWork.toFixed(2)}×), ssh true ${Math.round(bare)} ms (${overBare.toFixed(2)}×); written to bench/RESULTS.md`)
  } finally {
    await fleet.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
