import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {hostLabel, type MultiHostResult} from '../ssh/pool.js'
import {connectionFlags, toConnectionOptions, withConnectionEnv} from '../ssh/flags.js'
import {commandHosts, configFlags} from '../config/flags.js'
import {givenFlags} from '../cloud/seam.js'
import {parseFromCidrs, parseShell, parseVendorName} from '../access/input.js'
import {parseExpires, parseHostPorts, parsePublicHost, todayUtc} from '../input/parse.js'
import {renamedFrom} from '../input/renamed-flags.js'
import {readVendorKey} from '../access/key-input.js'
import {addScript, applyAdd, planAdd, type AddResult} from '../access/service.js'
import {renderAddHuman, type AddVendorKeyResult} from '../access/render.js'

export default class AddVendorKey extends BastionCommand<AddVendorKeyResult> {
  static override description = `Creates (if missing) the vendor's group and user with home, ~/.ssh (0700) and authorized_keys (0600) owned by the vendor, shell /usr/sbin/nologin, the account unlocked for key logins; then adds the key as a least-privilege line:

  restrict,port-forwarding,permitopen="<db>:<port>"[,from="<cidrs>"][,expiry-time="…"],command="/bin/false" <key> bastion:vendor=<name>,added=<date>

The vendor can open a tunnel to the --db destinations and nothing else: no shell, no pty, no agent or X11 forwarding, and the forced command runs no command whatever the account's shell. Only accounts bastion created are used: an existing user it did not create is refused (--adopt takes one over), and so is a vendor name that is an existing group; the home, ~/.ssh and authorized_keys are never written through a link or taken from another user. Re-running changes nothing; the same key with other flags is updated in place; lines bastion does not own are kept byte for byte. All the work is one POSIX sh script per host, run with sudo -n over one SSH connection, writing authorized_keys atomically under a lock. Prints what changed and the values the vendor's "SSH tunnel" form asks for (SSH host, port, user).`

  static override examples = [
    {
      description: 'Give Hevo a tunnel to one PostgreSQL database',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --key-file hevo.pub --db 10.0.1.5:5432',
    },
    {
      description: "Only from the vendor's addresses, expiring at the end of the contract, on two bastions",
      command:
        '<%= config.bin %> <%= command.id %> --host jump-a --host jump-b --vendor fivetran --key-file fivetran.pub --db db.internal:5432 --vendor-ip 35.234.176.144/29 --expires 2027-06-30',
    },
    {
      description: 'Hand an existing account (made by hand for the vendor earlier) over to bastion',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor stitch --key-file stitch.pub --db 10.0.1.5:5432 --adopt',
    },
    {
      description: 'Show the plan and the remote script without touching the host',
      command: '<%= config.bin %> <%= command.id %> --host admin@10.0.0.5 --vendor hevo --key-file hevo.pub --db 10.0.1.5:5432 --dry-run',
    },
  ]

