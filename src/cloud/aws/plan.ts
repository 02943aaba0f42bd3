/**
 * What `bastion create --cloud aws` makes, as a pure plan: printable (--dry-run without credentials) and
 * unit-testable. create.ts compares it with what exists (reconcile.ts) and makes what is missing; nothing here talks
 * to AWS.
 */
import type {PublicKey} from '../../access/keys.js'
import type {AddPlan} from '../../access/service.js'
import type {Style} from '../../ui/style.js'
import {MANAGED_BY, TAG_MANAGED_BY, TAG_NAME, type VendorAccess} from '../provider.js'
import {encodeUserData, renderUserData, SSHD_DROPIN_PATH} from '../user-data.js'
import {ADMIN_RULE_DESCRIPTION, vendorRuleDescription} from '../whitelist.js'

/** Tags on the bastion's security group that remember the database rule (doctor reads them). */
export const DB_SG_TAG = 'bastion:db-sg'
export const DB_PORT_TAG = 'bastion:db-port'
export const SSH_PORT = 22

export type ImageChoice = {kind: 'ubuntu-24.04'} | {kind: 'al2023'} | {kind: 'ami'; id: string}

/** --disk-size's bounds (GiB): gp3 volumes are 1 GiB to 16 TiB; the AMI's own root size is the floor. */
export const MAX_DISK_GIB = 16384
/** The root volume of the Ubuntu 24.04 and Amazon Linux 2023 images (GiB), when EC2 shows no image of the family. */
export const FAMILY_ROOT_GIB = 8

export type KeyPairChoice = {kind: 'import'; key: PublicKey} | {kind: 'existing'; name: string}

/** Validated input of `create --cloud aws`. */
export interface AwsCreateRequest {
  name: string
  subnetId: string
  /** At most one vendor at creation (more with `whitelist add` and `add-vendor-key`). */
  vendor?: VendorAccess
  /** The vendor's key, planned by planAdd: the user-data sets the vendor up at boot. */
  vendorKey?: AddPlan
  adminCidrs: string[]
  allowAnywhere: boolean
  instanceType: string
  image: ImageChoice
  keyPair?: KeyPairChoice
  eip: boolean
  db?: {securityGroupId: string; port: number}
  /** The database as the vendor's form names it (host:port), for the printout. */
  database?: string
  /** --disk-size: the root volume in GiB (default: the AMI's own root size). */
  diskSize?: number
}

export interface IngressSpec {
  cidr: string
  port: number
  description: string
  role: 'vendor' | 'admin'
  vendor?: string
}

export interface AwsCreatePlan {
  name: string
  subnetId: string
  instanceType: string
  arch: 'x86_64' | 'arm64'
  image: {
    /** What RunInstances gets as ImageId: `resolve:ssm:<public parameter>` or an AMI id. */
    imageId: string
    description: string
    /** The image's root device (known for the two families; read from DescribeImages for --ami). */
    rootDevice?: string
    /** The login user of the image, for the operator's own SSH. */
    loginUser?: string
    ssmParameter?: string
    /** For the two families: how DescribeImages finds the image the SSM parameter names, for its root volume size. */
    lookup?: {owner: string; name: string}
  }
  securityGroup: {groupName: string; description: string}
  ingress: IngressSpec[]
  keyPair?: {action: 'import'; name: string; key: PublicKey} | {action: 'use'; name: string}
  instance: {
    metadataOptions: {HttpTokens: 'required'; HttpEndpoint: 'enabled'; HttpPutResponseHopLimit: number}
    /** sizeGiB: --disk-size; absent, the AMI's root size (observed; reconcile.ts decides). */
    rootVolume: {encrypted: true; volumeType: 'gp3'; deleteOnTermination: true; sizeGiB?: number}
    userData: string
    /** Bytes sent (before base64), and whether they are the gzip-compressed script. */
    userDataBytes: number
    userDataGzip: boolean
  }
  eip: boolean
  db?: {securityGroupId: string; port: number; description: string}
  tags: Record<string, string>
  vendor?: {name: string; cidrs: string[]; keyFingerprint?: string; keyLine?: string}
  /** The vendor's key plan (what the user-data's vendor script was rendered from). */
  vendorKey?: AddPlan
  database?: string
  warnings: string[]
  /** Warnings that matter only when the instance is launched (its key pair, its user-data). */
  launchWarnings: string[]
}

/** Graviton (arm64) instance families: a1, and every family with a `g` right after the generation digit (t4g, m7gd, c7gn …). */
export function archOf(instanceType: string): 'x86_64' | 'arm64' {
  return /^(a1|[a-z]+\d+g[a-z]*)\./.test(instanceType) ? 'arm64' : 'x86_64'
}

