import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../ssh/flags.js'
import {parseTunnelName} from '../../tunnel/input.js'
import {applyRemove} from '../../tunnel/service.js'
import {renderTunnelRemoveHuman, type TunnelRemoveCommandResult} from '../../tunnel/render.js'

export default class TunnelRemove extends BastionCommand<TunnelRemoveCommandResult> {
  static override description = `Stops and disables bastion-tunnel@<name>.service and deletes the tunnel's config file and pinned host key. The tunnel's key stays (so adding the tunnel again needs nothing new from the vendor) unless --purge. When the last tunnel on the host is removed, the shared unit file goes too, and with --purge also the bastion-tunnel account and its home: nothing is left behind. A tunnel that does not exist is not an error.`

  static override examples = [
    {description: 'Stop a tunnel, keep its key', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse'},
    {description: 'Remove everything, the key too', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse --purge'},
  ]

  static override flags = {
    ...connectionFlags,
    name: Flags.string({description: 'The tunnel to remove (as given to bastion tunnel add).', required: true}),
    purge: Flags.boolean({description: "Also delete the tunnel's key (the vendor's copy of the public key then no longer matches anything), and, with the last tunnel, the bastion-tunnel account."}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Stop and remove a reverse SSH tunnel from a host.'

  public override async run(): Promise<TunnelRemoveCommandResult> {
    const {flags: given} = await this.parse(TunnelRemove)
    const flags = withConnectionEnv(given)
    const hosts = requireHosts(flags)
    const name = parseTunnelName(flags.name)
    const multi = await this.onHosts(
      hosts,
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: remove tunnel ${name}`,
      async ({target, run}) => applyRemove(target.input, run, name, flags.purge === true),
    )
    const result: TunnelRemoveCommandResult = {name, purge: flags.purge === true, ...multi, warnings: []}
    this.show(() => renderTunnelRemoveHuman(result, this.out, (r) => this.renderHostError(r)))
    return result
  }
}
