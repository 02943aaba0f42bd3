import {Flags} from '@oclif/core'
import {BastionCommand, type FlagsOf} from '../base-command.js'
import {buildResult, renderHuman, renderJunit, renderJunitError, SCHEMA_VERSION, summarize, type DoctorHostReport, type DoctorResult} from '../doctor/report.js'
import {doctorCloud} from '../doctor/cloud.js'
import {doctorOnHost} from '../doctor/service.js'
import {asBastionError, inputError} from '../errors.js'
import {knownClouds, providerFlags} from '../cloud/registry.js'
import {givenFlags, openCloud} from '../cloud/seam.js'
import type {DoctorInput} from '../doctor/types.js'
import {connectionFlags, toConnectionOptions, withConnectionEnv} from '../ssh/flags.js'
import {parseVendorName} from '../access/input.js'
import {parseCidrs, parseHostPorts} from '../input/parse.js'
import {readVendorKey} from '../access/key-input.js'
import {parseTunnelName} from '../tunnel/input.js'
import {doctorTunnelOnHost} from '../tunnel/doctor.js'
import {formatFlag, formatInArgv} from '../ui/format.js'
import {reachableBastionHosts, configFlags, configMode, loadSelected, refuseWithConfig} from '../config/flags.js'
import type {LoadedConfig} from '../config/load.js'
import type {ResolvedBastion} from '../config/resolve.js'
import {doctorBastionCloud, doctorBastionHost, driftReport, notRun, type BastionHostDoctor} from '../doctor/config.js'
import {observeAllowlist} from '../config/cloud.js'
import {renderGithub} from '../doctor/github.js'
import type {WhitelistView} from '../cloud/provider.js'
import type {ErrorJson} from '../errors.js'

export default class Doctor extends BastionCommand<DoctorResult> {
  static override description = `Finds every reason a vendor's SSH tunnel fails and says why and how to fix it. One SSH connection and one probe round trip per host: a read-only POSIX sh probe (templates/doctor-probe.sh) gathers the facts with sudo -n — sshd's effective settings for the vendor (sshd -T -C user=…,addr=…, so Match blocks count), the user account, the StrictModes path walk of authorized_keys, the keys and their options, and TCP reachability from the bastion to each database (accepted / refused / timed out / no route / DNS failure) — and pure checks judge them. Every finding has a stable id (documented in docs/checks.md), what was seen, why it matters and the command that fixes it.

--e2e also takes the real path a vendor takes: with a temporary key (expiring, tagged, always removed) it logs in as the vendor to the bastion's own sshd through the admin connection and opens a direct-tcpip channel to each database. --fix applies the safe fixes (modes, owners, unlocking, clearing an account expiry, adding the expected key) after showing them, then checks again; with --dry-run it only shows them.

--config checks every bastion of a config file (bastion.yml) and every vendor on it, all hosts at once, in one report with one exit code: one SSH connection and one round trip per host (the vendor accounts and every vendor's probe together), the cloud side of cloud bastions, and drift between the file and the bastions — keys the file lists that a host lacks, lines that grant other databases, addresses or expiry than the file says, bastion-owned keys the file no longer lists (stale) and lines bastion does not own (unmanaged), and the same for the allowlist rules of cloud bastions. --bastion and --vendor narrow it down. bastion apply --config fixes the drift.

Exit codes: 0 nothing failed (warnings allowed), 1 at least one check failed, 2 doctor could not run (bad input, or a host it could not reach or probe: the reason is in the report).`

  static override examples = [
    {
      description: "Why does Hevo's tunnel fail?",
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --key-file hevo.pub --db 10.0.1.5:5432 --vendor-ip 52.6.1.1/32',
    },
    {
      description: 'Prove the whole path with a temporary key, then fix what is safe to fix',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --db 10.0.1.5:5432 --e2e --fix',
    },
    {
      description: 'Host and AWS side together: security group, network ACL, route to the internet, Elastic IP, IMDSv2',
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --host ubuntu@203.0.113.10 --vendor hevo --vendor-ip 52.6.1.1/32 --db 10.0.1.5:5432',
    },
    {
      description: 'Every bastion and vendor of the config file, with drift, as GitHub Actions annotations',
      command: '<%= config.bin %> <%= command.id %> --config bastion.yml --format github',
    },
    {
      description: 'One bastion of the file, one vendor on it',
      command: '<%= config.bin %> <%= command.id %> --config bastion.yml --bastion warehouse-jump --vendor hevo',
    },
    {
      description: "Azure: the VM runs, the firewall's DNAT rule admits the vendor and leads to the VM's current private IP, the NSG admits the firewall's subnet",
      command: '<%= config.bin %> <%= command.id %> --cloud azure --name warehouse-jump --vendor hevo --vendor-ip 52.6.1.1/32',
    },
    {
      description: 'In CI: every bastion, JUnit XML for the test report',
      command: '<%= config.bin %> <%= command.id %> --host jump-a --host jump-b --vendor fivetran --db db.internal:5432 --format junit > doctor.xml',
    },
    {
      description: 'Why is the reverse tunnel to the vendor down? (bastion tunnel add set it up)',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --tunnel warehouse',
    },
  ]

