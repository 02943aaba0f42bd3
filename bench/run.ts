/**
 * `npm run bench [-- --quick]`: bastion against its anchors on lab hosts (Debian's real sshd in namespaces) —
 * Ansible (its best case) and the raw SSH floor (OpenSSH client, `sudo -n sh -s` < the script bastion renders) —
 * plus start-up time, the modules each command loads, and peak memory. Prints a table and writes bench/RESULTS.md.
 *
 * Needs root (lab hosts), OpenSSH, ansible (with ansible.posix) and hyperfine: `scripts/setup.sh --bench`.
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, totalmem, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generateEd25519} from '../src/ssh/keygen.js'
import {packageRoot} from '../src/paths.js'
import {parsePublicKey} from '../src/access/keys.js'
import {expectOk, median, startFleet, timed, timedParallel, which, type Fleet} from './lib.js'
import {
  ansibleRun, ansibleSetup, bastion, bastionAdd, bastionBin, bastionDoctor, benchEnv, floorAdd, floorDoctor, type AnsibleSetup, type BenchContext,
} from './tools.js'
import {CONFIG_SECTION_END, CONFIG_SECTION_START} from './config-gen.js'
import {renderResults, type Results, type AddRow, type DoctorRow, type StartupRow, type ModuleRow, type MemoryRow, type CheckRow} from './report.js'

interface Options {
  quick: boolean
  out: string
  /** Runs per measurement (medians). */
  runs: number
  /** Host counts for add-vendor-key. */
  addSizes: number[]
  doctorSizes: number[]
  /** Ansible runs per size (it is slow on many hosts). */
  ansibleRuns: (hosts: number) => number
  startupRuns: number
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick')
  const outAt = argv.indexOf('--out')
  const runsAt = argv.indexOf('--runs')
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 3 : 5
  return {
    quick,
    out: outAt >= 0 ? (argv[outAt + 1] as string) : join(packageRoot, 'bench', quick ? 'out/RESULTS-quick.md' : 'RESULTS.md'),
    runs,
    addSizes: quick ? [1, 10] : [1, 10, 30],
    doctorSizes: quick ? [1, 10] : [1, 20, 30],
    ansibleRuns: () => (quick ? 1 : runs),
    startupRuns: quick ? 10 : 20,
  }
}

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`)
}

// ------------------------------------------------------------------------------------------------------ prerequisites

const SETUP = 'scripts/setup.sh --bench'

function checkPrerequisites(): void {
  const missing: string[] = []
  for (const [cmd, pkg] of [['ssh', 'openssh-client'], ['ansible-playbook', 'ansible'], ['hyperfine', 'hyperfine'], ['nsenter', 'util-linux']] as const) {
    if (!which(cmd)) missing.push(`${cmd} (Debian package ${pkg})`)
  }
  if (!existsSync('/usr/bin/time')) missing.push('/usr/bin/time (Debian package time)')
  if (missing.length > 0) {
    throw new Error(`the benchmark needs ${missing.join(', ')}.\nInstall them with: ${SETUP}`)
  }
  if (process.getuid?.() !== 0) throw new Error('the benchmark starts lab hosts (network and mount namespaces): run it as root.')
  const posix = spawnSync('ansible-doc', ['-t', 'module', 'ansible.posix.authorized_key', '--json'], {encoding: 'utf8'})
  if (posix.status !== 0 || !posix.stdout.includes('authorized_key')) {
    throw new Error(`Ansible lacks the ansible.posix collection (Debian's "ansible" package ships it).\nInstall it with: ${SETUP}`)
  }
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {encoding: 'utf8'})
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim())?.trim() ?? '?'
}

function nativeCryptoInfo(): string {
  const r = spawnSync(process.execPath, ['-e', `
    let b = false, cpu = false
    try { require(${JSON.stringify(join(packageRoot, 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node'))}); b = true } catch {}
    try { require(${JSON.stringify(join(packageRoot, 'node_modules/cpu-features'))})(); cpu = true } catch {}
    process.stdout.write((b ? 'native binding loaded' : 'no native binding (pure JS ciphers)') + (cpu ? ', cpu-features' : ''))
  `], {encoding: 'utf8'})
  return r.stdout.trim() || 'unknown'
}

function ssh2Version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'node_modules/ssh2/package.json'), 'utf8')) as {version: string}).version
  } catch {
    return '?'
  }
}

