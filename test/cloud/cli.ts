/**
 * Run the real CLI on the commands compiled next to this test (whatever the outDir: dist, dist-h6 …), as a user
 * would: a child process, oclif's own loader, the package's plugins. `bin/run.js` always loads dist/src/commands, so
 * this runner hands oclif the same package.json with `oclif.commands` pointing at this build.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {packageRoot} from '../../src/paths.js'
import {runProcess, type CliRun} from '../helpers/cli.js'

/** <outDir> of this build: this file is <outDir>/test/cloud/cli.js. */
export const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const commandsDir = join(outDir, 'src', 'commands')

const RUNNER = `
import {readFileSync} from 'node:fs'
import {execute} from '@oclif/core'
const root = process.env.BASTION_TEST_ROOT
const pjson = JSON.parse(readFileSync(root + '/package.json', 'utf8'))
pjson.oclif.commands = process.env.BASTION_TEST_COMMANDS
await execute({args: JSON.parse(process.env.BASTION_TEST_ARGS), loadOptions: {root, pjson}})
`

export type {CliRun}

/** The CLI as a child process the test holds (to send it a signal); stdio piped. */
export function spawnBastion(args: string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  const full: NodeJS.ProcessEnv = {...env, NO_COLOR: '1', BASTION_TEST_ROOT: packageRoot, BASTION_TEST_COMMANDS: `./${relative(packageRoot, commandsDir)}`, BASTION_TEST_ARGS: JSON.stringify(args)}
  delete full.SSH_AUTH_SOCK
  return spawn(process.execPath, ['--input-type=module', '-e', RUNNER], {cwd: packageRoot, env: full, stdio: ['pipe', 'pipe', 'pipe']})
}

export function runBastion(
  args: string[],
  opts: {env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; nodeArgs?: string[]} = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    ...opts.env,
    BASTION_TEST_ROOT: packageRoot,
    BASTION_TEST_COMMANDS: `./${relative(packageRoot, commandsDir)}`,
    BASTION_TEST_ARGS: JSON.stringify(args),
  }
  delete env.SSH_AUTH_SOCK
  return runProcess(process.execPath, [...(opts.nodeArgs ?? []), '--input-type=module', '-e', RUNNER], {
    cwd: packageRoot,
    env,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 60_000,
    json: args.includes('--json'),
  })
}
