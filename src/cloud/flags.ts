/**
 * Flags shared by the cloud commands (create, destroy, list, whitelist): --cloud, and every cloud's own flags (from
 * the registry; the seam refuses those of another cloud), and --name.
 */
import {Flags} from '@oclif/core'
import {cloudFlag, providerCreateFlags, providerFlags} from './registry.js'

/** list, whitelist, destroy. */
export const cloudFlags = {cloud: cloudFlag, ...providerFlags}

/** create. */
export const cloudCreateFlags = {cloud: cloudFlag, ...providerCreateFlags}

export const nameFlag = Flags.string({
  description: 'The bastion\'s name: 1-63 lower-case letters, digits and "-". Every resource carries it as the tag bastion:name, which is how bastion finds them again.',
  helpValue: '<name>',
  required: true,
})
