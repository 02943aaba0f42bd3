/**
 * The flags of `create --cloud aws`, validated once, at the edge, into an AwsCreateRequest. Each refusal says what is
 * wrong and how to fix it (exit 2, nothing is created). Reads the key files; talks to no cloud.
 */
import {inputError} from '../../errors.js'
import {parseVendorName} from '../../access/input.js'
import {parseExpires, parseHostPort, todayUtc} from '../../input/parse.js'
import {parsePublicKey, type PublicKey} from '../../access/keys.js'
import {readKeyText} from '../../access/key-input.js'
import {planAdd} from '../../access/service.js'
import {parseBastionName, parseWhitelistCidrs} from '../whitelist.js'
import {DEFAULT_INSTANCE_TYPE, IMAGE_NAMES, type AwsCreateRequest, type ImageChoice, type KeyPairChoice} from './plan.js'

export interface CreateFlags {
  name: string
  subnet?: string | undefined
  vendor?: string | undefined
  'vendor-ip'?: string[] | undefined
  'vendor-key-file'?: string | undefined
  'vendor-key'?: string | undefined
  'permit-open'?: string[] | undefined
  expires?: string | undefined
  'admin-cidr'?: string[] | undefined
  'allow-anywhere'?: boolean | undefined
  'db-security-group'?: string | undefined
  'db-port'?: number | undefined
  'instance-type'?: string | undefined
  image?: string | undefined
  ami?: string | undefined
  'public-key-file'?: string | undefined
  'key-name'?: string | undefined
  eip?: boolean | undefined
}

const ID = {
  subnet: /^subnet-[0-9a-f]{8,17}$/,
  sg: /^sg-[0-9a-f]{8,17}$/,
  ami: /^ami-[0-9a-f]{8,17}$/,
}

export function parseAwsId(kind: keyof typeof ID, raw: string, flag: string): string {
  const v = raw.trim()
  if (!ID[kind].test(v)) throw inputError('AWS_ID', `${flag} "${raw}" is not ${kind === 'sg' ? 'a security group' : kind === 'ami' ? 'an AMI' : 'a subnet'} id`, [`${flag} ${kind}-0abc1234def567890`])
  return v
}

export function parseInstanceType(raw: string): string {
  const v = raw.trim()
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(v)) throw inputError('INSTANCE_TYPE', `--instance-type "${raw}" is not an EC2 instance type`, ['--instance-type t3.micro', '--instance-type t4g.micro'])
  return v
}

/** Your own key for the image's admin user: EC2 imports RSA and ED25519 keys only. */
export function checkImportableKey(key: PublicKey, source: string): PublicKey {
  if (key.type !== 'ssh-ed25519' && key.type !== 'ssh-rsa')
    throw inputError('KEY_PAIR_TYPE', `${source}: EC2 key pairs can only be RSA or ED25519, not ${key.algorithm}`, [
      'make one: ssh-keygen -t ed25519 -f ~/.ssh/bastion_admin',
      'or use an existing EC2 key pair: --key-name <name>',
    ])
  return key
}

