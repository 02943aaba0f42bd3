import {Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {connectionFlags, requireHosts, toConnectionOptions, withConnectionEnv} from '../../ssh/flags.js'
import {tunnelSpecFromFlags} from '../../tunnel/input.js'
import {PRESET_NAMES} from '../../tunnel/presets.js'
import {addScript, ADD_WAIT_S, applyAdd} from '../../tunnel/service.js'
import {renderTunnelAddHuman, specSummary, type TunnelAddCommandResult} from '../../tunnel/render.js'

export default class TunnelAdd extends BastionCommand<TunnelAddCommandResult> {
  static override description = `Sets up a reverse SSH tunnel on a host inside your network, as the vendor's documents ask (Chartio, Integrate.io, Holistics): the host keeps an outbound ssh -R to the vendor's tunnel server, so the vendor reaches --db through a port on its own server and nothing opens inward.

bastion runs the tunnel as a systemd service, bastion-tunnel@<name>.service, which restarts it (with a growing delay where systemd supports RestartSteps) and logs it to the journal: autossh, crontab @reboot lines and screen sessions are not needed. ssh runs as the system user bastion-tunnel (no login shell) under systemd's sandboxing, with its own ed25519 key generated on the host (the private key never leaves it; the public key is printed for the vendor's form), ExitOnForwardFailure, keep-alives, BatchMode and the server's host key pinned in the tunnel's own known_hosts (StrictHostKeyChecking=yes: given with --server-host-key, or fetched on the host and accepted only when it has the --server-host-key-fingerprint). Re-running changes nothing; changed flags rewrite the tunnel's files and restart it; the key is reused. A host without systemd is refused. All the work is one POSIX sh script run with sudo -n over one SSH connection.`

  static override examples = [
    {
      description: 'Integrate.io: the server and port come from the connection\'s "tunnel server:port" box',
      command:
        '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse --preset integrate-io --server tunnel.integrate.example --remote-port 12345 --db 10.0.1.5:5432 --server-host-key-fingerprint SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU',
    },
    {
      description: 'Any vendor, every field given, the server key pinned from a known_hosts line',
      command:
        '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name warehouse --server tunnel.vendor.example --server-port 50683 --server-user sshtunnel --remote-port 12345 --db 10.0.1.5:5432 --server-host-key "tunnel.vendor.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"',
    },
    {
      description: 'Show the files and the remote script without touching the host',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.7 --name reports --preset holistics --remote-port 20032 --db 10.0.1.5:5432 --server-host-key-fingerprint SHA256:… --dry-run',
    },
  ]

  static override flags = {
    ...connectionFlags,
    'alive-count-max': Flags.integer({description: 'Keep-alives that may go unanswered before ssh gives up on the connection (and systemd starts a new one).', default: 3, min: 1, max: 100}),
    'alive-interval': Flags.integer({description: 'Seconds between keep-alives to the vendor\'s server (ServerAliveInterval).', default: 15, min: 1, max: 3600}),
    'bind-all': Flags.boolean({
      description: "Listen on every address of the vendor's server (-R *:port), not only its loopback: what Holistics asks for. The server must allow it (GatewayPorts clientspecified). Default: the preset's, else off.",
      allowNo: true,
    }),
    db: Flags.string({description: 'Where the vendor\'s connections go, as the tunnel host reaches it: host:port or [v6]:port.', required: true}),
    'dry-run': Flags.boolean({description: 'Print the tunnel\'s files and the remote script; connect to nothing, change nothing.'}),
    name: Flags.string({description: 'The tunnel\'s name (lower case, digits, "-"): the service is bastion-tunnel@<name>.service.', required: true}),
    preset: Flags.string({description: `Take the vendor's server, port, user and bind address from its document; every flag below overrides. One of: ${PRESET_NAMES.join(', ')}.`, options: PRESET_NAMES}),
    'remote-port': Flags.integer({description: "The port the vendor's server listens on for this tunnel (assigned by the vendor; Holistics: your pick in 20000-20100).", min: 1, max: 65535}),
    server: Flags.string({description: "The vendor's tunnel server (host name or address)."}),
    'server-host-key': Flags.string({description: "The server's host key, pinned as given: a known_hosts line (\"host type base64\") or \"type base64\". The Chartio preset carries the key its document publishes."}),
    'server-host-key-fingerprint': Flags.string({
      description: "The server's host key fingerprint (SHA256:…): the host fetches the key with ssh-keyscan and pins it only when the fingerprint matches; otherwise nothing is changed.",
      helpValue: 'SHA256:…',
    }),
    'server-port': Flags.integer({description: "The SSH port of the vendor's server (default: the preset's, else 22).", min: 1, max: 65535}),
    'server-user': Flags.string({description: "The login on the vendor's server (default: the preset's)."}),
    wait: Flags.integer({description: 'Seconds to wait on the host for the tunnel to log in (or fail) before reporting its state.', default: ADD_WAIT_S, min: 0, max: 120}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Run a reverse SSH tunnel to a vendor's server as a systemd service on a host."

  public override async run(): Promise<TunnelAddCommandResult> {
    const {flags: given} = await this.parse(TunnelAdd)
    const flags = withConnectionEnv(given)
    const hosts = requireHosts(flags)
    const {spec, warnings} = tunnelSpecFromFlags(flags)
    for (const w of warnings) this.warning(w)
    const summary = specSummary(spec)
    if (flags['dry-run']) {
      const result: TunnelAddCommandResult = {dryRun: true, tunnel: summary, hosts, script: addScript(spec, flags.wait), warnings}
      this.show(() => renderTunnelAddHuman(result, this.out))
      return result
    }
    const multi = await this.onHosts(
      hosts,
      {...toConnectionOptions(flags), concurrency: flags.concurrency},
      (h) => `${h}: tunnel ${spec.name} → ${spec.server}:${spec.remotePort}`,
      async ({target, run}) => applyAdd(target.input, run, spec, flags.wait),
    )
    const result: TunnelAddCommandResult = {dryRun: false, tunnel: summary, ...multi, warnings}
    this.show(() => renderTunnelAddHuman(result, this.out, (r) => this.renderHostError(r)))
    return result
  }
}
