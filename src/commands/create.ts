import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {buildCreateRequest, createBastion, dryRunCreate} from '../cloud/create.js'
import {cloudCreateFlags} from '../cloud/flags.js'
import type {CreateDryRun, CreateResult} from '../cloud/provider.js'
import {renderCreateHuman, renderPreviewHuman} from '../cloud/render.js'
import {runCloudOperation} from '../cloud/run.js'
import {givenFlags, openCloud, openProvider} from '../cloud/seam.js'
import {createFlagsFromConfig} from '../config/create.js'
import {configFlags, configMode, optionalCloudFlag} from '../config/flags.js'
import {inputError} from '../errors.js'
import {expandTilde} from '../input/parse.js'
import {renamedFrom} from '../input/renamed-flags.js'

export type CreateCommandResult = CreateResult | CreateDryRun

export default class Create extends BastionCommand<CreateCommandResult> {
  static override description = `Creates, on AWS or Azure, everything a vendor's SSH tunnel needs, and nothing more. On AWS:
- a security group admitting SSH (port 22) only from each --vendor-ip (the rule's description names the vendor) and
  from --admin-cidr; 0.0.0.0/0, ::/0 and any IPv4 prefix shorter than /8 (IPv6: /16) are refused unless
  --allow-anywhere, and a prefix wider than /24 (IPv6: /64) gets a warning;
- an instance of the latest Ubuntu 24.04 LTS (or Amazon Linux 2023) from AWS's public SSM parameters, IMDSv2
  required, root volume encrypted and as large as the image's own (read with DescribeImages; --disk-size for more,
  never less), t3.micro unless --instance-type, in the subnet given (the VPC is the subnet's; a warning says when the
  subnet has no route to an internet gateway);
- user-data that installs an sshd drop-in (keys only, no root login, no X11 or agent forwarding, local TCP
  forwarding for tunnels, MaxStartups 50:30:100) and, with --key-file, sets the vendor's user up with the
  same script add-vendor-key runs;
- an Elastic IP (unless --no-eip): the address the vendor allowlists survives stop/start;
- with --db-security-group: a rule letting the bastion's group reach the database port. Every resource carries the tags bastion:name=<name> and managed-by=bastion: that is how a re-run finds them (it creates only what is missing) and how list, whitelist and destroy work; there is no local state file. It waits until the instance runs and its status checks pass, reads the SSH host keys cloud-init prints on the console and records them in known_hosts (so later SSH is verified), and prints what the vendor's form needs. If a step fails, or on Ctrl-C, what this run created is removed again, newest first. Credentials and region come from the AWS SDK's usual chain (environment, ~/.aws, SSO, roles), --profile and --region on top; AWS_ENDPOINT_URL is honoured. --dry-run with credentials reads what exists and shows what create would change (read-only calls); without credentials it shows the plan and calls nothing. docs/aws-iam-policy.json is the least-privilege IAM policy for all of it.

On Azure (--cloud azure), an Ubuntu 24.04 LTS VM (--size, default Standard_B2ats_v2) in --resource-group and --subnet <vnet>/<subnet>, password login disabled, --public-key-file for azureuser, the same cloud-init script as customData; and either --firewall: a DNAT rule collection bastion-<name> on your Azure Firewall (classic rules, or its own rule collection group on a Firewall Policy) from the firewall's public IP and --public-port (default 2222) to the VM, whose only sources are the vendor's addresses and --admin-cidr; the VM gets no public IP and its NSG admits SSH from AzureFirewallSubnet only; every other rule of the firewall is left as it was, and each change of it reads, waits while the firewall is Updating, writes only bastion's collection and reads it back; or --public-ip: a Standard static public IP and an NSG admitting only the vendor's addresses and --admin-cidr. Host keys are read through Run Command. Credentials come from DefaultAzureCredential (az login, a managed identity, a service principal), the subscription from --subscription or AZURE_SUBSCRIPTION_ID; AZURE_RESOURCE_MANAGER_ENDPOINT is honoured. docs/azure-role.json is the least-privilege custom role.

With --config <file> --bastion <name>, a cloud bastion of bastion.yml: the file gives --cloud, --name, the cloud's settings (region; resource group, location, firewall or public IP) and the vendor (--vendor, or the bastion's only one) with its addresses, first key and databases; those flags are refused beside --config, the others (--subnet, --public-key-file, --admin-cidr, --dry-run …) are given as usual.`