// ----------------------------------------------------------------------------------------------------------- startup

interface HyperfineResult {
  command: string
  median: number
  times: number[]
}

function hyperfine(ctx: BenchContext, runs: number, commands: Array<{name: string; args: string[]}>): Map<string, HyperfineResult> {
  const json = join(ctx.dir, `hyperfine-${Date.now()}.json`)
  const quote = (a: string) => (a === '' ? "''" : /[^A-Za-z0-9_./:=@-]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)
  const cmdLines = commands.map((c) => [process.execPath, ...c.args].map(quote).join(' '))
  const r = spawnSync('hyperfine', ['-N', '--style', 'none', '--warmup', '3', '--runs', String(runs), '--export-json', json,
    ...commands.flatMap((c, i) => ['-n', c.name, cmdLines[i] as string])], {env: ctx.env, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`hyperfine failed:\n${r.stderr}\n${r.stdout}`)
  const data = JSON.parse(readFileSync(json, 'utf8')) as {results: Array<{command: string; median: number; times: number[]}>}
  const out = new Map<string, HyperfineResult>()
  for (const res of data.results) out.set(res.command, {command: res.command, median: res.median * 1000, times: res.times.map((t) => t * 1000)})
  return out
}

function measureStartup(ctx: BenchContext, runs: number): StartupRow[] {
  const cmds = [
    {name: "node -e ''", args: ['-e', '']},
    {name: 'bastion --version', args: [ctx.bin, '--version']},
    {name: 'bastion --help', args: [ctx.bin, '--help']},
    {name: 'bastion add-vendor-key --help', args: [ctx.bin, 'add-vendor-key', '--help']},
  ]
  const res = hyperfine(ctx, runs, cmds)
  const node = res.get("node -e ''") as HyperfineResult
  return cmds.map((c) => {
    const r = res.get(c.name) as HyperfineResult
    // pair by pair: run i of the command minus run i of bare node
    const diffs = r.times.map((t, i) => t - (node.times[i] ?? node.median))
    return {command: c.name, medianMs: r.median, aboveNodeMs: c.name === node.command ? 0 : median(diffs)}
  })
}

// ----------------------------------------------------------------------------------------------------------- modules

const hookUrl = new URL('./module-hook.js', import.meta.url).href

async function modulesOf(ctx: BenchContext, label: string, args: string[], okCodes: number[] = [0]): Promise<ModuleRow> {
  const file = join(ctx.dir, `modules-${label.replace(/[^a-z0-9]+/gi, '-')}.log`)
  rmSync(file, {force: true})
  const r = await timed(bastion(ctx, args, ['--import', hookUrl], {BENCH_MODULE_LOG: file}))
  expectOk(`bastion ${label}`, r, okCodes)
  const urls = [...new Set((existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter(Boolean))]
  const ours = urls.filter((u) => u.startsWith('file:') && !u.includes('/node_modules/') && !u.endsWith('/module-hook.js'))
  const deps = urls.filter((u) => u.includes('/node_modules/'))
  const builtin = urls.filter((u) => u.startsWith('node:'))
  const packages = new Set(deps.map((u) => {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)
    return m?.[1] ?? '?'
  }))
  const sdk = [...packages].filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@azure/') || p.startsWith('@smithy/'))
  return {
    command: label,
    total: urls.length,
    ours: ours.length,
    deps: deps.length,
    builtin: builtin.length,
    packages: [...packages].sort(),
    commandsImported: ours.filter((u) => u.includes('/src/commands/')).map((u) => u.replace(/^.*\/src\/commands\//, '').replace(/\.js$/, '')),
    cloudSdk: sdk,
  }
}

// --------------------------------------------------------------------------------------------------- add-vendor-key

type Tool = 'bastion' | 'ansible' | 'floor'

async function runTool(ctx: BenchContext, fleet: Fleet, ans: AnsibleSetup, tool: Tool, hosts: number, vendor: string): Promise<number> {
  const targets = fleet.hosts.slice(0, hosts)
  if (tool === 'bastion') {
    const r = expectOk(`bastion add-vendor-key on ${hosts} host(s)`, await timed(bastion(ctx, bastionAdd(ctx, fleet, targets, vendor))))
    return r.ms
  }
  if (tool === 'floor') {
    const p = await timedParallel(floorAdd(ctx, fleet, targets, vendor))
    p.runs.forEach((r, i) => expectOk(`ssh ${targets[i]} 'sudo -n sh -s' < vendor-add.sh`, r))
    return p.ms
  }
  const r = expectOk(`ansible-playbook on ${hosts} host(s)`, await timed(ansibleRun(ctx, ans, fleet, hosts, vendor)))
  if (!/failed=0/.test(r.stdout) || /unreachable=[1-9]/.test(r.stdout)) throw new Error(`ansible-playbook reported failures:\n${r.stdout.slice(-3000)}`)
  return r.ms
}

/** After a first run: the vendor exists on every host with the key line, for every tool (they did the same work). */
async function verifyVendors(ctx: BenchContext, fleet: Fleet, hosts: number, vendors: string[]): Promise<void> {
  const b64 = ctx.vendorKey.base64
  await Promise.all(fleet.labs.slice(0, hosts).map(async (lab) => {
    for (const v of vendors) {
      const r = await lab.exec(`getent passwd ${v} | cut -d: -f7; stat -c '%U %a' /home/${v}/.ssh /home/${v}/.ssh/authorized_keys; grep -c ' ${b64} ' /home/${v}/.ssh/authorized_keys`)
      const lines = r.stdout.trim().split('\n')
      if (r.code !== 0 || lines[0] !== '/usr/sbin/nologin' || lines[1] !== `${v} 700` || lines[2] !== `${v} 600` || lines[3] !== '1') {
        throw new Error(`vendor ${v} on ${lab.name} was not set up as expected:\n${r.stdout}${r.stderr}`)
      }
    }
  }))
}

async function measureAdd(ctx: BenchContext, fleet: Fleet, ans: AnsibleSetup, hosts: number, opts: Options, tag: string): Promise<AddRow[]> {
  const tools: Tool[] = ['bastion', 'ansible', 'floor']
  const times: Record<'first' | 'rerun', Record<Tool, Array<number | undefined>>> = {
    first: {bastion: [], ansible: [], floor: []},
    rerun: {bastion: [], ansible: [], floor: []},
  }
  const ansibleRuns = opts.ansibleRuns(hosts)
  for (let i = 0; i < opts.runs; i++) {
    // rotate the order from run to run, so no tool always goes first (or right after another)
    const order = tools.map((_, k) => tools[(k + i) % tools.length] as Tool).filter((t) => t !== 'ansible' || i < ansibleRuns)
    const vendor = (t: Tool) => `${tag}${t[0]}${hosts}r${i}`
    for (const phase of ['first', 'rerun'] as const) {
      for (const t of order) {
        const ms = await runTool(ctx, fleet, ans, t, hosts, vendor(t))
        times[phase][t][i] = ms
        log(`add-vendor-key ${hosts} host(s) ${phase} run ${i + 1}/${opts.runs}: ${t} ${Math.round(ms)} ms`)
      }
      if (phase === 'first' && i === 0) await verifyVendors(ctx, fleet, hosts, order.map(vendor))
    }
  }
  return (['first', 'rerun'] as const).map((phase) => {
    const t = times[phase]
    const pair = (a: Tool, b: Tool) => median(t[a].flatMap((x, i) => (x !== undefined && t[b][i] !== undefined ? [x / (t[b][i] as number)] : [])))
    const m = (tool: Tool) => median(t[tool].filter((x): x is number => x !== undefined))
    return {
      hosts,
      phase,
      bastionMs: m('bastion'),
      floorMs: m('floor'),
      ansibleMs: m('ansible'),
      bastionOverFloor: pair('bastion', 'floor'),
      ansibleOverBastion: pair('ansible', 'bastion'),
      runs: t.bastion.filter((x) => x !== undefined).length,
      ansibleRuns: t.ansible.filter((x) => x !== undefined).length,
    }
  })
}

// ------------------------------------------------------------------------------------------------------------ doctor

async function measureDoctor(ctx: BenchContext, fleet: Fleet, hosts: number, vendor: string, runs: number): Promise<DoctorRow> {
  const targets = fleet.hosts.slice(0, hosts)
  const b: number[] = []
  const f: number[] = []
  const ratios: number[] = []
  for (let i = 0; i < runs; i++) {
    const one = async () => {
      // doctor exits 0 (nothing failed) or 1 (a check failed): both mean it ran; 2 means it could not
      const r = expectOk(`bastion doctor on ${hosts} host(s)`, await timed(bastion(ctx, bastionDoctor(ctx, fleet, targets, vendor))), [0, 1])
      b[i] = r.ms
    }
    const two = async () => {
      const p = await timedParallel(floorDoctor(ctx, fleet, targets, vendor))
      p.runs.forEach((r, k) => expectOk(`ssh ${targets[k]} 'sudo -n sh -s' < doctor-probe.sh`, r))
      f[i] = p.ms
    }
    if (i % 2 === 0) {
      await one()
      await two()
    } else {
      await two()
      await one()
    }
    ratios.push((b[i] as number) / (f[i] as number))
    log(`doctor ${hosts} host(s) run ${i + 1}/${runs}: bastion ${Math.round(b[i] as number)} ms, floor ${Math.round(f[i] as number)} ms`)
  }
  return {hosts, bastionMs: median(b), floorMs: median(f), bastionOverFloor: median(ratios), runs}
}

// ------------------------------------------------------------------------------------------------------------ memory

async function maxRss(ctx: BenchContext, label: string, args: string[], okCodes: number[]): Promise<MemoryRow> {
  const spec = bastion(ctx, args)
  const r = await timed({...spec, cmd: '/usr/bin/time', args: ['-f', 'BENCH_MAXRSS_KB=%M', spec.cmd, ...spec.args]})
  expectOk(label, r, okCodes)
  const kb = Number(/BENCH_MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? NaN)
  return {command: label, maxRssMb: kb / 1024}
}

// ------------------------------------------------------------------------------------------------- behaviour checks

async function checkIsolation(ctx: BenchContext, fleet: Fleet): Promise<CheckRow[]> {
  // two good hosts and one whose port refuses connections (inside a lab's own network namespace)
  const bad = `${fleet.labs[0]?.adminUser}@${fleet.labs[0]?.address}:2222`
  const hosts = [fleet.hosts[0] as string, bad, fleet.hosts[1] as string]
  const r = await timed(bastion(ctx, [...bastionAdd(ctx, fleet, hosts, 'bisolation'), '--json']))
  let json: {hosts?: Array<{host: string; ok: boolean; error?: {code: string}}>} = {}
  try {
    json = JSON.parse(r.stdout) as typeof json
  } catch {}
  const per = json.hosts ?? []
  const ok = per.length === 3 && per[0]?.ok === true && per[1]?.ok === false && per[2]?.ok === true && r.code !== 0
  const help = await timed(bastion(ctx, ['add-vendor-key', '--help']))
  const conc = /--concurrency=<value>\s+\[default: (\d+)\]/.exec(help.stdout)
  return [
    {
      check: '--concurrency flag with a default',
      ok: conc !== null,
      detail: conc ? `--concurrency, default ${conc[1]}` : 'no --concurrency default found in add-vendor-key --help',
    },
    {
      check: 'one unreachable host does not stop the others',
      ok,
      detail: `3 hosts, the 2nd refuses connections: per-host results ${per.map((h) => (h.ok ? 'ok' : `failed (${h.error?.code ?? '?'})`)).join(', ') || '(no JSON)'}; exit code ${r.code}`,
    },
  ]
}

// -------------------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  checkPrerequisites()
  const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-'))
  const home = join(dir, 'home')
  mkdirSync(join(home, '.ssh'), {recursive: true, mode: 0o700})
  const vk = generateEd25519('vendor@bench')
  const vendorKeyFile = join(dir, 'vendor.pub')
  writeFileSync(vendorKeyFile, vk.publicKey + '\n')
  const ctx: BenchContext = {
    dir,
    home,
    vendorKey: parsePublicKey(vk.publicKey).key,
    vendorKeyLine: vk.publicKey,
    vendorKeyFile,
    // BENCH_BASTION_BIN: measure another checkout's bin/run.js (e.g. a build in another outDir)
    bin: process.env.BENCH_BASTION_BIN ?? bastionBin,
    env: benchEnv(home),
  }
  const started = Date.now()
  const results: Results = {
    date: new Date().toISOString(),
    quick: opts.quick,
    machine: {
      cpu: cpus()[0]?.model ?? '?',
      cores: cpus().length,
      memoryGb: totalmem() / 1024 ** 3,
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    },
    versions: {
      node: process.version,
      openssh: firstLine('ssh', ['-V']),
      ansible: firstLine('ansible', ['--version']),
      bastion: firstLine(process.execPath, [ctx.bin, '--version']),
      ssh2: `${ssh2Version()} (${nativeCryptoInfo()})`,
      hyperfine: firstLine('hyperfine', ['--version']),
    },
    startup: [],
    modules: [],
    add: [],
    doctor: [],
    memory: [],
    checks: [],
    seconds: 0,
  }

  log('start-up (hyperfine)')
  results.startup = measureStartup(ctx, opts.startupRuns)

  const fleetSize = Math.max(...opts.addSizes, ...opts.doctorSizes)
  log(`starting ${fleetSize} lab hosts`)
  let fleet: Fleet | undefined
  try {
    fleet = await startFleet(fleetSize, join(dir, 'fleet'))
    const f = fleet
    // a vendor for doctor to examine: set up the way add-vendor-key sets it up, on every host
    expectOk('bastion add-vendor-key (doctor set-up)', await timed(bastion(ctx, [...bastionAdd(ctx, f, f.hosts, 'bdoctor'), '--concurrency', String(f.hosts.length)])))

    log('modules loaded per command')
    results.modules = [
      await modulesOf(ctx, '--version', ['--version']),
      await modulesOf(ctx, '--help', ['--help']),
      await modulesOf(ctx, 'add-vendor-key --help', ['add-vendor-key', '--help']),
      await modulesOf(ctx, 'add-vendor-key (1 host)', bastionAdd(ctx, f, f.hosts.slice(0, 1), 'bmodules')),
      await modulesOf(ctx, 'doctor (1 host)', bastionDoctor(ctx, f, f.hosts.slice(0, 1), 'bdoctor'), [0, 1]),
    ]

    const ans = ansibleSetup(ctx, f)
    for (const n of opts.addSizes) {
      log(`add-vendor-key on ${n} host(s)`)
      results.add.push(...(await measureAdd(ctx, f, ans, n, opts, 'v')))
    }
    for (const n of opts.doctorSizes) {
      log(`doctor on ${n} host(s)`)
      results.doctor.push(await measureDoctor(ctx, f, n, 'bdoctor', opts.runs))
    }

    log('peak memory')
    results.memory = [
      await maxRss(ctx, `add-vendor-key on ${f.hosts.length} hosts (first run)`, bastionAdd(ctx, f, f.hosts, 'bmemory'), [0]),
      await maxRss(ctx, `add-vendor-key on ${f.hosts.length} hosts (re-run)`, bastionAdd(ctx, f, f.hosts, 'bmemory'), [0]),
      await maxRss(ctx, `doctor on ${f.hosts.length} hosts`, bastionDoctor(ctx, f, f.hosts, 'bdoctor'), [0, 1]),
    ]

    log('behaviour checks')
    results.checks = await checkIsolation(ctx, f)
  } finally {
    await fleet?.stop()
    rmSync(dir, {recursive: true, force: true})
  }
  results.seconds = (Date.now() - started) / 1000
  results.machine.loadAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

  const md = renderResults(results)
  process.stdout.write(md)
  mkdirSync(dirname(opts.out), {recursive: true})
  // bench/config-validate.ts writes a section of its own (npm run bench:config): kept as it is;
  const previous = existsSync(opts.out) ? readFileSync(opts.out, 'utf8') : ''
  const kept = previous.includes(CONFIG_SECTION_START) ? previous.slice(previous.indexOf(CONFIG_SECTION_START), previous.indexOf(CONFIG_SECTION_END) + CONFIG_SECTION_END.length) : ''
  // … and so does bench/doctor-config.ts (npm run bench:doctor-config)
  const keptDoctor = /<!-- doctor-config:[\s\S]*?<!-- \/doctor-config -->/.exec(previous)?.[0] ?? ''
  writeFileSync(opts.out, kept || keptDoctor ? `${[md.trimEnd(), kept, keptDoctor].filter(Boolean).join('\n\n')}\n` : md)
  log(`wrote ${opts.out} (${Math.round(results.seconds)} s)`)
  const sdk = results.modules.filter((m) => m.cloudSdk.length > 0)
  if (sdk.length > 0) {
    log(`FAILED: a cloud SDK was loaded by ${sdk.map((m) => m.command).join(', ')}`)
    process.exitCode = 1
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(2)
  })
}
