import {BastionCommand} from '../base-command.js'
import {providerFlags} from '../cloud/registry.js'
import {cloudBastion, configFlags, optionalCloudFlag} from '../config/flags.js'
import type {BastionInfo} from '../cloud/provider.js'
import {renderListHuman} from '../cloud/render.js'
import {givenFlags, openProvider} from '../cloud/seam.js'

export interface ListResult {
  cloud: string
  region?: string
  bastions: BastionInfo[]
}

export default class List extends BastionCommand<ListResult> {
  static override description = `Lists the bastions of a region, found by their tags (managed-by=bastion, bastion:name): the instance's state and type, the public address (and whether it is stable, i.e. an Elastic IP), and the vendors admitted on SSH, read from the security group rules' descriptions. A bastion whose instance is gone but whose other resources remain is listed with state "missing" (finish it with create, or remove it with destroy). On Azure the bastions of the whole subscription are listed (by the same tags); in firewall mode the address is the firewall's public IP and the port its DNAT port.`

  static override examples = [
    {description: 'Every bastion in the default region', command: '<%= config.bin %> <%= command.id %> --cloud aws'},
    {description: 'As JSON, in another region', command: '<%= config.bin %> <%= command.id %> --cloud aws --region eu-central-1 --json'},
  ]

  static override flags = {
    ...providerFlags,
    ...configFlags,
    cloud: optionalCloudFlag,
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'List the bastions in the cloud, with state, address and vendors.'

  public override async run(): Promise<ListResult> {
    const {flags, raw} = await this.parse(List)
    const {cloud} = await cloudBastion(flags, givenFlags(raw), false)
    const provider = await openProvider(cloud)
    const region = await provider.region()
    const bastions = await provider.list()
    this.show(() => renderListHuman(bastions, this.out, {cloud: cloud.name, ...(region ? {region} : {})}))
    return {cloud: cloud.name, ...(region ? {region} : {}), bastions}
  }
}
