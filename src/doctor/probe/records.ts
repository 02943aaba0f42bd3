/**
 * The probe's lines as typed records: each `@bastion <key> …` line split into the fields PROBE_VOCABULARY declares for
 * its key. A line whose key the table does not know, or that does not fit its key's fields, is set aside (listed in
 * `unknown` and `malformed`) and never reaches a reader.
 */
import {internalError} from '../../errors.js'
import {parseFacts, type ScriptFact} from '../../remote/script.js'
import {
  PROBE_VOCABULARY,
  REST_KINDS,
  isProbeKey,
  type FactRecord,
  type FieldKind,
  type FieldSpec,
  type KeyOf,
  type ProbeArea,
  type ProbeKey,
} from './vocabulary.js'

const KIND_PATTERN: Record<Exclude<FieldKind, 'text' | 'words'>, RegExp> = {
  count: /^\d+$/,
  int: /^(?:-|-?\d+)$/,
  flag: /^[01]$/,
  word: /^[^ ]+$/,
  hex: /^[0-9a-fA-F]+$/,
  octal: /^[0-7]+$/,
  b64: /^(?:-|[A-Za-z0-9+/]+={0,2})$/,
  path: /^.+$/s,
}

type FieldValue = string | number | boolean | string[] | undefined

function fieldValue(kind: FieldKind, text: string): FieldValue {
  switch (kind) {
    case 'count':
      return Number(text)
    case 'int':
      return text === '-' ? undefined : Number(text)
    case 'flag':
      return text === '1'
    case 'b64':
      return text === '-' ? '' : Buffer.from(text, 'base64').toString('utf8')
    case 'words':
      return text === '' ? [] : text.split(' ')
    default:
      return text
  }
}

export type SplitResult<K extends ProbeKey> = {ok: true; record: FactRecord<K>} | {ok: false; problem: string}

/** Split one line of `key` into its declared fields; says what does not fit when it does not. */
export function splitFact<K extends ProbeKey>(key: K, fact: Pick<ScriptFact, 'args'>): SplitResult<K> {
  const fields: readonly FieldSpec[] = PROBE_VOCABULARY[key].fields
  const record: Record<string, FieldValue> = {}
  for (const [i, field] of fields.entries()) {
    const rest = REST_KINDS.has(field.kind)
    const text = rest ? fact.args.slice(i).join(' ') : fact.args[i]
    if (text === undefined) {
      if (field.optional) {
        record[field.name] = undefined
        continue
      }
      return {ok: false, problem: `${key}: the field ${field.name} is missing`}
    }
    if (field.kind !== 'text' && field.kind !== 'words' && !KIND_PATTERN[field.kind].test(text)) {
      return {ok: false, problem: `${key}: the field ${field.name} is not ${field.kind === 'path' ? 'a path' : `of kind ${field.kind}`}: ${JSON.stringify(text.slice(0, 80))}`}
    }
    record[field.name] = fieldValue(field.kind, text)
  }
  return {ok: true, record: record as FactRecord<K>}
}

/** A record with its key, for readers that take several keys in output order. */
export type KeyedRecord<K extends ProbeKey> = {[P in K]: {key: P; record: FactRecord<P>}}[K]

/** What one area's reader may look up: only the keys the vocabulary gives to that area. */
export interface AreaRecords<A extends ProbeArea> {
  /** The first line of `key`, or undefined. */
  first<K extends KeyOf<A>>(key: K): FactRecord<K> | undefined
  /** Every line of `key`, in output order. */
  all<K extends KeyOf<A>>(key: K): FactRecord<K>[]
  /** Every line of any of `keys`, in output order, each with its key. */
  inOrder<K extends KeyOf<A>>(keys: readonly K[]): KeyedRecord<K>[]
}

export class ProbeRecords {
  private readonly records: Array<KeyedRecord<ProbeKey>> = []
  /** Lines whose key the vocabulary does not know. */
  readonly unknown: ScriptFact[] = []
  /** Lines of a known key that do not fit its fields, each with what is wrong. */
  readonly malformed: Array<{fact: ScriptFact; problem: string}> = []
  /** The keys a reader looked up (for the test that every key the vocabulary gives a reader is read). */
  readonly looked = new Set<ProbeKey>()

  constructor(readonly stdout: string) {
    for (const fact of parseFacts(stdout)) {
      if (!isProbeKey(fact.key)) {
        this.unknown.push(fact)
        continue
      }
      const split = splitFact(fact.key, fact)
      if (split.ok) this.records.push({key: fact.key, record: split.record} as KeyedRecord<ProbeKey>)
      else this.malformed.push({fact, problem: split.problem})
    }
  }

  /** The view of one area: its reader can look up its own keys only. */
  area<A extends ProbeArea>(area: A): AreaRecords<A> {
    const own = (key: ProbeKey): void => {
      if (PROBE_VOCABULARY[key].readBy !== area) {
        throw internalError('PROBE_VOCABULARY', `the ${area} reader looked up "${key}", which the probe vocabulary gives to ${PROBE_VOCABULARY[key].readBy}`)
      }
      this.looked.add(key)
    }
    return {
      first: <K extends KeyOf<A>>(key: K) => {
        own(key)
        return this.records.find((r) => r.key === key)?.record as FactRecord<K> | undefined
      },
      all: <K extends KeyOf<A>>(key: K) => {
        own(key)
        return this.records.filter((r) => r.key === key).map((r) => r.record as FactRecord<K>)
      },
      inOrder: <K extends KeyOf<A>>(keys: readonly K[]) => {
        for (const key of keys) own(key)
        const wanted = new Set<ProbeKey>(keys)
        return this.records.filter((r) => wanted.has(r.key)) as KeyedRecord<K>[]
      },
    }
  }
}

/**
 * What in a probe run's stdout the vocabulary does not account for: lines of an unknown key, and lines that do not
 * fit their key's fields. Empty for every output the probe can print.
 */
export function probeOutputProblems(stdout: string): string[] {
  const records = new ProbeRecords(stdout)
  return [
    ...records.unknown.map((f) => `unknown key "${f.key}": @bastion ${f.key}${f.rest ? ` ${f.rest}` : ''}`.slice(0, 200)),
    ...records.malformed.map((m) => m.problem),
  ]
}
