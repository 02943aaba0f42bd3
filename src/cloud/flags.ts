/** Flags shared by the cloud commands (create, destroy, list, whitelist). */
import {Flags} from '@oclif/core'
import {CLOUDS} from './provider.js'

export const cloudFlags = {
  cloud: Flags.string({
    description: 'The cloud the bastion lives in.',
    options: [...CLOUDS],
    required: true,
  }),
  profile: Flags.string({
    description: 'AWS: the named profile of ~/.aws/config and ~/.aws/credentials (as aws --profile; SSO profiles work). Default: AWS_PROFILE, else "default".',
    helpValue: '<profile>',
  }),
  region: Flags.string({
    description: 'AWS: the region, e.g. eu-west-1. Default: AWS_REGION, else the profile\'s region. AWS_ENDPOINT_URL(_EC2) points bastion at another EC2-compatible endpoint.',
    helpValue: '<region>',
  }),
}

export const nameFlag = Flags.string({
  description: 'The bastion\'s name: 1-63 lower-case letters, digits and "-". Every resource carries it as the tag bastion:name, which is how bastion finds them again.',
  helpValue: '<name>',
  required: true,
})

/** The region to show in a dry run without loading the SDK: the flag, else the environment. */
export function regionHint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
}
