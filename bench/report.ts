/** The benchmark's results as Markdown (printed and written to bench/RESULTS.md), with issue 5's targets judged. */

export interface StartupRow {
  command: string
  medianMs: number
  /** Median of (this command's run i − bare node's run i). */
  aboveNodeMs: number
}

export interface ModuleRow {
  command: string
  total: number
  ours: number
  deps: number
  builtin: number
  packages: string[]
  commandsImported: string[]
  cloudSdk: string[]
}

export interface AddRow {
  hosts: number
  phase: 'first' | 'rerun'
  bastionMs: number
  floorMs: number
  ansibleMs: number
  /** Median of the per-run ratios bastion_i / floor_i. */
  bastionOverFloor: number
  /** Median of the per-run ratios ansible_i / bastion_i. */
  ansibleOverBastion: number
  runs: number
  ansibleRuns: number
}

export interface DoctorRow {
  hosts: number
  bastionMs: number
  floorMs: number
  bastionOverFloor: number
  runs: number
}

export interface MemoryRow {
  command: string
  maxRssMb: number
}

export interface CheckRow {
  check: string
  ok: boolean
  detail: string
}

export interface Results {
  date: string
  quick: boolean
  machine: {cpu: string; cores: number; memoryGb: number; load: string; loadAtEnd?: string}
  versions: Record<string, string>
  startup: StartupRow[]
  modules: ModuleRow[]
  add: AddRow[]
  doctor: DoctorRow[]
  memory: MemoryRow[]
  checks: CheckRow[]
  seconds: number
}

export interface Target {
  target: string
  measured: string
  met: boolean
}

export const TARGETS = {
  floorRatio: 1.5,
  ansibleOneHost: 5,
  ansibleFleet: 8,
  versionAboveNodeMs: 150,
  doctorTwentyOverOne: 2,
}

