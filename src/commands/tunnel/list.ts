import {BastionCommand} from '../../base-command.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../ssh/flags.js'
import {applyStatus} from '../../tunnel/service.js'
import {renderTunnelStatusHuman, type TunnelStatusCommandResult} from '../../tunnel/render.js'

export default class TunnelList extends BastionCommand<TunnelStatusCommandResult> {
  static override description = `Lists every reverse tunnel on the host(s), read-only: each tunnel bastion set up (a config file in /etc/bastion/tunnels) and any bastion-tunnel@ unit instance left without one, with its state, restarts and where it forwards to. bastion tunnel status --name <name> shows one in detail.`

  static override examples = [{description: 'Every tunnel on two hosts', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --host admin@10.0.0.8'}]

  static override flags = {...connectionFlags}

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'List the reverse SSH tunnels on host(s).'

  public override async run(): Promise<TunnelStatusCommandResult> {
    const {flags: given} = await this.parse(TunnelList)
    const flags = withConnectionEnv(given)
    const hosts = requireHosts(flags)
    const multi = await this.onHosts(
      hosts,
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: list tunnels`,
      async ({target, run}) => ({tunnels: await applyStatus(target.input, run, {logLines: 0})}),
    )
    const result: TunnelStatusCommandResult = {...multi, warnings: []}
    this.show(() => renderTunnelStatusHuman(result, this.out, {log: false}, (r) => this.renderHostError(r)))
    return result
  }
}
