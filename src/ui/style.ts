/**
 * Colour for human output. Colour is used only when the stream is a TTY and NO_COLOR is unset (https://no-color.org);
 * FORCE_COLOR forces it. Progress and colour go to stderr; stdout carries the result.
 */
import {Chalk, type ChalkInstance} from 'chalk'

export function colourLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR === '0' ? 0 : 1
  if (!stream.isTTY) return 0
  return env.TERM === 'dumb' ? 0 : 2
}

export function chalkFor(stream: NodeJS.WriteStream): ChalkInstance {
  return new Chalk({level: colourLevel(stream)})
}

export interface Style {
  ok(text: string): string
  bad(text: string): string
  warn(text: string): string
  dim(text: string): string
  bold(text: string): string
  code(text: string): string
}

export function styleFor(stream: NodeJS.WriteStream): Style {
  const c = chalkFor(stream)
  return {
    ok: (t) => c.green(t),
    bad: (t) => c.red(t),
    warn: (t) => c.yellow(t),
    dim: (t) => c.dim(t),
    bold: (t) => c.bold(t),
    code: (t) => c.cyan(t),
  }
}
