/**
 * `npm pack` (prepack): write oclif.manifest.json at the package root from the compiled commands, as oclif's own
 * `oclif manifest` does. An installed bastion then finds every command's flags there and never computes or writes a
 * manifest at run time (the checkout's cache in dist/ is for development only: src/manifest-cache.ts).
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Plugin} from '@oclif/core'
import {packageRoot} from '../src/paths.js'

const plugin = new Plugin({root: packageRoot, isRoot: true, ignoreManifest: true, type: 'core'})
await plugin.load()
const commands = Object.keys(plugin.manifest.commands)
if (commands.length === 0 || commands.length !== plugin.commandIDs.length) {
  process.stderr.write(`manifest: ${commands.length} of ${plugin.commandIDs.length} commands loaded; not writing an incomplete manifest\n`)
  process.exit(1)
}
writeFileSync(join(packageRoot, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`)
process.stderr.write(`manifest: oclif.manifest.json with ${commands.length} commands\n`)
