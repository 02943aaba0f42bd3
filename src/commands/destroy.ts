import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {inputError} from '../errors.js'
import {providerFlags} from '../cloud/registry.js'
import {cloudBastion, configFlags, optionalCloudFlag, optionalNameFlag} from '../config/flags.js'
import type {DestroyResult} from '../cloud/provider.js'
import {renderDestroyHuman} from '../cloud/render.js'
import {runCloudOperation} from '../cloud/run.js'
import {givenFlags, openProvider} from '../cloud/seam.js'

export default class Destroy extends BastionCommand<DestroyResult> {
  static override description = `Removes every resource tagged bastion:name=<name>, in the order AWS allows: detach the Elastic IP, terminate the instance and wait until it is gone, release the Elastic IP, revoke the rule that admitted the bastion in the database's security group, delete the bastion's security group (retried while the instance's network interface detaches), and delete the key pair bastion imported. Each step is reported. Safe to re-run: a run that failed or was interrupted part-way is finished by the next one, and a bastion that is gone already is reported as such. --confirm must repeat the name. Resources bastion did not tag are never touched. On Azure: the bastion's DNAT collection (or its rule collection group on a Firewall Policy) is removed from the firewall first — nothing else of the firewall changes, under the same lock, wait-while-Updating and verify loop as create — then the VM with its OS disk, the NIC, the public IP and the NSG.`

  static override examples = [
    {
      description: 'Destroy the bastion warehouse-jump',
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --confirm warehouse-jump',
    },
    {
      description: 'Show what would be removed',
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --confirm warehouse-jump --dry-run',
    },
  ]

  static override flags = {
    ...providerFlags,
    ...configFlags,
    cloud: optionalCloudFlag,
    confirm: Flags.string({description: 'The bastion\'s name again: destroying is not undoable.', helpValue: '<name>', required: true}),
    'dry-run': Flags.boolean({description: 'Find the resources and list what would be removed; remove nothing.'}),
    name: optionalNameFlag,
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Destroy a bastion and everything bastion created for it (safe to re-run).'

  public override async run(): Promise<DestroyResult> {
    const {flags, raw} = await this.parse(Destroy)
    const {cloud, name: named} = await cloudBastion(flags, givenFlags(raw), true)
    const name = named as string
    if (flags.confirm !== name)
      throw inputError('CONFIRM_MISMATCH', `--confirm ${JSON.stringify(flags.confirm)} does not repeat the name ${name}`, [`--confirm ${name}`])
    const provider = await openProvider(cloud)
    const result = await runCloudOperation({title: `${cloud.name}: destroy bastion ${name}`, progress: this.progressShown}, ({progress, signal}) =>
      provider.destroy(name, {progress, signal, dryRun: flags['dry-run']}),
    )
    this.show(() => renderDestroyHuman(result, this.out))
    return result
  }
}
