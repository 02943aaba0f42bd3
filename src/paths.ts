import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package root: the nearest directory above this module holding both package.json and templates/. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir
    const up = dirname(dir)
    if (up === dir) throw new Error('bastion: cannot find the package root (package.json with templates/)')
    dir = up
  }
}

export const packageRoot = findRoot()
export const templatesDir = join(packageRoot, 'templates')
