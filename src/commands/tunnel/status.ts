import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../ssh/flags.js'
import {parseTunnelName} from '../../tunnel/input.js'
import {applyStatus} from '../../tunnel/service.js'
import {renderTunnelStatusHuman, type TunnelStatusCommandResult} from '../../tunnel/render.js'

export default class TunnelStatus extends BastionCommand<TunnelStatusCommandResult> {
  static override description = `Shows a tunnel's state on its host, read-only: whether systemd runs it, how often it restarted (NRestarts), since when it is up, whether the remote forward is established (ssh logged in and holds its connection to the server; with ExitOnForwardFailure a refused forward ends ssh), and if it is not, why — read from ssh's own messages in the journal (host key not the pinned one, key not accepted by the vendor, port refused, DNS, timeout). Then the last journal lines.

Exit codes: 0 the tunnel is up, 1 it is not (or does not exist), other codes as every command.`

  static override examples = [
    {description: 'Is the warehouse tunnel up?', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse'},
    {description: 'More log lines, as JSON', command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse --lines 50 --json'},
  ]

  static override flags = {
    ...connectionFlags,
    lines: Flags.integer({description: 'How many journal lines to show.', default: 15, min: 0, max: 1000}),
    name: Flags.string({description: 'The tunnel (as given to bastion tunnel add).', required: true}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Show a reverse SSH tunnel's state, restarts, uptime and last log lines."

  public override async run(): Promise<TunnelStatusCommandResult> {
    const {flags: given} = await this.parse(TunnelStatus)
    const flags = withConnectionEnv(given)
    const hosts = requireHosts(flags)
    const name = parseTunnelName(flags.name)
    const multi = await this.onHosts(
      hosts,
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: status of tunnel ${name}`,
      async ({target, run}) => ({tunnels: await applyStatus(target.input, run, {name, logLines: flags.lines})}),
    )
    const result: TunnelStatusCommandResult = {name, ...multi, warnings: []}
    if (multi.ok && multi.hosts.some((h) => h.result?.tunnels.some((t) => t.forward !== 'established' || !t.configured))) process.exitCode = 1
    this.show(() => renderTunnelStatusHuman(result, this.out, {log: true}, (r) => this.renderHostError(r)))
    return result
  }
}
