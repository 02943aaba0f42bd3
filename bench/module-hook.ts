/**
 * `node --import <this file>`: append the URL of every module the process resolves (import and require) to the file
 * named by BENCH_MODULE_LOG, so the benchmark can say which modules a command loads.
 */
import {appendFileSync} from 'node:fs'
import {registerHooks} from 'node:module'

const log = process.env.BENCH_MODULE_LOG
if (log) {
  registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context)
      if (r.url) appendFileSync(log, r.url + '\n')
      return r
    },
  })
}
