import {BastionCommand} from '../base-command.js'
import {cloudFlags} from '../cloud/flags.js'
import type {BastionInfo} from '../cloud/provider.js'
import {renderListHuman} from '../cloud/render.js'

export interface ListResult {
  cloud: 'aws'
  region?: string
  bastions: BastionInfo[]
}

export default class List extends BastionCommand<ListResult> {
  static override description = `Lists the bastions of a region, found by their tags (managed-by=bastion, bastion:name): the instance's state and type,
the public address (and whether it is stable, i.e. an Elastic IP), and the vendors admitted on SSH, read from the
security group rules' descriptions. A bastion whose instance is gone but whose other resources remain is listed with
state "missing" (finish it with create, or remove it with destroy).`

  static override examples = [
    {description: 'Every bastion in the default region', command: '<%= config.bin %> <%= command.id %> --cloud aws'},
    {description: 'As JSON, in another region', command: '<%= config.bin %> <%= command.id %> --cloud aws --region eu-central-1 --json'},
  ]

  static override flags = {
    ...cloudFlags,
  }

  static override summary = 'List the bastions in the cloud, with state, address and vendors.'

  public override async run(): Promise<ListResult> {
    const {flags} = await this.parse(List)
    const {AwsProvider} = await import('../cloud/aws/provider.js')
    const provider = await AwsProvider.create({...(flags.region ? {region: flags.region} : {}), ...(flags.profile ? {profile: flags.profile} : {})})
    const region = await provider.location()
    const bastions = await provider.list()
    if (!this.jsonEnabled()) this.log(renderListHuman(bastions, this.out, region))
    return {cloud: 'aws', ...(region ? {region} : {}), bastions}
  }
}
