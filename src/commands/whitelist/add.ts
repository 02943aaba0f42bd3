import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {providerFlags} from '../../cloud/registry.js'
import {cloudBastion, configFlags, optionalCloudFlag, optionalNameFlag} from '../../config/flags.js'
import type {WhitelistChange} from '../../cloud/provider.js'
import {givenFlags, openProvider} from '../../cloud/seam.js'
import {renderWhitelistChangeHuman} from '../../cloud/render.js'
import {parseWhitelistCidrs} from '../../cloud/whitelist.js'
import {parseVendorName} from '../../access/input.js'
import {renamedFrom} from '../../input/renamed-flags.js'

export type WhitelistAddResult = WhitelistChange

export default class WhitelistAdd extends BastionCommand<WhitelistAddResult> {
  static override description = `Adds an SSH rule (port 22) for each --vendor-ip to the bastion's security group, described "bastion:vendor=<vendor>". Addresses the vendor already has a rule for are left as they are; an address another rule admits already is reported (AWS keeps one rule per address). 0.0.0.0/0, ::/0 and any IPv4 prefix shorter than /8 (IPv6: /16) are refused unless --allow-anywhere; a prefix wider than /24 (IPv6: /64) gets a warning. Rules of other vendors and rules bastion did not write are never touched. On Azure the vendor's sources live in one rule named vendor-<vendor>: in firewall mode a rule of the DNAT collection bastion-<name> (changed under a lock per firewall: read, wait while Updating, write only bastion's collection, read back; a change another admin made meanwhile is kept), in public-IP mode an NSG rule, written alone.`

  static override examples = [
    {
      description: "Admit Hevo's new address",
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --vendor hevo --vendor-ip 52.6.1.2/32',
    },
    {
      description: "Admit Fivetran's published range, showing the change first",
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --vendor fivetran --vendor-ip 35.234.176.144/29 --dry-run',
    },
  ]

  static override flags = {
    ...providerFlags,
    ...configFlags,
    cloud: optionalCloudFlag,
    'allow-anywhere': Flags.boolean({description: 'Allow 0.0.0.0/0, ::/0 or any IPv4 prefix shorter than /8 (IPv6: /16): (nearly) the whole internet reaches sshd. Refused otherwise.'}),
    'dry-run': Flags.boolean({description: 'Show what would change; change nothing.'}),
    name: optionalNameFlag,
    vendor: Flags.string({description: 'The vendor the rules are for (lower case, e.g. hevo).', required: true}),
    'vendor-ip': renamedFrom(
      Flags.string({
        description: 'The addresses the vendor connects from (CIDR or address; repeatable, or comma-separated).',
        helpValue: '<cidr>',
        multiple: true,
        required: true,
      }),
      'cidr',
    ),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Admit a vendor's addresses on the bastion's SSH port."

  public override async run(): Promise<WhitelistAddResult> {
    const {flags, raw} = await this.parse(WhitelistAdd)
    const {cloud, name: named} = await cloudBastion(flags, givenFlags(raw), true)
    const name = named as string
    const vendor = parseVendorName(flags.vendor)
    const {cidrs, warnings} = parseWhitelistCidrs(flags['vendor-ip'], '--vendor-ip', flags['allow-anywhere'])
    const provider = await openProvider(cloud)
    const change = await provider.whitelistAdd(name, {vendor, cidrs}, {dryRun: flags['dry-run']})
    const result = {...change, warnings: [...warnings, ...change.warnings]}
    this.show(() => renderWhitelistChangeHuman(result, this.out))
    return result
  }
}