const ms = (v: number): string => (Number.isNaN(v) ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`)
const x = (v: number): string => (Number.isNaN(v) ? '—' : `${v.toFixed(2)}×`)
const mark = (ok: boolean): string => (ok ? '✔' : '✖')
const phaseName = (p: AddRow['phase']): string => (p === 'first' ? 'first run' : 're-run')

/** The targets of issue 5 that these results can judge. */
export function judge(r: Results): Target[] {
  const out: Target[] = []
  const maxHosts = Math.max(...r.add.map((a) => a.hosts))
  for (const a of r.add) {
    if (a.hosts === 1 || a.hosts === maxHosts) {
      const where = a.hosts === 1 ? 'one host' : `${a.hosts} hosts${r.quick ? ' (quick mode; 30 in the full run)' : ''}`
      out.push({
        target: `add-vendor-key ${phaseName(a.phase)} on ${where}: ≤ ${TARGETS.floorRatio}× the ${a.hosts === 1 ? '' : 'parallel '}raw SSH floor`,
        measured: `${x(a.bastionOverFloor)} (${ms(a.bastionMs)} vs ${ms(a.floorMs)})`,
        met: a.bastionOverFloor <= TARGETS.floorRatio,
      })
      if (a.ansibleRuns > 0) {
        const want = a.hosts === 1 ? TARGETS.ansibleOneHost : TARGETS.ansibleFleet
        out.push({
          target: `add-vendor-key ${phaseName(a.phase)} on ${where}: ≥ ${want}× faster than Ansible`,
          measured: `${x(a.ansibleOverBastion)} (${ms(a.ansibleMs)} vs ${ms(a.bastionMs)})`,
          met: a.ansibleOverBastion >= want,
        })
      }
    }
  }
  const maxDoctor = Math.max(...r.doctor.map((d) => d.hosts))
  for (const d of r.doctor.filter((x) => x.hosts === 1 || x.hosts === maxDoctor)) {
    out.push({
      target: `doctor on ${d.hosts === 1 ? 'one host' : `${d.hosts} hosts${r.quick ? ' (quick mode; 30 in the full run)' : ''}`}: ≤ ${TARGETS.floorRatio}× the ${d.hosts === 1 ? '' : 'parallel '}raw probe round trip`,
      measured: `${x(d.bastionOverFloor)} (${ms(d.bastionMs)} vs ${ms(d.floorMs)})`,
      met: d.bastionOverFloor <= TARGETS.floorRatio,
    })
  }
  const one = r.doctor.find((d) => d.hosts === 1)
  const twenty = r.doctor.find((d) => d.hosts === 20)
  if (one && twenty) {
    const ratio = twenty.bastionMs / one.bastionMs
    out.push({
      target: `doctor on 20 hosts concurrently in well under ${TARGETS.doctorTwentyOverOne}× the time of one (issue 3)`,
      measured: `${x(ratio)} (${ms(twenty.bastionMs)} vs ${ms(one.bastionMs)}; the raw floor scales ${x(twenty.floorMs / one.floorMs)}: the lab hosts share this machine's ${r.machine.cores} cores)`,
      met: ratio < TARGETS.doctorTwentyOverOne,
    })
  }
  const version = r.startup.find((s) => s.command === 'bastion --version')
  if (version) {
    out.push({
      target: `bastion --version ≤ ${TARGETS.versionAboveNodeMs} ms above bare node`,
      measured: `+${ms(version.aboveNodeMs)} (${ms(version.medianMs)})`,
      met: version.aboveNodeMs <= TARGETS.versionAboveNodeMs,
    })
  }
  const sdkCommands = r.modules.filter((m) => /help|add-vendor-key|doctor|version/.test(m.command))
  if (sdkCommands.length > 0) {
    const loaded = sdkCommands.filter((m) => m.cloudSdk.length > 0)
    out.push({
      target: 'no cloud SDK loaded by --help, add-vendor-key or doctor on a plain host',
      measured: loaded.length === 0 ? `none in ${sdkCommands.map((m) => m.command).join(', ')}` : loaded.map((m) => `${m.command}: ${m.cloudSdk.join(', ')}`).join('; '),
      met: loaded.length === 0,
    })
  }
  for (const c of r.checks) out.push({target: c.check, measured: c.detail, met: c.ok})
  return out
}