  static override flags = {
    ...connectionFlags,
    ...providerFlags,
    ...configFlags,
    // With --cloud, --host is optional: the cloud checks run on their own, or beside the host checks.
    host: Flags.string({
      description: `${connectionFlags.host.description} Optional with --cloud.`,
      helpValue: '[user@]host[:port]',
      multiple: true,
    }),
    cloud: Flags.string({
      description: `Also check the bastion's cloud side (AWS: security group, network ACL, routes, address, IMDSv2; Azure: the VM, the firewall's DNAT rule, the NSG, the public IP); needs --name. Clouds: ${knownClouds()}.`,
      helpValue: '<cloud>',
    }),
    name: Flags.string({description: 'With --cloud: the bastion\'s name (its bastion:name tag, as given to bastion create).', dependsOn: ['cloud']}),
    db: Flags.string({description: 'The databases the tunnel must reach, host:port or [v6]:port, as the vendor enters them (repeatable, or comma-separated).', multiple: true}),
    'dry-run': Flags.boolean({description: 'With --fix: show the fixes, apply nothing.', dependsOn: ['fix']}),
    e2e: Flags.boolean({description: "Also test the vendor's real path: log in as the vendor with a temporary key and open a tunnel to each --db."}),
    fix: Flags.boolean({description: 'Apply the safe fixes after showing them, then check again.'}),
    format: formatFlag(['human', 'json', 'junit', 'github']),
    key: Flags.string({description: "The vendor's public key as text (instead of --key-file)."}),
    'key-file': Flags.string({
      char: 'k',
      description: "File with the vendor's public key (\"-\" reads standard input): check it is present (by fingerprint), strong enough and accepted by sshd.",
    }),
    'net-timeout': Flags.integer({description: 'Seconds to wait for each TCP connection from the bastion to a database.', default: 3, min: 1, max: 60}),
    'ssh-port': Flags.integer({description: 'The port the vendor connects to sshd on (default: the port bastion connects to).', min: 1, max: 65535}),
    tunnel: Flags.string({
      description: "Check the reverse tunnel of this name (bastion tunnel add) on --host instead of a vendor's access: its service is active and not restarting in a loop, the server's host key is pinned, ExitOnForwardFailure is on, the forward is up (if not, why), and from the host the database and the vendor's SSH port accept TCP (refused, timed out and DNS told apart).",
      exclusive: ['vendor', 'e2e', 'fix', 'cloud', 'key', 'key-file', 'db', 'vendor-ip'],
    }),
    vendor: Flags.string({description: 'Vendor name (the Linux user the vendor logs in as). Required unless --tunnel or --config; with --config, only this vendor of the file.'}),
    'vendor-ip': Flags.string({
      description: 'The addresses the vendor connects from (CIDR or address; repeatable, or comma-separated): checked against from= and Match Address blocks.',
      helpValue: '<cidr>',
      multiple: true,
    }),
    verbose: Flags.boolean({description: 'Show what was seen for passing checks too.'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = SCHEMA_VERSION

  static override summary = "Diagnose why a vendor's SSH tunnel fails, and how to fix it."

  /** With --format junit, a doctor that cannot start still writes a JUnit document (with the error) to stdout. */
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (wantsJunit(this.argv) && !this.jsonEnabled()) {
      // oclif's own errors (a flag it could not parse) are usage errors, not bugs.
      const e = err.oclif ? {code: 'USAGE', message: err.message, suggestions: ['bastion doctor --help lists the flags']} : asBastionError(err)
      process.stdout.write(`${renderJunitError(e)}\n`)
    }
    return super.catch(err)
  }

  public override async run(): Promise<DoctorResult> {
    const {flags: given, raw} = await this.parse(Doctor)
    if (configMode(given)) return this.runConfig(given, givenFlags(raw))
    const flags = withConnectionEnv(given)
    const cloud = flags.cloud === undefined ? undefined : await openCloud('manage', flags.cloud, flags, givenFlags(raw))
    const format = this.jsonEnabled() ? 'json' : flags.format
    if (flags.tunnel !== undefined) return this.runTunnel(flags.tunnel, flags, format)
    if (flags.vendor === undefined)
      throw inputError('DOCTOR_VENDOR', 'nothing to check: give --vendor (a vendor\'s access through the bastion), --tunnel (a reverse tunnel) or --config (every vendor of a config file)', [
        '--vendor hevo',
        '--tunnel warehouse',
        '--config bastion.yml',
      ])
    const vendor = parseVendorName(flags.vendor, {allowReserved: true})
    const key = flags['key-file'] === undefined && flags.key === undefined ? undefined : await readVendorKey({'key-file': flags['key-file'], key: flags.key})
    for (const w of key?.warnings ?? []) this.warning(w)
    const dbs = parseHostPorts(flags.db ?? [], '--db')
    const vendorIps = parseCidrs(flags['vendor-ip'] ?? [], '--vendor-ip')
    const options = toConnectionOptions(flags)
    const hostsGiven = flags.host ?? []
    if (flags.cloud && !flags.name) throw inputError('DOCTOR_NAME', '--cloud needs --name: the bastion to check', ['--cloud aws --name warehouse-jump'])
    if (!flags.cloud && hostsGiven.length === 0)
      throw inputError('DOCTOR_TARGET', 'nothing to check: give --host (the bastion over SSH) and/or --cloud with --name', [
        '--host admin@10.0.0.5',
        '--cloud aws --name warehouse-jump',
      ])
    const cloudInput: DoctorInput = {vendor, ...(key ? {key: key.key} : {}), dbs, vendorIps, sshPort: flags['ssh-port'] ?? 22}
    const cloudReport = cloud && flags.name ? doctorCloud(cloud, flags.name, cloudInput) : undefined

    const {outcomes} = await this.workOnHosts(
      hostsGiven,
      {...options, concurrency: flags.concurrency},
      (h) => `${h}: doctor for ${vendor}`,
      async ({target, session, run, report}) => {
        const input: DoctorInput = {vendor, host: target.input, ...(key ? {key: key.key} : {}), dbs, vendorIps, sshPort: flags['ssh-port'] ?? target.port}
        return doctorOnHost(target.input, session, run, input, {e2e: flags.e2e, fix: flags.fix, dryRun: flags['dry-run']}, report)
      },
      format === 'human' && this.progressShown,
    )
    const hosts: DoctorHostReport[] = outcomes.map((o) =>
      o.ok
        ? o.value
        : {
            host: o.host,
            ran: false,
            ok: false,
            error: o.error.toJSON(),
            findings: [],
            summary: summarize([]),
          },
    )
    if (cloudReport) hosts.unshift(await cloudReport)
    return this.report(buildResult(vendor, hosts), format, flags.verbose)
  }

  private report(result: DoctorResult, format: string, verbose: boolean, placeOf?: Parameters<typeof renderGithub>[1]): DoctorResult {
    process.exitCode = result.exitCode
    if (format === 'junit') this.log(renderJunit(result))
    else if (format === 'github') this.log(renderGithub(result, placeOf))
    else if (format === 'json' && !this.jsonEnabled()) this.log(JSON.stringify(result, null, 2))
    else if (format === 'human') this.show(() => renderHuman(result, this.out, {verbose}))
    return result
  }

  /** doctor --tunnel: the tunnel checks on every --host, one read-only round trip each. */
  private async runTunnel(
    tunnelFlag: string,
    flags: Parameters<typeof toConnectionOptions>[0] & {concurrency: number; 'net-timeout': number; verbose: boolean},
    format: string,
  ): Promise<DoctorResult> {
    const name = parseTunnelName(tunnelFlag)
    const hostsGiven = flags.host ?? []
    if (hostsGiven.length === 0) throw inputError('DOCTOR_TARGET', 'nothing to check: give --host, the host the tunnel runs on', ['--host admin@10.0.0.7'])
    const input: DoctorInput = {vendor: '', dbs: [], vendorIps: [], sshPort: 22}
    const {outcomes} = await this.workOnHosts(
      hostsGiven,
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: doctor for tunnel ${name}`,
      async ({target, run}) => doctorTunnelOnHost(target.input, run, name, {...input, host: target.input}, {netTimeoutSeconds: flags['net-timeout']}),
      format === 'human' && this.progressShown,
    )
    const hosts: DoctorHostReport[] = outcomes.map((o) =>
      o.ok ? o.value : {host: o.host, ran: false, ok: false, error: o.error.toJSON(), findings: [], summary: summarize([])},
    )
    return this.report({...buildResult('', hosts), tunnel: name}, format, flags.verbose)
  }

  /** doctor --config: every bastion of the file (or --bastion), every vendor on it (or --vendor), with drift. */
  private async runConfig(flags: FlagsOf<typeof Doctor>, given: string[]): Promise<DoctorResult> {
    refuseWithConfig(given, ['cloud', 'name', 'key', 'key-file', 'db', 'vendor-ip', 'ssh-port'])
    if (flags.fix || flags.e2e)
      throw inputError('DOCTOR_CONFIG_FIX', `--${flags.fix ? 'fix' : 'e2e'} works on one vendor at a time; with --config, bastion apply --config converges the bastions to the file`, [
        `bastion apply --config ${flags.config ?? 'bastion.yml'} --dry-run   shows what it would change`,
        'or check one vendor with --host … --vendor … --fix',
      ])
    const format = this.jsonEnabled() ? 'json' : flags.format
    const {loaded, bastions, warnings} = await loadSelected({...(flags.config === undefined ? {} : {config: flags.config}), bastion: flags.bastion ?? [], ...(flags.vendor === undefined ? {} : {vendor: flags.vendor})})
    for (const w of warnings) this.warning(w)
    // Each bastion's address (a cloud bastion without ssh.host asks its cloud); one that cannot be found is reported, not fatal.
    const {items, unreachable} = await reachableBastionHosts(bastions, flags)
    // The cloud side (allowlist for drift, and the cloud checks) runs while the hosts are probed.
    const clouds = new Map(
      bastions
        .filter((b) => b.cloud)
        .map((b) => [
          b.name,
          Promise.all([
            observeAllowlist(b).then(
              (view): {view: WhitelistView} => ({view}),
              (error: unknown): {error: ErrorJson} => ({error: asBastionError(error).toJSON()}),
            ),
            doctorBastionCloud(b, 22),
          ]),
        ]),
    )
    const concurrency = given.includes('concurrency') ? flags.concurrency : Math.max(1, items.length)
    const {outcomes} = await this.workOnHosts(
      items,
      {concurrency},
      (label) => `${label}: doctor for ${bastions.find((b) => b.name === label)?.vendors.length ?? 0} vendor(s)`,
      async ({label, target, session, run, report}) => {
        const b = bastions.find((x) => x.name === label) as ResolvedBastion
        return doctorBastionHost(b, session, run, b.sshdPort ?? target.port, report)
      },
      format === 'human' && this.progressShown,
    )
    const hosts: DoctorHostReport[] = []
    for (const b of bastions) {
      const outcome = outcomes.find((o) => o.host === b.name)
      const host: {listed: BastionHostDoctor['listed']} | {error: ErrorJson} = outcome
        ? outcome.ok
          ? {listed: outcome.value.listed}
          : {error: outcome.error.toJSON()}
        : {error: unreachable.get(b.name) ?? {code: 'CONFIG_HOST', message: 'no address', exit: 2, suggestions: []}}
      const cloud = await clouds.get(b.name)
      hosts.push(driftReport(b, loaded.file, host, cloud?.[0]).report)
      if (outcome?.ok) hosts.push(...outcome.value.vendors)
      else for (const v of b.vendors) hosts.push(notRun(`${b.name}/${v.name}`, 'error' in host ? host.error : {code: 'UNKNOWN', message: 'not run', exit: 2, suggestions: []}))
      if (cloud?.[1]) hosts.push(cloud[1])
    }
    const vendors = [...new Set(bastions.flatMap((b) => b.vendors.map((v) => v.name)))]
    const result = {...buildResult(vendors.join(','), hosts), config: {file: loaded.file, bastions: bastions.map((b) => b.name)}}
    return this.report(result, format, flags.verbose, (host) => placeOf(loaded, bastions, host))
  }
}

/** Where a report's findings point in the config file: the line of the bastion (or cloud bastion) it is about. */
function placeOf(loaded: LoadedConfig, bastions: ResolvedBastion[], host: string): {file: string; line: number; col: number} | undefined {
  const b = bastions.find((x) => host === x.name || host.startsWith(`${x.name}/`) || (x.cloud && host === `${x.cloud.provider}:${x.cloud.name}`))
  if (!b) return undefined
  const vendor = host.startsWith(`${b.name}/`) ? host.slice(b.name.length + 1) : undefined
  const at = vendor ? loaded.locate(['vendors', vendor], 'key') : loaded.locate(['bastions', b.name], 'key')
  return {file: loaded.file, line: at.line, col: at.column}
}

/** `--format junit` or `--format=junit` among the arguments (read before or without a successful parse). */
function wantsJunit(argv: string[]): boolean {
  return formatInArgv(argv) === 'junit'
}
