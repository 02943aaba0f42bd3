/**
 * `npm run bench:config [-- --runs N]`: `bastion config validate` wall time, the whole CLI process, on a generated
 * bastion.yml of 200 bastions × 20 vendors (4,000 vendors, 4,000 ed25519 keys, 8,000 CIDRs; bench/config-gen.ts),
 * against bare node and `bastion --version`. Issue 11's target: ≤ 0.5 s wall on this machine.
 *
 * Measured with hyperfine (-N) when installed, else a loop of process spawns; the runs (20 by default) are spread over 5
 * rounds that each run every command in turn, so that bursts of load on this shared machine fall on all commands alike.
 * Prints a table and writes its section of bench/RESULTS.md (between the config-validate markers; `npm run bench`
 * keeps that section).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir, totalmem} from 'node:os'
import {join} from 'node:path'
import {packageRoot} from '../src/paths.js'
import {CONFIG_SECTION_END as SECTION_END, CONFIG_SECTION_START as SECTION_START, generateConfig} from './config-gen.js'
import {median, timed, which} from './lib.js'

const TARGET_MS = 500

interface Row {
  name: string
  medianMs: number
  minMs: number
  maxMs: number
}

function log(msg: string): void {
  process.stderr.write(`bench:config: ${msg}\n`)
}

/** Rounds the runs are spread over: each round runs every command in turn, so a burst of load on this shared machine
 * falls on all of them rather than on the one that happened to be running. */
const ROUNDS = 5

async function measure(commands: {name: string; args: string[]}[], runs: number, dir: string): Promise<{rows: Row[]; tool: string}> {
  const perRound = Math.max(1, Math.ceil(runs / ROUNDS))
  const times = new Map<string, number[]>(commands.map((c) => [c.name, []]))
  const useHyperfine = which('hyperfine') !== undefined
  for (let round = 0; round < ROUNDS; round++) {
    if (useHyperfine) {
      const json = join(dir, 'hyperfine.json')
      const quote = (a: string) => (a === '' || /[^A-Za-z0-9_./:=@-]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)
      const r = spawnSync(
        'hyperfine',
        ['-N', '--style', 'none', '--warmup', '1', '--runs', String(perRound), '--export-json', json, ...commands.flatMap((c) => ['-n', c.name, [process.execPath, ...c.args].map(quote).join(' ')])],
        {cwd: dir, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}},
      )
      if (r.status !== 0) throw new Error(`hyperfine failed:\n${r.stderr}\n${r.stdout}`)
      const data = JSON.parse(readFileSync(json, 'utf8')) as {results: {command: string; times: number[]}[]}
      for (const x of data.results) times.get(x.command)?.push(...x.times.map((t) => t * 1000))
      continue
    }
    for (const c of commands) {
      await timed({cmd: process.execPath, args: c.args, cwd: dir})
      for (let i = 0; i < perRound; i++) {
        const t = await timed({cmd: process.execPath, args: c.args, cwd: dir})
        if (t.code !== 0) throw new Error(`${c.name} exited ${t.code}: ${t.stderr}`)
        times.get(c.name)?.push(t.ms)
      }
    }
  }
  const rows = commands.map((c) => {
    const t = times.get(c.name) ?? []
    return {name: c.name, medianMs: median(t), minMs: Math.min(...t), maxMs: Math.max(...t)}
  })
  const how = useHyperfine ? 'hyperfine -N' : 'a node loop of process spawns'
  return {tool: `${how}, ${ROUNDS} rounds of ${perRound} runs of each command in turn (1 warm-up run per command and round)`, rows}
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const runsAt = argv.indexOf('--runs')
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 20
  const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-config-'))
  const bin = join(packageRoot, 'bin', 'run.js')
  try {
    const text = generateConfig(200, 20)
    writeFileSync(join(dir, 'bastion.yml'), text)
    const check = spawnSync(process.execPath, [bin, 'config', 'validate', '--json'], {cwd: dir, encoding: 'utf8'})
    const result = JSON.parse(check.stdout) as {valid: boolean; summary: {errors: number; warnings: number}}
    if (check.status !== 0 || !result.valid || result.summary.warnings !== 0) throw new Error(`the generated file is not clean: ${check.stdout.slice(0, 2000)}`)
    log(`generated bastion.yml: ${(text.length / 1e6).toFixed(2)} MB, 200 bastions, 4000 vendors and keys; measuring (${runs} runs)`)
    const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ')
    const {rows, tool} = await measure(
      [
        {name: "node -e ''", args: ['-e', '']},
        {name: 'bastion --version', args: [bin, '--version']},
        {name: 'bastion config validate (examples/bastion.yml)', args: [bin, 'config', 'validate', '--config', join(packageRoot, 'examples', 'bastion.yml')]},
        {name: 'bastion config validate (200 × 20, 4,000 keys)', args: [bin, 'config', 'validate']},
        {name: 'bastion config validate --format sarif (200 × 20)', args: [bin, 'config', 'validate', '--format', 'sarif']},
      ],
      runs,
      dir,
    )
    const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ')
    const big = rows.find((r) => r.name.startsWith('bastion config validate (200'))
    const version = rows.find((r) => r.name === 'bastion --version')
    const node = rows.find((r) => r.name === "node -e ''")
    const met = big !== undefined && big.medianMs <= TARGET_MS
    const L = [
      SECTION_START,
      '## config validate: 200 bastions × 20 vendors (issue 11)',
      '',
      `Written by \`npm run bench:config\` on ${new Date().toISOString()}: ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load average ${loadBefore} before, ${loadAfter} after. ${tool}; wall time of the whole CLI process.`,
      '',
      '| command | median | min | max | median ÷ bastion --version |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.name} | ${Math.round(r.medianMs)} ms | ${Math.round(r.minMs)} ms | ${Math.round(r.maxMs)} ms | ${version ? (r.medianMs / version.medianMs).toFixed(2) : '?'}× |`),
      '',
      `Target: ≤ ${TARGET_MS} ms wall for the 4,000-key file — ${met ? '✔ met' : '✖ not met'} (median ${Math.round(big?.medianMs ?? NaN)} ms; bare node ${Math.round(node?.medianMs ?? NaN)} ms, bastion --version ${Math.round(version?.medianMs ?? NaN)} ms on this run).`,
      'The last column compares with the start-up of the CLI measured in the same run, which makes runs on a busy machine comparable with runs on an idle one.',
      SECTION_END,
    ]
    const section = L.join('\n')
    process.stdout.write(`${section}\n`)
    const file = join(packageRoot, 'bench', 'RESULTS.md')
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# bastion benchmarks\n'
    const a = old.indexOf(SECTION_START)
    const b = old.indexOf(SECTION_END)
    const next = a >= 0 && b > a ? `${old.slice(0, a)}${section}${old.slice(b + SECTION_END.length)}` : `${old.trimEnd()}\n\n${section}\n`
    writeFileSync(file, next)
    log(`wrote ${file}`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

await main()
