/**
 * The flags only `create --cloud aws` has (src/cloud/aws/flags.ts), validated into AwsCreateOptions, and the request
 * with them as the AwsCreateRequest the plan is made from. Each refusal says what is wrong and how to fix it (exit 2,
 * nothing is created). Talks to no cloud.
 */
import {inputError} from '../../errors.js'
import type {PublicKey} from '../../access/keys.js'
import type {CreateRequest} from '../provider.js'
import {DEFAULT_INSTANCE_TYPE, IMAGE_NAMES, type AwsFlagValues} from './flags.js'
import {MAX_DISK_GIB, type AwsCreateRequest, type ImageChoice} from './plan.js'

/** What the AWS flags of create say. */
export interface AwsCreateOptions {
  subnetId: string
  instanceType: string
  image: ImageChoice
  /** An existing key pair (--key-name), instead of importing --public-key-file. */
  keyName?: string
  eip: boolean
  db?: {securityGroupId: string; port: number}
  /** --disk-size in GiB (the floor, the AMI's own root size, is checked once the AMI is read). */
  diskSize?: number
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

/** --disk-size: whole GiB, 1 to MAX_DISK_GIB (gp3's limits). */
export function parseDiskSize(raw: string): number {
  const v = raw.trim().replace(/\s*gib?$/i, '')
  const n = /^\d+$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_DISK_GIB)
    throw inputError('DISK_SIZE', `--disk-size "${raw}" is not a root volume size: a whole number of GiB from 1 to ${MAX_DISK_GIB} (gp3's limits)`, [
      '--disk-size 20',
      "or leave it out: the root volume gets the AMI's own size",
    ])
  return n
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

export function parseAwsCreateOptions(flags: AwsFlagValues, request: CreateRequest<undefined>): {options: AwsCreateOptions; warnings: string[]} {
  if (!flags.subnet)
    throw inputError('SUBNET_MISSING', 'AWS needs the subnet to create the bastion in (a public subnet of the database\'s VPC)', [
      '--subnet subnet-0abc1234def567890',
      'list them: aws ec2 describe-subnets --query "Subnets[].[SubnetId,VpcId,AvailabilityZone,MapPublicIpOnLaunch]" --output table',
    ])
  const subnetId = parseAwsId('subnet', flags.subnet, '--subnet')

  let db: AwsCreateOptions['db']
  if (flags['db-security-group'] !== undefined) {
    const sg = parseAwsId('sg', flags['db-security-group'], '--db-security-group')
    const port = flags['db-port'] ?? request.permitOpen[0]?.port
    if (port === undefined)
      throw inputError('DB_PORT_MISSING', '--db-security-group needs the database port', ['--db-port 5432', 'or --db 10.0.1.5:5432 (its port is used)'])
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

  let keyName: string | undefined
  if (request.adminKey && flags['key-name'] !== undefined) throw inputError('KEY_PAIR_TWICE', 'give --public-key-file or --key-name, not both', [])
  if (request.adminKey) checkImportableKey(request.adminKey.key, request.adminKey.source)
  else if (flags['key-name'] !== undefined) {
    const k = flags['key-name'].trim()
    if (k === '' || k.length > 255) throw inputError('KEY_NAME', '--key-name is empty or too long', ['--key-name my-key'])
    keyName = k
  }

  const options: AwsCreateOptions = {
    subnetId,
    instanceType: parseInstanceType(flags['instance-type'] ?? DEFAULT_INSTANCE_TYPE),
    image,
    ...(keyName !== undefined ? {keyName} : {}),
    eip: flags.eip !== false,
    ...(db ? {db} : {}),
    ...(flags['disk-size'] !== undefined ? {diskSize: parseDiskSize(flags['disk-size'])} : {}),
  }
  return {options, warnings: []}
}

/** The request with its AWS options, as the plan (planCreate) takes it. */
export function toAwsRequest(request: CreateRequest<AwsCreateOptions>): AwsCreateRequest {
  const o = request.options
  return {
    name: request.name,
    subnetId: o.subnetId,
    ...(request.vendor ? {vendor: request.vendor} : {}),
    ...(request.vendorKey ? {vendorKey: request.vendorKey} : {}),
    adminCidrs: request.adminCidrs,
    allowAnywhere: request.allowAnywhere,
    instanceType: o.instanceType,
    image: o.image,
    ...(request.adminKey ? {keyPair: {kind: 'import', key: request.adminKey.key}} : o.keyName !== undefined ? {keyPair: {kind: 'existing', name: o.keyName}} : {}),
    eip: o.eip,
    ...(o.db ? {db: o.db} : {}),
    ...(o.diskSize !== undefined ? {diskSize: o.diskSize} : {}),
    ...(request.permitOpen[0] ? {database: request.permitOpen.map((p) => p.text).join(', ')} : {}),
  }
}
