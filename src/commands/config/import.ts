import {existsSync, renameSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {knownClouds, providerFlags} from '../../cloud/registry.js'
import {givenFlags, openCloud, openProvider} from '../../cloud/seam.js'
import {parseBastionName} from '../../cloud/whitelist.js'
import {accountLines, importConfig} from '../../config/import.js'
import {inputError} from '../../errors.js'
import {expandTilde, todayUtc} from '../../input/parse.js'
import {listScript} from '../../access/service.js'
import {checkScriptRun} from '../../remote/script.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../ssh/flags.js'
import type {WhitelistRule} from '../../cloud/provider.js'

export interface ConfigImportResult {
  bastion: string
  /** The file written (--output); absent when the YAML went to stdout. */
  file?: string
  vendors: string[]
  keys: number
  rules: number
  databases: number
  yaml: string
  warnings: string[]
}

export default class ConfigImport extends BastionCommand<ConfigImportResult> {
  static override description = `Writes the config file (bastion.yml) that describes what a bastion has today, so an existing set-up can be adopted and kept as reviewed code: each vendor account with bastion-owned key lines becomes a vendor (its keys, permitopen as databases, from= as cidrs, expiry-time as expires), and with --cloud the vendor rules of the bastion's allowlist join its cidrs. The bastion's ssh: section is how you reached it (--host, --user, --port, --identity, --known-hosts, --jump, --host-key). Lines and rules bastion does not own stay out (doctor --config reports them as unmanaged); what the file cannot express exactly (keys of one vendor with different from= or permitopen) is noted in a comment and a warning. Read-only on the host and the cloud: one round trip over SSH.`

  static override examples = [
    {description: 'Adopt an existing bastion', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --output bastion.yml'},
    {
      description: 'An AWS bastion: its keys and its security group',
      command: '<%= config.bin %> <%= command.id %> --host ubuntu@203.0.113.10 --cloud aws --name warehouse-jump --region eu-west-1 --output bastion.yml',
    },
  ]

  static override flags = {
    ...connectionFlags,
    ...providerFlags,
    bastion: Flags.string({description: 'The name under bastions: (default: --name, else the host).', helpValue: '<name>'}),
    cloud: Flags.string({description: `The cloud the bastion lives in: its allowlist is read too; needs --name. Clouds: ${knownClouds()}.`, helpValue: '<cloud>'}),
    name: Flags.string({description: "With --cloud: the bastion's name (its bastion:name tag).", dependsOn: ['cloud']}),
    output: Flags.string({char: 'o', description: 'Write the file here (refused if it exists); default: standard output.', helpValue: '<file>'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Write the config file (bastion.yml) that describes what a bastion has today.'

  public override async run(): Promise<ConfigImportResult> {
    const {flags: given, raw} = await this.parse(ConfigImport)
    const flags = withConnectionEnv(given)
    const hosts = requireHosts(flags)
    if (hosts.length !== 1) throw inputError('IMPORT_ONE_HOST', `config import reads one bastion; ${hosts.length} hosts were given`, [`--host ${hosts[0] ?? 'admin@10.0.0.5'}`])
    const host = hosts[0] as string
    if (flags.cloud && !flags.name) throw inputError('IMPORT_NAME', '--cloud needs --name: the bastion to read the allowlist of', ['--cloud aws --name warehouse-jump'])
    const output = flags.output === undefined ? undefined : resolve(expandTilde(flags.output))
    if (output && existsSync(output))
      throw inputError('IMPORT_EXISTS', `${flags.output} exists; config import does not overwrite a file`, [`choose another --output, or move ${flags.output} aside`])
    if (output && !existsSync(dirname(output))) throw inputError('IMPORT_DIR', `the directory of ${flags.output} does not exist`, [`mkdir -p ${dirname(output)}`])
    const cloud = flags.cloud === undefined ? undefined : await openCloud('manage', flags.cloud, flags, givenFlags(raw))
    const name = flags.name === undefined ? undefined : parseBastionName(flags.name)
    const rulesPromise: Promise<WhitelistRule[] | undefined> = cloud && name ? openProvider(cloud).then((p) => p.whitelistList(name, []).then((v) => v.rules)) : Promise.resolve(undefined)
    rulesPromise.catch(() => {})

    const {outcomes, targets} = await this.workOnHosts([host], {...toConnectionOptions(flags), concurrency: 1}, (h) => `${h}: read vendor accounts`, async ({run}) =>
      accountLines(checkScriptRun(host, 'vendor-list.sh', await run(listScript()))),
    )
    const outcome = outcomes[0]
    if (!outcome?.ok) throw outcome?.error ?? inputError('IMPORT_HOST', `${host} could not be read`)
    const rules = await rulesPromise
    const target = targets.get(host)
    const bastion = flags.bastion ?? name ?? (target?.hostName ?? host).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63)
    const region = cloud ? await openProvider(cloud).then((p) => p.region()).catch(() => undefined) : undefined
    const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(expandTilde(p)))
    const result = importConfig({
      bastion,
      ssh: {
        host: target?.hostName ?? host,
        ...(target?.user ? {user: target.user} : {}),
        ...(target && target.port !== 22 ? {port: target.port} : {}),
        ...(flags.identity?.[0] ? {identity: abs(flags.identity[0])} : {}),
        ...(flags.jump ? {jump: flags.jump} : {}),
        ...(flags['known-hosts']?.[0] ? {knownHosts: abs(flags['known-hosts'][0])} : {}),
        ...(flags['host-key']?.[0] ? {hostKey: flags['host-key'][0]} : {}),
      },
      ...(cloud && name ? {cloud: {provider: cloud.name, ...(region ? {region} : {}), name}} : {}),
      accounts: outcome.value,
      ...(rules ? {rules} : {}),
      from: target ? `${target.user}@${target.hostName}:${target.port}` : host,
      today: todayUtc(),
    })
    for (const w of result.warnings) this.warning(w)
    if (output) {
      const tmp = `${output}.tmp-${process.pid}`
      writeFileSync(tmp, result.yaml, {mode: 0o644, flag: 'wx'})
      renameSync(tmp, output)
      this.show(() => `wrote ${flags.output}: ${result.vendors.length} vendor(s), ${result.keys} key(s), ${result.databases} database(s)${rules ? `, ${result.rules} allowlist rule(s)` : ''}`)
    } else if (!this.jsonEnabled()) process.stdout.write(result.yaml)
    return {bastion, ...(output ? {file: output} : {}), vendors: result.vendors, keys: result.keys, rules: result.rules, databases: result.databases, yaml: result.yaml, warnings: result.warnings}
  }
}