  static override examples = [
    {
      description: 'A bastion for Hevo, set up for its key, admitting the database security group',
      command:
        '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --subnet subnet-0abc1234def567890 --vendor hevo --vendor-ip 52.6.1.1/32 --key-file hevo.pub --db 10.0.1.5:5432 --db-security-group sg-0123456789abcdef0 --admin-cidr 203.0.113.7/32 --public-key-file ~/.ssh/id_ed25519.pub',
    },
    {
      description: 'Show what create would change (with credentials), or the plan, rules and user-data (without)',
      command:
        '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --subnet subnet-0abc1234def567890 --vendor hevo --vendor-ip 52.6.1.1/32 --dry-run',
    },
    {
      description: 'Amazon Linux 2023 on Graviton in another region, with a named profile',
      command:
        '<%= config.bin %> <%= command.id %> --cloud aws --name jump-eu --subnet subnet-0abc1234def567890 --image al2023 --instance-type t4g.micro --region eu-central-1 --profile prod --admin-cidr 203.0.113.7/32 --key-name ops',
    },
    {
      description: 'On Azure, behind the Azure Firewall: a DNAT rule on port 2222 admits only the vendor; the VM has no public IP',
      command:
        '<%= config.bin %> <%= command.id %> --cloud azure --name warehouse-jump --resource-group rg-data --subnet vnet-data/snet-bastion --firewall fw-hub --firewall-resource-group rg-hub --public-port 2222 --vendor hevo --vendor-ip 52.6.1.1/32 --key-file hevo.pub --db 10.0.1.5:5432 --public-key-file ~/.ssh/id_ed25519.pub',
    },
    {
      description: 'On Azure without a firewall: a static public IP and an NSG admitting only the vendor',
      command:
        '<%= config.bin %> <%= command.id %> --cloud azure --name warehouse-jump --resource-group rg-data --subnet vnet-data/snet-bastion --public-ip --vendor hevo --vendor-ip 52.6.1.1/32 --public-key-file ~/.ssh/id_ed25519.pub',
    },
    {
      description: 'A cloud bastion of bastion.yml: its cloud, region (Azure: resource group, firewall …), and its vendor\'s addresses, key and databases come from the file',
      command:
        '<%= config.bin %> <%= command.id %> --config bastion.yml --bastion warehouse-jump --subnet subnet-0abc1234def567890 --admin-cidr 203.0.113.7/32 --public-key-file ~/.ssh/id_ed25519.pub',
    },
    {
      description: 'A 30 GiB root volume (default: the image\'s own size, 8 GiB for Ubuntu 24.04 and Amazon Linux 2023)',
      command:
        '<%= config.bin %> <%= command.id %> --cloud aws --name warehouse-jump --subnet subnet-0abc1234def567890 --vendor hevo --vendor-ip 52.6.1.1/32 --disk-size 30',
    },
  ]

