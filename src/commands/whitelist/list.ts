import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {providerFlags} from '../../cloud/registry.js'
import {cloudBastion, configFlags, optionalCloudFlag, optionalNameFlag} from '../../config/flags.js'
import type {WhitelistView} from '../../cloud/provider.js'
import {givenFlags, openProvider} from '../../cloud/seam.js'
import {renderWhitelistHuman} from '../../cloud/render.js'
import {parseWhitelistCidrs, WIDE_IPV4_PREFIX, WIDE_IPV6_PREFIX} from '../../cloud/whitelist.js'
import {parseVendorName} from '../../access/input.js'
import {renamedFrom} from '../../input/renamed-flags.js'

export type WhitelistListResult = WhitelistView & {flagged: number}

export default class WhitelistList extends BastionCommand<WhitelistListResult> {
  static override description = `Shows the inbound rules of the bastion's security group, grouped by vendor (from the rules' descriptions), the admin rule, and rules bastion did not write, and flags every rule wider than asked:
  too wide (fail)  0.0.0.0/0 or ::/0 on the SSH port: the whole internet reaches sshd;
  note (warn)      a prefix shorter than /${WIDE_IPV4_PREFIX} (IPv4) or /${WIDE_IPV6_PREFIX} (IPv6) — vendors publish single addresses or small
                   ranges —, or, with --vendor-ip, a rule that contains an asked-for address but is larger than it;
                   a rule that opens more than port 22. On Azure these are the sources of the DNAT collection bastion-<name> (firewall mode; the port is the firewall's) or the NSG's allow rules (public-IP mode).`

  static override examples = [
    {description: 'Every rule, flagged', command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump'},
    {description: 'A cloud bastion of the config file', command: '<%= config.bin %> <%= command.id %> --config bastion.yml --bastion warehouse-jump'},
    {
      description: "Hevo's rules, checked against its published addresses",
      command: '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --vendor hevo --vendor-ip 52.6.1.1/32,52.6.1.2/32',
    },
  ]

  static override flags = {
    ...providerFlags,
    ...configFlags,
    cloud: optionalCloudFlag,
    name: optionalNameFlag,
    vendor: Flags.string({description: 'Show only this vendor\'s rules.'}),
    'vendor-ip': renamedFrom(
      Flags.string({
        description: "The vendor's published addresses (CIDR or address; repeatable, or comma-separated): rules containing one but wider are flagged.",
        helpValue: '<cidr>',
        multiple: true,
      }),
      'cidr',
    ),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Show the rules in front of the bastion\'s SSH port, per vendor, and flag any wider than asked.'

  public override async run(): Promise<WhitelistListResult> {
    const {flags, raw} = await this.parse(WhitelistList)
    const {cloud, name: named} = await cloudBastion(flags, givenFlags(raw), true)
    const name = named as string
    const vendor = flags.vendor === undefined ? undefined : parseVendorName(flags.vendor)
    const expected = parseWhitelistCidrs(flags['vendor-ip'] ?? [], '--vendor-ip', true).cidrs
    const provider = await openProvider(cloud)
    const view = await provider.whitelistList(name, expected)
    const rules = vendor ? view.rules.filter((r) => r.vendor === vendor) : view.rules
    const flagged = rules.filter((r) => r.problems.some((p) => p.code !== 'unmanaged')).length
    this.show(() => renderWhitelistHuman({...view, rules}, this.out))
    return {...view, rules, flagged}
  }
}
