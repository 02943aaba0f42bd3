/**
 * Colour for human output. Colour is used only when the stream is a TTY and NO_COLOR is unset (https://no-color.org);
 * FORCE_COLOR forces it. Progress and colour go to stderr; stdout carries the result.
 */
import type {ChalkInstance} from 'chalk'

export function colourLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR === '0' ? 0 : 1
  if (!stream.isTTY) return 0
  return env.TERM === 'dumb' ? 0 : 2
}

export interface Style {
  ok(text: string): string
  bad(text: string): string
  warn(text: string): string
  dim(text: string): string
  bold(text: string): string
  code(text: string): string
}

/** Text as it is: the style of a stream that gets no colour. */
export const plainStyle: Style = {ok: same, bad: same, warn: same, dim: same, bold: same, code: same}

function same(text: string): string {
  return text
}

/**
 * The style of a stream: plain when it gets no colour (colourLevel), else chalk's colours. chalk is imported only then:
 * it costs some 15 ms of start-up, which runs in CI, in hooks and under pipes (every `config validate`) do not pay.
 */
export async function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Promise<Style> {
  const level = colourLevel(stream, env)
  if (level === 0) return plainStyle
  const {Chalk} = await import('chalk')
  return styleOf(new Chalk({level}))
}

function styleOf(c: ChalkInstance): Style {
  return {
    ok: (t) => c.green(t),
    bad: (t) => c.red(t),
    warn: (t) => c.yellow(t),
    dim: (t) => c.dim(t),
    bold: (t) => c.bold(t),
    code: (t) => c.cyan(t),
  }
}
