/**
 * Several rendered scripts in one round trip: each runs in its own `sh` (so one script's `exit`, traps and variables
 * never reach the next), one after the other, its output between marker lines; the results are split back into one
 * ExecResult per script. doctor --config reads a bastion's accounts and probes each of its vendors this way: one
 * connection, one exec, however many vendors.
 */
import {randomBytes} from 'node:crypto'
import type {ExecResult} from '../ssh/types.js'
import type {ScriptRunner} from './run.js'

const MARK = '@bastion-part'

/** The one script that runs `scripts` in turn; its stdout marks where each part starts and how it ended. */
export function batchScript(scripts: string[], token: string = randomBytes(12).toString('hex')): string {
  // One brace group: the shell reads all of it (every script) before it runs any, so a connection lost while the batch
  // is still arriving runs nothing rather than a prefix.
  const lines = ['#!/bin/sh', '# rendered by bastion: several scripts in one round trip (src/remote/batch.ts)', '{']
  scripts.forEach((script, i) => {
    const end = `BASTION_PART_${i}_${token}`
    if (script.split('\n').includes(end)) throw new Error('batch delimiter collides with a script line')
    lines.push(`printf '%s\\n' '${MARK} ${i} start'`, `sh -s <<'${end}'`, script.replace(/\n?$/, '\n') + end, `printf '\\n%s\\n' "${MARK} ${i} exit $?"`)
  })
  lines.push('}', 'exit 0')
  return `${lines.join('\n')}\n`
}

/** Split the batch's stdout into one result per script (stderr is shared: every part gets all of it). */
export function splitBatch(count: number, result: ExecResult): ExecResult[] {
  const out: ExecResult[] = Array.from({length: count}, () => ({code: null, stdout: '', stderr: result.stderr}))
  let current: ExecResult | undefined
  const lines = result.stdout.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const line of lines) {
    const m = /^@bastion-part (\d+) (start|exit)(?: (\d+))?$/.exec(line)
    if (m) {
      const part = out[Number(m[1])]
      if (m[2] === 'start') current = part
      else {
        if (part) {
          part.code = Number(m[3])
          // the marker starts with a newline of its own: drop the empty line it left
          part.stdout = part.stdout.replace(/\n$/, '')
        }
        current = undefined
      }
      continue
    }
    if (current) current.stdout += `${line}\n`
  }
  return out
}

/** Run every script through `run` in one round trip; results in the order of `scripts`. */
export async function runBatch(run: ScriptRunner, scripts: string[]): Promise<ExecResult[]> {
  if (scripts.length === 0) return []
  return splitBatch(scripts.length, await run(batchScript(scripts)))
}

/**
 * A runner that answers the given scripts from one batched round trip (made on the first call) and runs any other
 * script on its own: lets a service written for one script per call (doctorOnHost) share the batch.
 */
export function batchedRunner(run: ScriptRunner, scripts: string[]): ScriptRunner {
  let results: Promise<ExecResult[]> | undefined
  return async (script) => {
    const i = scripts.indexOf(script)
    if (i < 0) return run(script)
    results ??= runBatch(run, scripts)
    return (await results)[i] as ExecResult
  }
}
