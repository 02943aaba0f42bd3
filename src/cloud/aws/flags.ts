/**
 * The flags only `--cloud aws` reads. The registry merges them into the cloud commands' flags (oclif must know every
 * flag when it parses); the seam refuses them with another --cloud. No SDK here: every command's class loads this.
 */
import {Flags, type Interfaces} from '@oclif/core'

export const DEFAULT_INSTANCE_TYPE = 't3.micro'
export const IMAGE_NAMES = ['ubuntu-24.04', 'al2023'] as const

/** Read by every cloud command (and doctor --cloud aws). */
export const awsFlags = {
  profile: Flags.string({
    description: 'AWS: the named profile of ~/.aws/config and ~/.aws/credentials (as aws --profile; SSO profiles work). Default: AWS_PROFILE, else "default".',
    helpValue: '<profile>',
  }),
  region: Flags.string({
    description: 'AWS: the region, e.g. eu-west-1. Default: AWS_REGION, else the profile\'s region. AWS_ENDPOINT_URL(_EC2) points bastion at another EC2-compatible endpoint.',
    helpValue: '<region>',
  }),
}

/** Read by create only. */
export const awsCreateFlags = {
  ami: Flags.string({description: 'Use this AMI instead of --image (its root device and architecture are checked).', helpValue: '<ami-…>'}),
  'db-port': Flags.integer({description: 'The database port to admit the bastion on (default: the port of --db).', min: 1, max: 65535}),
  'db-security-group': Flags.string({description: "The database's security group: a rule admitting the bastion's group on --db-port is added.", helpValue: '<sg-…>'}),
  'disk-size': Flags.string({
    description: "The root volume in GiB, at least the AMI's own root size (default: that size, 8 GiB for Ubuntu 24.04 and AL2023).",
    helpValue: '<GiB>',
  }),
  eip: Flags.boolean({
    allowNo: true,
    default: true,
    description: 'Give the bastion an Elastic IP, the stable address the vendor allowlists (--no-eip: the instance\'s public IP, which changes on stop/start).',
  }),
  image: Flags.string({description: `The OS (default ubuntu-24.04): the latest image, from AWS's public SSM parameters.`, options: [...IMAGE_NAMES]}),
  'instance-type': Flags.string({description: `EC2 instance type (default ${DEFAULT_INSTANCE_TYPE}; Graviton types such as t4g.micro get arm64 images).`, helpValue: '<type>'}),
  'key-name': Flags.string({description: 'An existing EC2 key pair for the image\'s admin user (ubuntu / ec2-user).', helpValue: '<key pair>'}),
  subnet: Flags.string({description: 'The subnet to create the bastion in: a public subnet of the database\'s VPC.', helpValue: '<subnet-…>'}),
}

/** The values of the AWS flags, as oclif parses them. */
export type AwsFlagValues = Partial<Interfaces.InferredFlags<typeof awsFlags & typeof awsCreateFlags>>

/** The region to show in a dry run without loading the SDK: the flag, else the environment. */
export function regionHint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
}