/** The SSM public parameter holding the latest AMI of a family for an architecture. */
export function ssmImageParameter(image: 'ubuntu-24.04' | 'al2023', arch: 'x86_64' | 'arm64'): string {
  if (image === 'ubuntu-24.04') return `/aws/service/canonical/ubuntu/server/24.04/stable/current/${arch === 'arm64' ? 'arm64' : 'amd64'}/hvm/ebs-gp3/ami-id`
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`
}

/** The DescribeImages owner and name pattern of the images an SSM parameter of the family points at. */
export function familyImageLookup(image: 'ubuntu-24.04' | 'al2023', arch: 'x86_64' | 'arm64'): {owner: string; name: string} {
  if (image === 'ubuntu-24.04') return {owner: '099720109477', name: `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${arch === 'arm64' ? 'arm64' : 'amd64'}-server-*`}
  return {owner: 'amazon', name: `al2023-ami-2023.*-kernel-*-${arch}`}
}

export function keyPairName(name: string): string {
  return `bastion-${name}`
}

export function securityGroupName(name: string): string {
  return `bastion-${name}`
}

export function dbRuleDescription(name: string): string {
  return `bastion:db-access name=${name}`
}

export function planCreate(req: AwsCreateRequest): AwsCreatePlan {
  const arch = archOf(req.instanceType)
  const warnings: string[] = []
  let image: AwsCreatePlan['image']
  if (req.image.kind === 'ami') {
    image = {imageId: req.image.id, description: `${req.image.id} (given with --ami)`}
  } else {
    const ssm = ssmImageParameter(req.image.kind, arch)
    const lookup = familyImageLookup(req.image.kind, arch)
    image =
      req.image.kind === 'ubuntu-24.04'
        ? {imageId: `resolve:ssm:${ssm}`, ssmParameter: ssm, lookup, description: `latest Ubuntu 24.04 LTS (${arch})`, rootDevice: '/dev/sda1', loginUser: 'ubuntu'}
        : {imageId: `resolve:ssm:${ssm}`, ssmParameter: ssm, lookup, description: `latest Amazon Linux 2023 (${arch})`, rootDevice: '/dev/xvda', loginUser: 'ec2-user'}
  }
  const ingress: IngressSpec[] = []
  if (req.vendor) {
    for (const cidr of req.vendor.cidrs)
      ingress.push({cidr, port: SSH_PORT, description: vendorRuleDescription(req.vendor.vendor), role: 'vendor', vendor: req.vendor.vendor})
  }
  for (const cidr of req.adminCidrs) {
    if (!ingress.some((r) => r.cidr === cidr)) ingress.push({cidr, port: SSH_PORT, description: ADMIN_RULE_DESCRIPTION, role: 'admin'})
  }
  if (req.adminCidrs.length === 0)
    warnings.push('no --admin-cidr: nothing admits your own address, so add-vendor-key and doctor cannot reach the host over SSH until you add one')
  const launchWarnings: string[] = []
  if (!req.keyPair)
    launchWarnings.push('no --public-key-file or --key-name: no key can log in as the image\'s admin user; add-vendor-key and doctor need one')
  if (!req.eip) warnings.push('--no-eip: the public address changes when the instance is stopped and started; the vendor must then update its form')
  if (req.vendor && !req.vendorKey)
    launchWarnings.push(`no --key-file: ${req.vendor.vendor}'s user is not set up at boot; add it later with bastion add-vendor-key`)
  const userData = renderUserData({name: req.name, ...(req.vendorKey ? {vendor: req.vendorKey} : {})})
  const wire = encodeUserData(userData)
  const keyPair: AwsCreatePlan['keyPair'] =
    req.keyPair?.kind === 'import'
      ? {action: 'import', name: keyPairName(req.name), key: req.keyPair.key}
      : req.keyPair?.kind === 'existing'
        ? {action: 'use', name: req.keyPair.name}
        : undefined
  return {
    name: req.name,
    subnetId: req.subnetId,
    instanceType: req.instanceType,
    arch,
    image,
    securityGroup: {groupName: securityGroupName(req.name), description: `bastion ${req.name}: SSH tunnels for vendors`},
    ingress,
    ...(keyPair ? {keyPair} : {}),
    instance: {
      metadataOptions: {HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1},
      rootVolume: {encrypted: true, volumeType: 'gp3', deleteOnTermination: true, ...(req.diskSize !== undefined ? {sizeGiB: req.diskSize} : {})},
      userData,
      userDataBytes: wire.data.length,
      userDataGzip: wire.gzip,
    },
    eip: req.eip,
    ...(req.db ? {db: {...req.db, description: dbRuleDescription(req.name)}} : {}),
    tags: {[TAG_NAME]: req.name, [TAG_MANAGED_BY]: MANAGED_BY, Name: `bastion-${req.name}`},
    ...(req.vendor
      ? {
          vendor: {
            name: req.vendor.vendor,
            cidrs: req.vendor.cidrs,
            ...(req.vendorKey ? {keyFingerprint: req.vendorKey.key.fingerprint, keyLine: req.vendorKey.line} : {}),
          },
        }
      : {}),
    ...(req.vendorKey ? {vendorKey: req.vendorKey} : {}),
    ...(req.database ? {database: req.database} : {}),
    warnings,
    launchWarnings,
  }
}

