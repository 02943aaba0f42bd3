import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {inputError} from '../../errors.js'
import {providerFlags} from '../../cloud/registry.js'
import {cloudBastion, configFlags, optionalCloudFlag, optionalNameFlag} from '../../config/flags.js'
import type {WhitelistChange} from '../../cloud/provider.js'
import {givenFlags, openProvider} from '../../cloud/seam.js'
import {renderWhitelistChangeHuman} from '../../cloud/render.js'
import {parseWhitelistCidrs} from '../../cloud/whitelist.js'
import {parseVendorName} from '../../access/input.js'
import {renamedFrom} from '../../input/renamed-flags.js'

export type WhitelistRemoveResult = WhitelistChange

export default class WhitelistRemove extends BastionCommand<WhitelistRemoveResult> {
  static override description = `Revokes the vendor's SSH rules for each --vendor-ip (or all of the vendor's rules with --all) from the bastion's security group. Only rules described "bastion:vendor=<vendor>" are touched: an address that another vendor's rule, the admin rule or a rule bastion did not write admits is reported and left alone. The vendor's user and key on the host stay (remove-vendor-key removes them). On Azure the addresses are taken out of the vendor's DNAT rule (firewall mode, under the same read-modify-write-verify loop as add) or NSG rule (public-IP mode); a rule left with no address is removed.`

  static override examples = [
    {
      description: 'Hevo stopped using one address',
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --vendor hevo --vendor-ip 52.6.1.1/32',
    },
    {
      description: "Remove every rule of a vendor you no longer work with",
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --vendor stitch --all',
    },
  ]

  static override flags = {
    ...providerFlags,
    ...configFlags,
    cloud: optionalCloudFlag,
    all: Flags.boolean({description: 'Remove every rule of the vendor (instead of --vendor-ip).'}),
    'dry-run': Flags.boolean({description: 'Show what would change; change nothing.'}),
    name: optionalNameFlag,
    vendor: Flags.string({description: 'The vendor whose rules to remove.', required: true}),
    'vendor-ip': renamedFrom(
      Flags.string({description: 'The addresses to stop admitting (CIDR or address; repeatable, or comma-separated).', helpValue: '<cidr>', multiple: true}),
      'cidr',
    ),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Stop admitting some (or all) of a vendor's addresses on the bastion's SSH port."

  public override async run(): Promise<WhitelistRemoveResult> {
    const {flags, raw} = await this.parse(WhitelistRemove)
    const {cloud, name: named} = await cloudBastion(flags, givenFlags(raw), true)
    const name = named as string
    const vendor = parseVendorName(flags.vendor)
    if (flags.all && flags['vendor-ip']) throw inputError('CIDR_AND_ALL', 'give --vendor-ip or --all, not both', [])
    if (!flags.all && !flags['vendor-ip'])
      throw inputError('CIDR_MISSING', 'which addresses? give --vendor-ip (repeatable, or comma-separated), or --all for every rule of the vendor', [
        `--vendor ${vendor} --vendor-ip 52.6.1.1/32`,
      ])
    const cidrs = flags.all ? 'all' : parseWhitelistCidrs(flags['vendor-ip'] ?? [], '--vendor-ip', true).cidrs
    const provider = await openProvider(cloud)
    const result = await provider.whitelistRemove(name, vendor, cidrs, {dryRun: flags['dry-run']})
    this.show(() => renderWhitelistChangeHuman(result, this.out))
    return result
  }
}
