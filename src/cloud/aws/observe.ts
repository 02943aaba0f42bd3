/**
 * create's first phase: read everything the decision needs, and nothing else — the subnet and its route table, the
 * database's security group and its rules, the AMI given with --ami, the key pair the plan names, and every resource
 * tagged for the bastion. Reads only; reconcile.ts decides.
 */
import type {EC2Client, Image} from '@aws-sdk/client-ec2'
import {aws} from './errors.js'
import {describeKeyPairs, describeRules, describeSecurityGroups, emptyInventory, inventory, type AwsInventory, type KeyPairInfo, type SecurityGroupInfo, type SgRuleInfo} from './inventory.js'
import {subnetRouteTable, type RouteTableInfo} from './network.js'
import type {AwsCreatePlan} from './plan.js'
import {ec2sdk} from './sdk.js'

export interface ObservedImage {
  /** The AMI id (for the families: the newest image DescribeImages finds for the SSM parameter's owner and name). */
  id?: string
  architecture: 'x86_64' | 'arm64'
  windows: boolean
  rootDevice?: string
  /** The size (GiB) of the image's root volume: the Ebs.VolumeSize of the mapping named RootDeviceName. */
  rootSizeGiB?: number
}

/** The image as create needs it: architecture, platform, root device and the root volume's size. */
export function observedImage(img: Image): ObservedImage {
  const root = img.RootDeviceName ? img.BlockDeviceMappings?.find((m) => m.DeviceName === img.RootDeviceName) : undefined
  const size = root?.Ebs?.VolumeSize
  return {
    ...(img.ImageId ? {id: img.ImageId} : {}),
    architecture: img.Architecture === 'arm64' ? 'arm64' : 'x86_64',
    windows: String(img.Platform ?? '').toLowerCase() === 'windows',
    ...(img.RootDeviceName ? {rootDevice: img.RootDeviceName} : {}),
    ...(typeof size === 'number' && size > 0 ? {rootSizeGiB: size} : {}),
  }
}

export interface AwsObservation {
  /** The subnet asked for; absent when EC2 does not know it (then nothing else was read). */
  subnet?: {id: string; vpcId: string; availabilityZone?: string}
  routeTable?: RouteTableInfo
  /** With a database group in the plan: the group (absent when it does not exist) and its inbound rules. */
  db?: {group?: SecurityGroupInfo; rules: SgRuleInfo[]}
  /**
   * With --ami: the image; absent when EC2 does not know it. For the two families (launched as resolve:ssm:…): the
   * newest available image of the parameter's owner and name, read for its root volume size; absent when EC2 shows
   * none (an emulator without the public images).
   */
  image?: ObservedImage
  /** The key pair the plan names (to import, or --key-name), when it exists. */
  keyPair?: KeyPairInfo
  inventory: AwsInventory
}

export async function observeCreate(client: EC2Client, plan: AwsCreatePlan, progress: (status: string) => void = () => {}): Promise<AwsObservation> {
  const {DescribeImagesCommand, DescribeSubnetsCommand} = await ec2sdk()
  progress(`reading subnet ${plan.subnetId}`)
  const subnets = await aws('DescribeSubnets', () => client.send(new DescribeSubnetsCommand({SubnetIds: [plan.subnetId]})))
  const s = subnets.Subnets?.[0]
  if (!s?.VpcId) return {inventory: emptyInventory(plan.name)}
  const obs: AwsObservation = {
    subnet: {id: plan.subnetId, vpcId: s.VpcId, ...(s.AvailabilityZone ? {availabilityZone: s.AvailabilityZone} : {})},
    inventory: emptyInventory(plan.name),
  }
  const table = await subnetRouteTable(client, plan.subnetId, s.VpcId)
  if (table) obs.routeTable = table

  if (plan.db) {
    const [group] = await describeSecurityGroups(client, [], [plan.db.securityGroupId])
    const rules = group ? (await describeRules(client, [{Name: 'group-id', Values: [group.id]}])).filter((r) => !r.egress) : []
    obs.db = {...(group ? {group} : {}), rules}
  }
  if (!plan.image.ssmParameter) {
    const images = await aws('DescribeImages', () => client.send(new DescribeImagesCommand({ImageIds: [plan.image.imageId]})))
    const img = images.Images?.[0]
    if (img) obs.image = observedImage(img)
  } else if (plan.image.lookup) {
    progress(`reading the root volume size of the ${plan.image.description} image`)
    const {owner, name} = plan.image.lookup
    const images = await aws('DescribeImages', () =>
      client.send(
        new DescribeImagesCommand({
          Owners: [owner],
          Filters: [
            {Name: 'name', Values: [name]},
            {Name: 'architecture', Values: [plan.arch]},
            {Name: 'state', Values: ['available']},
          ],
        }),
      ),
    )
    const newest = [...(images.Images ?? [])].sort((a, b) => String(b.CreationDate ?? '').localeCompare(String(a.CreationDate ?? '')))[0]
    if (newest) obs.image = observedImage(newest)
  }
  if (plan.keyPair) {
    const [kp] = await describeKeyPairs(client, [], [plan.keyPair.name])
    if (kp) obs.keyPair = kp
  }
  progress(`looking for resources tagged bastion:name=${plan.name}`)
  obs.inventory = await inventory(client, plan.name)
  return obs
}
