import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {connectionFlags, toConnectionOptions, withConnectionEnv} from '../ssh/flags.js'
import {commandHosts, configFlags} from '../config/flags.js'
import {givenFlags} from '../cloud/seam.js'
import {parseVendorName} from '../access/input.js'
import {renderListHuman, type ListVendorKeysResult} from '../access/render.js'
import {applyList} from '../access/service.js'

export default class ListVendorKeys extends BastionCommand<ListVendorKeysResult> {
  static override description = `Shows each vendor user's keys: type, bits, SHA256 fingerprint, options, expiry, and whether bastion owns the line. Without --vendor it lists every account bastion manages (created by bastion, or holding a bastion line). Read-only.`

  static override examples = [
    {description: 'Every vendor on a bastion', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5'},
    {description: 'One vendor, as JSON', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --json'},
    {description: 'Every bastion of the config file', command: '<%= config.bin %> <%= command.id %> --config bastion.yml'},
  ]

  static override flags = {
    ...connectionFlags,
    ...configFlags,
    vendor: Flags.string({description: 'Only this vendor (the Linux user); it may also be an account bastion did not create.'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'List vendor users and their keys on bastion host(s).'

  public override async run(): Promise<ListVendorKeysResult> {
    const {flags: given, raw} = await this.parse(ListVendorKeys)
    const flags = withConnectionEnv(given)
    const vendor = flags.vendor === undefined ? undefined : parseVendorName(flags.vendor, {allowReserved: true})
    const result = await this.onHosts(
      await commandHosts(given, givenFlags(raw)),
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: list ${vendor ?? 'vendor'} keys`,
      ({target, run}) => applyList(target.input, run, vendor),
    )
    this.show(() => renderListHuman(result, this.out, (r) => this.renderHostError(r)))
    return result
  }
}