  static override flags = {
    ...cloudCreateFlags,
    ...configFlags,
    'admin-cidr': Flags.string({
      description: 'Your own addresses (CIDR or address; repeatable, or comma-separated): admitted on SSH so add-vendor-key and doctor can log in.',
      helpValue: '<cidr>',
      multiple: true,
    }),
    'allow-anywhere': Flags.boolean({description: 'Allow 0.0.0.0/0, ::/0 or any IPv4 prefix shorter than /8 (IPv6: /16) in --vendor-ip/--admin-cidr: (nearly) the whole internet reaches sshd. Refused otherwise.'}),
    cloud: optionalCloudFlag,
    'dry-run': Flags.boolean({
      description: 'Change nothing. With credentials: read what exists and show what create would change. Without: print the plan (resources, rules, user-data), calling no cloud API.',
    }),
    expires: Flags.string({description: 'The vendor key stops working after this (as add-vendor-key --expires: 2027-06-30, 90d …).'}),
    db: renamedFrom(
      Flags.string({
        description: "The database the vendor's tunnel may reach, host:port or [v6]:port (repeatable, or comma-separated): written into the vendor's key line, and shown for its form.",
        multiple: true,
      }),
      'permit-open',
    ),
    key: renamedFrom(Flags.string({description: "The vendor's public key as text (instead of --key-file)."}), 'vendor-key'),
    'key-file': renamedFrom(
      Flags.string({
        char: 'k',
        description: "The vendor's public key file (from its \"SSH tunnel\" form): its user is set up at boot. \"-\" reads standard input.",
      }),
      'vendor-key-file',
    ),
    'known-hosts': Flags.string({
      description: "known_hosts file to record the new host's SSH keys in (repeatable, as on the SSH commands: the keys go into the first; default ~/.ssh/known_hosts).",
      helpValue: '<file>',
      multiple: true,
    }),
    name: Flags.string({
      description:
        'The bastion\'s name: 1-63 lower-case letters, digits and "-". Every resource carries it as the tag bastion:name, which is how bastion finds them again. Not with --config/--bastion (the file says it).',
      helpValue: '<name>',
    }),
    'public-key-file': Flags.string({description: 'Your public key (ED25519 or RSA) for the image\'s admin user: imported as key pair bastion-<name> on AWS; azureuser\'s key on Azure (required there).', helpValue: '<file.pub>'}),
    vendor: Flags.string({
      description:
        "The vendor the bastion is for (lower case, e.g. hevo): names its SSH rules and, with a key, its Linux user. With --config: one of the bastion's vendors (default: its only one), whose addresses, first key and databases the file gives.",
    }),
    'vendor-ip': Flags.string({
      description: "The vendor's published addresses (CIDR or address; repeatable, or comma-separated): admitted on SSH.",
      helpValue: '<cidr>',
      multiple: true,
    }),
    'wait-timeout': Flags.integer({description: 'Seconds to wait for the status checks to pass.', default: 900, min: 30}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Create a bastion host in the cloud, ready for a vendor\'s SSH tunnel (safe to re-run).'

  public override async run(): Promise<CreateCommandResult> {
    const {flags: parsed, raw} = await this.parse(Create)
    const given = givenFlags(raw)
    let flags = parsed
    if (configMode(parsed)) {
      const fromFile = await createFlagsFromConfig(parsed, given)
      for (const w of fromFile.warnings) this.warning(w)
      flags = {...parsed, ...fromFile.flags}
    } else if (!parsed.cloud || !parsed.name) {
      throw inputError('CREATE_TARGET_MISSING', `create needs ${parsed.cloud ? '--name' : '--cloud and --name'} (or --config with --bastion: a cloud bastion of the config file)`, [
        '--cloud aws --name warehouse-jump --subnet subnet-0abc1234def567890',
        '--config bastion.yml --bastion warehouse-jump --subnet subnet-0abc1234def567890',
      ])
    }
    const cloud = await openCloud('create', flags.cloud as string, flags, given)
    const {request, warnings} = await buildCreateRequest(cloud, {...flags, name: flags.name as string})
    for (const w of warnings) this.warning(w)
    if (flags['dry-run']) {
      const dry = await dryRunCreate(cloud, request, warnings)
      this.show(() => (dry.changes ? renderPreviewHuman({...dry, changes: dry.changes}, this.out) : cloud.module.renderIntent(dry.plan, this.out, dry.region)))
      return dry
    }
    const provider = await openProvider(cloud)
    const result = await runCloudOperation({title: `${cloud.name}: create bastion ${request.name}`, progress: this.progressShown}, ({progress, signal}) =>
      createBastion(provider, request, {
        progress,
        signal,
        waitTimeoutSec: flags['wait-timeout'],
        ...(flags['known-hosts']?.[0] ? {knownHostsFile: expandTilde(flags['known-hosts'][0])} : {}),
      }),
    )
    this.show(() => renderCreateHuman(result, this.out))
    return result
  }
}