/** The root volume's size as the plan knows it (before the AMI is read). */
export function rootVolumeText(plan: AwsCreatePlan): string {
  const asked = plan.instance.rootVolume.sizeGiB
  if (asked !== undefined) return `${asked} GiB (--disk-size; at least the AMI's own root size)`
  return `the AMI's own root size${plan.image.ssmParameter ? ` (${FAMILY_ROOT_GIB} GiB for this image family)` : ''}; --disk-size to choose`
}

/** The plan for people (--dry-run): every resource, every rule, the user-data. */
export function renderPlanHuman(plan: AwsCreatePlan, s: Style, region?: string): string {
  const out: string[] = []
  const tags = Object.entries(plan.tags).map(([k, v]) => `${k}=${v}`).join(', ')
  out.push(s.bold(`Plan for bastion ${plan.name} on AWS${region ? ` (${region})` : ''} — dry run: no AWS call was made`))
  out.push('')
  out.push(`  tags on every resource: ${tags}`)
  out.push(`  network: subnet ${plan.subnetId} (the VPC is the subnet's); warns when its route table has no 0.0.0.0/0 route to an internet gateway`)
  if (plan.keyPair?.action === 'import') out.push(`  key pair ${plan.keyPair.name}: import ${plan.keyPair.key.algorithm} ${plan.keyPair.key.fingerprint} (your admin key)`)
  if (plan.keyPair?.action === 'use') out.push(`  key pair ${plan.keyPair.name}: existing, used as is`)
  out.push(`  security group ${plan.securityGroup.groupName} ("${plan.securityGroup.description}"), inbound:`)
  if (plan.ingress.length === 0) out.push('    (no rule: nothing can reach SSH yet)')
  for (const r of plan.ingress) out.push(`    tcp ${r.port} from ${r.cidr}  "${r.description}"`)
  out.push('    outbound: all (the default), so the bastion reaches the database')
  out.push(`  instance ${plan.instanceType} (${plan.arch}), image ${plan.image.description}`)
  if (plan.image.ssmParameter) out.push(`    ImageId ${plan.image.imageId}`)
  out.push('    IMDSv2 required (HttpTokens=required, hop limit 1)')
  out.push(`    root volume: ${rootVolumeText(plan)}, gp3, encrypted, deleted with the instance`)
  out.push(`    user-data: sshd drop-in ${SSHD_DROPIN_PATH}${plan.vendor?.keyLine ? `, vendor user ${plan.vendor.name} with its key` : ''} (below)`)
  out.push(`  address: ${plan.eip ? 'a new Elastic IP, associated with the instance (survives stop/start)' : 'the instance\'s public IP (changes on stop/start)'}`)
  if (plan.db) out.push(`  database security group ${plan.db.securityGroupId}: admit the bastion's security group on tcp ${plan.db.port} ("${plan.db.description}")`)
  out.push('  then: wait until running and status checks pass; read the SSH host keys from the console into known_hosts')
  if (plan.vendor) {
    out.push('')
    out.push(s.bold(`For ${plan.vendor.name}'s "SSH tunnel" form (once created):`))
    out.push(`  SSH host: ${plan.eip ? '<the Elastic IP>' : '<the public IP>'}`)
    out.push(`  SSH port: ${SSH_PORT}`)
    out.push(`  SSH user: ${plan.vendor.name}`)
    if (plan.database) out.push(`  Database (host:port in the form): ${plan.database}`)
    if (plan.vendor.keyLine) out.push(`  authorized_keys line: ${plan.vendor.keyLine}`)
  }
  for (const w of [...plan.warnings, ...plan.launchWarnings]) out.push(`${s.warn('warning:')} ${w}`)
  out.push('')
  const wire = plan.instance.userDataGzip ? `, sent gzip-compressed as ${plan.instance.userDataBytes} bytes` : ''
  out.push(s.bold(`User-data (${Buffer.byteLength(plan.instance.userData)} bytes${wire}; cloud-init runs it once, as root):`))
  out.push(plan.instance.userData)
  return out.join('\n')
}