  static override flags = {
    ...connectionFlags,
    ...configFlags,
    adopt: Flags.boolean({
      description:
        'Take over an existing, non-system account that bastion did not create (recorded on the host under /var/lib/bastion/vendors). Without it such an account is refused, and a vendor name that is an existing group is always refused. The account keeps its shell; the key\'s forced command still runs no command. remove-vendor-key --delete-user never deletes an adopted account.',
    }),
    'allow-anywhere': Flags.boolean({
      description: 'Allow a --vendor-ip of 0.0.0.0/0, ::/0 or any IPv4 prefix shorter than /8 (IPv6: /16): the key then works from (nearly) anywhere. Refused otherwise.',
    }),
    db: renamedFrom(
      Flags.string({
        description: 'The database the tunnel may reach, host:port or [v6]:port (repeatable, or comma-separated). Nothing else is reachable.',
        multiple: true,
        required: true,
      }),
      'permit-open',
    ),
    'dry-run': Flags.boolean({description: 'Print the plan and the remote script; connect to nothing, change nothing.'}),
    expires: Flags.string({
      description: 'The key stops working after this: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or a duration like 90d, 12h, 4w. Written as expiry-time, which sshd reads in the host\'s time zone.',
    }),
    key: Flags.string({description: 'The vendor\'s public key as text (instead of --key-file).'}),
    'key-file': Flags.string({char: 'k', description: 'File with the vendor\'s public key (one line, e.g. hevo.pub); "-" reads standard input.'}),
    'public-host': Flags.string({
      description: 'The address the vendor connects to, if not the --host address (e.g. the public IP while you manage the host over a VPN): host or host:port.',
    }),
    shell: Flags.string({description: 'Login shell for the vendor user (default /usr/sbin/nologin: tunnels need no shell). Also changes an existing user\'s shell.'}),
    vendor: Flags.string({description: 'Vendor name: the Linux user and group to create (lower case, e.g. hevo, fivetran).', required: true}),
    'vendor-ip': renamedFrom(
      Flags.string({
        description: 'Only accept the key from these addresses (CIDR or address; repeatable, or comma-separated): the vendor\'s published IPs. Written as from="…". A prefix shorter than /8 (IPv4) or /16 (IPv6) is refused unless --allow-anywhere; one wider than /24 or /64 gets a warning.',
        helpValue: '<cidr>',
        multiple: true,
      }),
      'from',
    ),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = "Give a vendor's public key tunnel-only access to a database through bastion host(s)."

  public override async run(): Promise<AddVendorKeyResult> {
    const {flags: given, raw} = await this.parse(AddVendorKey)
    const flags = withConnectionEnv(given)
    const hosts = await commandHosts(given, givenFlags(raw))
    const vendor = parseVendorName(flags.vendor)
    const parsed = await readVendorKey(flags)
    const permitOpen = parseHostPorts(flags.db)
    const {from, warnings: fromWarnings} = parseFromCidrs(flags['vendor-ip'] ?? [], flags['allow-anywhere'])
    const warnings = [...parsed.warnings, ...fromWarnings]
    for (const w of warnings) this.warning(w)
    const expiry = flags.expires === undefined ? undefined : parseExpires(flags.expires)
    const shell = flags.shell === undefined ? undefined : parseShell(flags.shell)
    const publicEndpoint = flags['public-host'] === undefined ? undefined : parsePublicHost(flags['public-host'])
    const plan = planAdd({
      vendor,
      key: parsed.key,
      permitOpen,
      from,
      ...(expiry ? {expiryTime: expiry.expiryTime} : {}),
      ...(shell ? {shell} : {}),
      today: todayUtc(),
      ...(flags.adopt ? {adopt: true} : {}),
    })
    const options = toConnectionOptions(flags)
    const common = {
      vendor,
      key: {type: plan.key.type, bits: plan.key.bits, algorithm: plan.key.algorithm, fingerprint: plan.key.fingerprint, comment: plan.key.comment},
      line: plan.line,
      ...(expiry ? {expires: expiry.at.toISOString()} : {}),
      warnings,
    }

    if (flags['dry-run']) {
      const result: AddVendorKeyResult = {dryRun: true, ...common, hosts: hosts.map(hostLabel), script: addScript(plan)}
      this.show(() => renderAddHuman(result, this.out))
      return result
    }

    const multi: MultiHostResult<AddResult & {vendorForm: {sshHost: string; sshPort: number; sshUser: string}}> = await this.onHosts(
      hosts,
      {...options, concurrency: flags.concurrency},
      (h) => `${h}: add ${plan.key.algorithm} key for ${vendor}`,
      async ({target, run}) => {
        const res = await applyAdd(target.input, run, plan)
        return {
          ...res,
          vendorForm: {sshHost: publicEndpoint?.host ?? target.hostName, sshPort: publicEndpoint?.port ?? target.port, sshUser: vendor},
        }
      },
    )
    const result: AddVendorKeyResult = {dryRun: false, ...common, ...multi}
    this.show(() => renderAddHuman(result, this.out, (r) => this.renderHostError(r)))
    return result
  }
}
