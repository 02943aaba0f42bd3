/**
 * Run a command class in-process, as oclif would (the package's config, the command's own parse and catch): stdout
 * through the command's log/logJson (the test runner owns process.stdout), stderr (progress, warnings) captured from
 * process.stderr, the exit code from process.exitCode (reset after each run).
 */
import {readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {Config} from '@oclif/core'
import {packageRoot} from '../../src/paths.js'
import {commandsDir} from './cli.js'

let config: Config | undefined

async function load(): Promise<Config> {
  const pjson = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
  pjson.oclif.commands = `./${relative(packageRoot, commandsDir)}`
  return Config.load({root: packageRoot, pjson})
}

type CommandClass = new (argv: string[], config: Config) => {log(m?: string): void; logJson(j: unknown): void; _run(): Promise<unknown>}

export interface InProcessRun {
  out: string
  err: string
  code: number
  /** stdout as JSON (with --json). */
  json: any
}

export async function runCommand(cmd: unknown, argv: string[]): Promise<InProcessRun> {
  config ??= await load()
  let out = ''
  let err = ''
  const c = new (cmd as CommandClass)(argv, config)
  c.log = (m = '') => {
    out += `${m}\n`
  }
  c.logJson = (j) => {
    out += `${JSON.stringify(j, null, 2)}\n`
  }
  const ew = process.stderr.write.bind(process.stderr)
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write
  try {
    await c._run()
  } finally {
    process.stderr.write = ew
  }
  const code = Number(process.exitCode ?? 0)
  process.exitCode = 0
  let json: any
  if (argv.includes('--json')) json = JSON.parse(out)
  return {out, err, code, json}
}