export async function buildCreateRequest(flags: CreateFlags): Promise<{request: AwsCreateRequest; warnings: string[]}> {
  const warnings: string[] = []
  const name = parseBastionName(flags.name)
  if (!flags.subnet)
    throw inputError('SUBNET_MISSING', 'AWS needs the subnet to create the bastion in (a public subnet of the database\'s VPC)', [
      '--subnet subnet-0abc1234def567890',
      'list them: aws ec2 describe-subnets --query "Subnets[].[SubnetId,VpcId,AvailabilityZone,MapPublicIpOnLaunch]" --output table',
    ])
  const subnetId = parseAwsId('subnet', flags.subnet, '--subnet')
  const allowAnywhere = flags['allow-anywhere'] === true

  const vendorIps = flags['vendor-ip'] ?? []
  let vendor: AwsCreateRequest['vendor']
  if (flags.vendor !== undefined) {
    const v = parseVendorName(flags.vendor)
    if (vendorIps.length === 0)
      throw inputError('VENDOR_IP_MISSING', `give the addresses ${v} connects from: the security group admits only them`, [
        `--vendor-ip 52.6.1.1/32 (repeat for each address in ${v}'s docs)`,
      ])
    const parsed = parseWhitelistCidrs(vendorIps, '--vendor-ip', allowAnywhere)
    warnings.push(...parsed.warnings)
    vendor = {vendor: v, cidrs: parsed.cidrs}
  } else if (vendorIps.length > 0) {
    throw inputError('VENDOR_MISSING', '--vendor-ip needs --vendor: each rule is described with the vendor it is for', ['--vendor hevo --vendor-ip 52.6.1.1/32'])
  }
  const admin = parseWhitelistCidrs(flags['admin-cidr'] ?? [], '--admin-cidr', allowAnywhere)
  warnings.push(...admin.warnings)
  const adminCidrs = admin.cidrs

  const permitOpen = (flags['permit-open'] ?? []).map((p) => parseHostPort(p))
  const keyFile = flags['vendor-key-file']
  const keyText = flags['vendor-key']
  let vendorKey: AwsCreateRequest['vendorKey']
  if (keyFile !== undefined || keyText !== undefined) {
    if (keyFile !== undefined && keyText !== undefined)
      throw inputError('KEY_TWICE', 'give the vendor key once: --vendor-key-file or --vendor-key, not both', ['--vendor-key-file hevo.pub'])
    if (!vendor) throw inputError('VENDOR_MISSING', '--vendor-key-file needs --vendor (the user to create) and --vendor-ip', ['--vendor hevo --vendor-ip 52.6.1.1/32 --vendor-key-file hevo.pub'])
    if (permitOpen.length === 0)
      throw inputError('PERMIT_OPEN_MISSING', "the vendor's key needs --permit-open: the database its tunnel may reach (and nothing else)", ['--permit-open 10.0.1.5:5432'])
    const parsed = keyText !== undefined ? parsePublicKey(keyText, '--vendor-key') : parsePublicKey(await readKeyText(keyFile as string, '--vendor-key-file'), keyFile)
    warnings.push(...parsed.warnings)
    const expiry = flags.expires === undefined ? undefined : parseExpires(flags.expires)
    vendorKey = planAdd({
      vendor: vendor.vendor,
      key: parsed.key,
      permitOpen,
      ...(expiry ? {expiryTime: expiry.expiryTime} : {}),
      today: todayUtc(),
    })
  } else if (flags.expires !== undefined) {
    throw inputError('EXPIRES_WITHOUT_KEY', '--expires applies to the vendor key: give --vendor-key-file too', [])
  }

  let db: AwsCreateRequest['db']
  if (flags['db-security-group'] !== undefined) {
    const sg = parseAwsId('sg', flags['db-security-group'], '--db-security-group')
    const port = flags['db-port'] ?? permitOpen[0]?.port
    if (port === undefined)
      throw inputError('DB_PORT_MISSING', '--db-security-group needs the database port', ['--db-port 5432', 'or --permit-open 10.0.1.5:5432 (its port is used)'])
    db = {securityGroupId: sg, port}
  } else if (flags['db-port'] !== undefined) {
    throw inputError('DB_SG_MISSING', '--db-port needs --db-security-group: the group to add the rule to', ['--db-security-group sg-0abc1234def567890 --db-port 5432'])
  }

  let image: ImageChoice
  if (flags.ami !== undefined) {
    if (flags.image !== undefined) throw inputError('IMAGE_TWICE', 'give --image or --ami, not both', ['--image ubuntu-24.04', '--ami ami-0abc1234def567890'])
    image = {kind: 'ami', id: parseAwsId('ami', flags.ami, '--ami')}
  } else {
    const i = flags.image ?? 'ubuntu-24.04'
    if (!(IMAGE_NAMES as readonly string[]).includes(i)) throw inputError('IMAGE', `--image ${i} is not one of ${IMAGE_NAMES.join(', ')}`)
    image = {kind: i as 'ubuntu-24.04' | 'al2023'}
  }

  let keyPair: KeyPairChoice | undefined
  if (flags['public-key-file'] !== undefined && flags['key-name'] !== undefined)
    throw inputError('KEY_PAIR_TWICE', 'give --public-key-file or --key-name, not both', [])
  if (flags['public-key-file'] !== undefined) {
    const file = flags['public-key-file']
    const parsed = parsePublicKey(await readKeyText(file, '--public-key-file'), file)
    warnings.push(...parsed.warnings)
    keyPair = {kind: 'import', key: checkImportableKey(parsed.key, file)}
  } else if (flags['key-name'] !== undefined) {
    const k = flags['key-name'].trim()
    if (k === '' || k.length > 255) throw inputError('KEY_NAME', '--key-name is empty or too long', ['--key-name my-key'])
    keyPair = {kind: 'existing', name: k}
  }

  const request: AwsCreateRequest = {
    name,
    subnetId,
    ...(vendor ? {vendor} : {}),
    ...(vendorKey ? {vendorKey} : {}),
    adminCidrs,
    allowAnywhere,
    instanceType: parseInstanceType(flags['instance-type'] ?? DEFAULT_INSTANCE_TYPE),
    image,
    ...(keyPair ? {keyPair} : {}),
    eip: flags.eip !== false,
    ...(db ? {db} : {}),
    ...(permitOpen[0] ? {database: permitOpen.map((p) => p.text).join(', ')} : {}),
  }
  return {request, warnings}
}
