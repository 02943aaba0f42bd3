/**
 * The host checks, in report order: sshd, user, files, keys, network. Each is a pure function of the facts; cloud
 * checks (AWS, Azure) are `Check<CloudFacts>` lists of their own and plug in next to these without touching them.
 */
import type {Check} from '../types.js'
import {filesChecks} from './files.js'
import {keysChecks} from './keys.js'
import {networkChecks} from './network.js'
import {sshdChecks} from './sshd.js'
import {userChecks} from './user.js'

export const hostChecks: Check[] = [...sshdChecks, ...userChecks, ...filesChecks, ...keysChecks, ...networkChecks]

/** Every finding id the host checks can produce (docs/checks.md documents each). */
export const hostCheckIds: string[] = [...new Set(hostChecks.flatMap((c) => c.ids))]

export {filesChecks, keysChecks, networkChecks, sshdChecks, userChecks}
