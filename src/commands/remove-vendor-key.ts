import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {inputError} from '../errors.js'
import {normalizeFingerprint} from '../ssh/fingerprint.js'
import {connectionFlags, toConnectionOptions, withConnectionEnv} from '../ssh/flags.js'
import {commandHosts, configFlags} from '../config/flags.js'
import {givenFlags} from '../cloud/seam.js'
import {hostLabel} from '../ssh/pool.js'
import {parseVendorName} from '../access/input.js'
import {readVendorKey} from '../access/key-input.js'
import {renderRemoveHuman, type RemoveVendorKeyResult} from '../access/render.js'
import {applyRemove, removeScript, type RemovePlan} from '../access/service.js'

export default class RemoveVendorKey extends BastionCommand<RemoveVendorKeyResult> {
  static override description = `Removes exactly what it is asked to: the lines carrying the given key(s) (by SHA256 fingerprint or from the key file), or with --all every line bastion added for the vendor (lines bastion did not write stay). With --delete-user (and --confirm <vendor>) it also ends the vendor's sessions and deletes the user, its home and its group. authorized_keys is rewritten atomically under the same lock add-vendor-key uses. Open tunnels survive key removal; only --delete-user ends them.`

  static override examples = [
    {
      description: 'Remove one key by its fingerprint (as list-vendor-keys or ssh-keygen -lf prints it)',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --fingerprint SHA256:V9mD1sq2mfM3Vx9t8Zb0XKzMGLb4fE2ZEb3m7Y2J5wE',
    },
    {
      description: 'Remove every key bastion added for the vendor',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --all',
    },
    {
      description: 'Off-board the vendor completely',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --delete-user --confirm hevo',
    },
  ]

  static override flags = {
    ...connectionFlags,
    ...configFlags,
    all: Flags.boolean({description: 'Remove every key line bastion added for this vendor (lines it did not write are kept).'}),
    confirm: Flags.string({description: 'With --delete-user: the vendor name again, to confirm the deletion.'}),
    'delete-user': Flags.boolean({description: "Also end the vendor's sessions and delete its user, home directory and group (needs --confirm <vendor>)."}),
    'dry-run': Flags.boolean({description: 'Print the plan and the remote script; connect to nothing, change nothing.'}),
    fingerprint: Flags.string({char: 'f', description: 'SHA256 fingerprint of a key to remove (repeatable).', multiple: true}),
    'key-file': Flags.string({char: 'k', description: 'Remove the key in this public key file ("-" reads standard input).'}),
    vendor: Flags.string({description: 'Vendor name (the Linux user).', required: true}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Remove a vendor's key(s), or the vendor's account, from bastion host(s)."

  public override async run(): Promise<RemoveVendorKeyResult> {
    const {flags: given, raw} = await this.parse(RemoveVendorKey)
    const flags = withConnectionEnv(given)
    const hosts = await commandHosts(given, givenFlags(raw))
    const vendor = parseVendorName(flags.vendor)
    const fingerprints: string[] = []
    for (const f of flags.fingerprint ?? []) {
      const fp = normalizeFingerprint(f)
      if (!fp)
        throw inputError('FINGERPRINT', `--fingerprint "${f}" is not a SHA256 fingerprint`, [
          'fingerprints look like SHA256:V9mD1sq2mfM3Vx9t8Zb0XKzMGLb4fE2ZEb3m7Y2J5wE',
          'get them with: bastion list-vendor-keys --host … --vendor ' + vendor + '   or   ssh-keygen -lf key.pub',
        ])
      fingerprints.push(fp)
    }
    if (flags['key-file'] !== undefined) fingerprints.push((await readVendorKey({'key-file': flags['key-file']})).key.fingerprint)
    if (flags.all && fingerprints.length > 0)
      throw inputError('REMOVE_WHAT', '--all removes every bastion key of the vendor; do not combine it with --fingerprint or --key-file', [
        `--all, or --fingerprint <fp> for one key`,
      ])
    if (!flags.all && fingerprints.length === 0 && !flags['delete-user'])
      throw inputError('REMOVE_WHAT', 'say what to remove: --fingerprint, --key-file, --all, or --delete-user', [
        `bastion list-vendor-keys --host ${hostLabel(hosts[0])} --vendor ${vendor}   shows the fingerprints`,
      ])
    if (flags['delete-user'] && flags.confirm !== vendor)
      throw inputError(
        'CONFIRM',
        flags.confirm === undefined
          ? `--delete-user deletes the user ${vendor}, its home and its group on every host: confirm with --confirm ${vendor}`
          : `--confirm "${flags.confirm}" does not match the vendor "${vendor}"`,
        [`--delete-user --confirm ${vendor}`],
      )
    if (!flags['delete-user'] && flags.confirm !== undefined)
      throw inputError('CONFIRM', '--confirm only goes with --delete-user', [`--delete-user --confirm ${vendor}`])

    const options = toConnectionOptions(flags)
    const basePlan: Omit<RemovePlan, 'loginUser'> = {
      vendor,
      mode: flags.all ? 'all' : fingerprints.length > 0 ? 'fingerprints' : 'none',
      fingerprints: [...new Set(fingerprints)],
      deleteUser: flags['delete-user'],
    }

    if (flags['dry-run']) {
      const script = removeScript({...basePlan, loginUser: '<login user>'})
      const result: RemoveVendorKeyResult = {
        dryRun: true,
        vendor,
        hosts: hosts.map(hostLabel),
        script,
        plan: {remove: basePlan.mode, fingerprints: basePlan.fingerprints, deleteUser: basePlan.deleteUser},
      }
      this.show(() => renderRemoveHuman(result, this.out))
      return result
    }

    const multi = await this.onHosts(
      hosts,
      {...options, concurrency: flags.concurrency},
      (h) => `${h}: remove ${flags['delete-user'] ? `user ${vendor}` : `keys of ${vendor}`}`,
      async ({target, run}) => {
        const plan: RemovePlan = {...basePlan, fingerprints: [...basePlan.fingerprints], loginUser: target.user}
        return applyRemove(target.input, run, plan)
      },
    )
    const result: RemoveVendorKeyResult = {dryRun: false, vendor, ...multi}
    this.show(() => renderRemoveHuman(result, this.out, (r) => this.renderHostError(r)))
    return result
  }
}
