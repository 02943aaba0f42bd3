/**
 * GitHub Actions workflow commands (`::error file=…,line=…::message`), which the runner turns into annotations on the
 * pull request. Escaping as GitHub's toolkit does it (@actions/core, command.ts): in the message `%`, CR and LF become
 * `%25`, `%0D`, `%0A`; in a property value `:` and `,` also become `%3A` and `%2C`, since they delimit properties.
 */

export type AnnotationKind = 'error' | 'warning' | 'notice'

export interface AnnotationProperties {
  file?: string
  line?: number
  endLine?: number
  /** Only sent when the annotation is on one line (GitHub ignores columns across lines). */
  col?: number
  endColumn?: number
  title?: string
}

/** A message (the data after `::`). */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** A property value. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/** One workflow command line, properties in the documented order, absent ones left out. */
export function annotation(kind: AnnotationKind, props: AnnotationProperties, message: string): string {
  const oneLine = props.line !== undefined && (props.endLine === undefined || props.endLine === props.line)
  const entries: [string, string | number | undefined][] = [
    ['file', props.file],
    ['line', props.line],
    ['endLine', props.endLine],
    ['col', oneLine ? props.col : undefined],
    ['endColumn', oneLine ? props.endColumn : undefined],
    ['title', props.title],
  ]
  const text = entries
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',')
  return `::${kind}${text === '' ? '' : ` ${text}`}::${escapeData(message)}`
}
