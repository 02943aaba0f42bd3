/**
 * A module-resolution hook for a child process (node --import hookArg, module.registerHooks): it appends to the file
 * BASTION_TEST_MODULE_LOG every module URL that matches BASTION_TEST_MODULE_PATTERN (default: the cloud SDKs), so a
 * test can tell what a command loaded.
 */
export const HOOK = `
import {registerHooks} from 'node:module'
import {appendFileSync} from 'node:fs'
const log = process.env.BASTION_TEST_MODULE_LOG
const watched = new RegExp(process.env.BASTION_TEST_MODULE_PATTERN || '/@aws-sdk/|/@azure/')
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context)
    if (r.url && watched.test(r.url)) appendFileSync(log, r.url + '\\n')
    return r
  },
})
`
export const hookArg = `data:text/javascript,${encodeURIComponent(HOOK)}`