export function renderResults(r: Results): string {
  const L: string[] = []
  L.push('# bastion benchmarks', '')
  L.push(`Written by \`npm run bench${r.quick ? ' -- --quick' : ''}\` on ${r.date.slice(0, 10)} (${r.date}); took ${Math.round(r.seconds)} s.` +
    (r.quick ? ' **Quick mode**: fewer hosts and runs; see `npm run bench` for the full set.' : ''), '')
  L.push('## Machine and versions', '')
  L.push(`- machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb.toFixed(1)} GiB memory ` +
    `(load average at start: ${r.machine.load}${r.machine.loadAtEnd ? `; at the end: ${r.machine.loadAtEnd}` : ''})`)
  for (const [k, v] of Object.entries(r.versions)) L.push(`- ${k}: ${v}`)
  L.push('')
  L.push('Lab hosts: Debian\'s real `/usr/sbin/sshd` in private namespaces on this machine (test/lab/), reached over veth pairs, ' +
    'so the client tools and every host share the same 2 cores — fleet numbers are CPU-bound, not network-bound.', '')

  L.push('## Targets (issue 5)', '')
  L.push('| target | measured | met |', '| --- | --- | --- |')
  for (const t of judge(r)) L.push(`| ${t.target} | ${t.measured} | ${mark(t.met)} |`)
  L.push('')

  L.push('## add-vendor-key: a vendor user with one key', '')
  L.push('Wall time, median of the runs. Ratios are computed pair by pair (run *i* of one tool against run *i* of the other, ' +
    'measured back to back with the order rotated), then the median is taken. "first run" creates the vendor (fresh name), ' +
    '"re-run" runs the same command again (nothing to change).', '')
  L.push('| hosts | run | bastion | raw SSH floor | Ansible | bastion ÷ floor | Ansible ÷ bastion | runs (bastion, floor / Ansible) |')
  L.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const a of r.add) {
    L.push(`| ${a.hosts} | ${phaseName(a.phase)} | ${ms(a.bastionMs)} | ${ms(a.floorMs)} | ${ms(a.ansibleMs)} | ${x(a.bastionOverFloor)} | ${x(a.ansibleOverBastion)} | ${a.runs} / ${a.ansibleRuns} |`)
  }
  L.push('')
  L.push('- **bastion**: one `bastion add-vendor-key` process with every `--host`, its default `--concurrency`, human output (progress on stderr).')
  L.push('- **raw SSH floor**: one OpenSSH client per host, all started at once: `ssh host \'sudo -n sh -s\' < vendor-add.sh`, ' +
    'the very script bastion renders (src/access/service.ts `planAdd` + `addScript`), so the remote work is the same.')
  L.push('- **Ansible**: `ansible-playbook -f <hosts>` with `ansible.builtin.group` + `ansible.builtin.user` + `ansible.posix.authorized_key`, ' +
    '`gather_facts: false`, pipelining on, the Python interpreter given (no discovery), `become` via sudo, ControlMaster within a run ' +
    '(a fresh control directory per run: no run inherits a warm connection).')
  L.push('')

  L.push('## doctor', '')
  L.push('| hosts | bastion doctor | raw probe round trip | bastion ÷ floor | runs |', '| ---: | ---: | ---: | ---: | ---: |')
  for (const d of r.doctor) L.push(`| ${d.hosts} | ${ms(d.bastionMs)} | ${ms(d.floorMs)} | ${x(d.bastionOverFloor)} | ${d.runs} |`)
  L.push('')
  L.push('The floor is one `ssh host \'sudo -n sh -s\' < doctor-probe.sh` per host (all at once), with the probe rendered by ' +
    'src/doctor/probe.ts `probeScript` for the same vendor, key and `--db`.', '')

  L.push('## Start-up', '')
  L.push('| command | median | above bare node |', '| --- | ---: | ---: |')
  for (const s of r.startup) L.push(`| \`${s.command}\` | ${ms(s.medianMs)} | ${s.aboveNodeMs === 0 ? '—' : `+${ms(s.aboveNodeMs)}`} |`)
  L.push('', 'Measured with hyperfine (`-N`, 3 warm-up runs); "above bare node" is the median of the per-run differences. ' +
    'bin/run.js turns on Node\'s compile cache and oclif\'s command manifest (src/manifest-cache.ts); the warm-up runs fill ' +
    'both, as any earlier run after a build does.', '')

  L.push('## Modules loaded', '')
  L.push('| command | modules resolved | bastion\'s own | dependencies (packages) | node: built-ins | command classes imported | cloud SDK |')
  L.push('| --- | ---: | ---: | ---: | ---: | --- | --- |')
  for (const m of r.modules) {
    L.push(`| \`${m.command}\` | ${m.total} | ${m.ours} | ${m.deps} (${m.packages.length}) | ${m.builtin} | ${m.commandsImported.join(', ') || 'none'} | ${m.cloudSdk.length === 0 ? 'none ✔' : `${m.cloudSdk.join(', ')} ✖`} |`)
  }
  L.push('', 'Recorded with `node --import bench/module-hook.js` (module.registerHooks: every module URL resolved by import or require).', '')

  L.push('## Peak memory', '')
  L.push('| command | max RSS |', '| --- | ---: |')
  for (const m of r.memory) L.push(`| \`bastion ${m.command}\` | ${m.maxRssMb.toFixed(0)} MiB |`)
  L.push('', 'From `/usr/bin/time -f %M`.', '')

  L.push('## Behaviour', '')
  L.push('| check | seen | ok |', '| --- | --- | --- |')
  for (const c of r.checks) L.push(`| ${c.check} | ${c.detail} | ${mark(c.ok)} |`)
  L.push('')
  return L.join('\n')
}
