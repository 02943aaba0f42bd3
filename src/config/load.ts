/**
 * Reading `bastion.yml`: YAML parsed with positions (the `yaml` package's LineCounter), then the schema
 * (src/config/schema.ts; its precompiled check first, zod for the messages). Every problem becomes a ConfigIssue that
 * names the file, line and column of the value it is about and says what was expected. Nothing here touches the network; the semantic checks (CIDRs, keys, references,
 * dates) are src/config/lint.ts.
 */
import {existsSync} from 'node:fs'
import {isAbsolute, resolve} from 'node:path'
import {CORE_SCHEMA, load as loadYaml} from 'js-yaml'
import {createRequire} from 'node:module'
import type * as Yaml from 'yaml'
import type {Document, Node} from 'yaml'
import type {z} from 'zod'
import {BastionError, inputError} from '../errors.js'
import {CONFIG_FILE_MAX_BYTES, readLimited} from '../input/file.js'
import checkSchemaShape from './schema-check.generated.js'
import type {BastionConfig} from './schema.js'

const require = createRequire(import.meta.url)
let yamlModule: typeof Yaml | undefined

/** The `yaml` package (some 190 modules), loaded on first use: a file js-yaml reads cleanly and that has no issue never needs it. */
function yaml(): typeof Yaml {
  return (yamlModule ??= require('yaml') as typeof Yaml)
}

/** The file commands read when neither --config nor BASTION_CONFIG says otherwise. */
export const DEFAULT_CONFIG_FILE = 'bastion.yml'

export type ConfigPath = (string | number)[]

export interface Position {
  /** 1-based. */
  line: number
  /** 1-based, in characters. */
  column: number
  endLine: number
  endColumn: number
}

export interface ConfigIssue extends Position {
  severity: 'error' | 'warning'
  /** Stable id: `yaml`, `schema.<zod code>`, or a lint rule such as `cidr.anywhere` (docs/config.md lists them). */
  code: string
  message: string
  /** Where in the model: e.g. ['vendors', 'hevo', 'cidrs', 0]. */
  path: ConfigPath
  /** The file, as the user named it. */
  file: string
  /** How to fix it. */
  suggestion?: string
}

export interface LoadedConfig {
  /** The file as the user named it (for messages and annotations). */
  file: string
  /** Its directory: key files are relative to it. */
  dir: string
  /** The model, when the file parsed and matched the schema (there may still be lint issues). */
  config?: BastionConfig
  issues: ConfigIssue[]
  /** The position of a path's value in the file (of the nearest enclosing node that exists). */
  locate(path: ConfigPath, which?: 'value' | 'key'): Position
}

/** --config, else BASTION_CONFIG, else ./bastion.yml. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.BASTION_CONFIG && env.BASTION_CONFIG !== '' ? env.BASTION_CONFIG : DEFAULT_CONFIG_FILE)
}

/** Read and parse the file; a missing or unreadable file is a usage error (exit 2), problems in it are issues. */
export async function loadConfigFile(file: string, cwd: string = process.cwd()): Promise<LoadedConfig> {
  const full = isAbsolute(file) ? file : resolve(cwd, file)
  if (!existsSync(full))
    throw inputError('CONFIG_MISSING', `the config file ${file} does not exist`, [
      'write one: bastion config import --host <bastion> > bastion.yml, or start from examples/bastion.yml',
      'or name it: --config path/to/bastion.yml (or BASTION_CONFIG=path/to/bastion.yml)',
    ])
  let text: string
  try {
    text = readLimited(full, {label: `--config ${file}`, holds: 'a bastion config file (YAML)', maxBytes: CONFIG_FILE_MAX_BYTES, regularOnly: true})
      .toString('utf8')
  } catch (error) {
    if (error instanceof BastionError) throw error
    throw inputError('CONFIG_UNREADABLE', `the config file ${file} cannot be read: ${(error as Error).message}`, [
      `check its permissions: ls -l ${full}`,
    ])
  }
  return await parseConfig(text, file, resolve(full, '..'))
}

/**
 * Parse the text of a config file named `file` (key files relative to `dir`).
 *
 * Speed (a file of 4,000 vendors is about 1 MB): js-yaml reads the data some ten times faster than the `yaml`
 * package composes a document with positions, so a file it reads cleanly is read with it, and the `yaml` document —
 * the source of every line and column — is made only when a position is asked for (an issue to report). Anything
 * js-yaml refuses (a syntax error, a repeated key, several documents, a tag) and any file with anchors (whose aliases
 * `yaml` expands with a limit) is read by `yaml` alone, which reports it. Both read YAML 1.2's core schema: dates stay
 * strings, `<<` is a plain key.
 */
export async function parseConfig(text: string, file: string, dir: string = process.cwd()): Promise<LoadedConfig> {
  let cached: {doc: Document; positionAt: (offset: number, end: number) => Position} | undefined
  const full = () => {
    if (cached) return cached
    const lineCounter = new (yaml().LineCounter)()
    const doc = yaml().parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false})
    const positionAt = (offset: number, end: number): Position => {
      const a = lineCounter.linePos(offset)
      const b = lineCounter.linePos(Math.max(offset, end))
      return {line: a.line, column: a.col, endLine: b.line, endColumn: b.col}
    }
    cached = {doc, positionAt}
    return cached
  }
  const locate = (path: ConfigPath, which: 'value' | 'key' = 'value'): Position => locateIn(full().doc, path, which, full().positionAt)
  const issues: ConfigIssue[] = []
  const loaded: LoadedConfig = {file, dir, issues, locate}

  const fast = fastLoad(text)
  if (fast.ok) return checkSchema(fast.data, loaded, (o, e) => full().positionAt(o, e))

  const {doc, positionAt} = full()
  for (const e of [...doc.errors, ...doc.warnings]) {
    const [from, to] = e.pos
    issues.push({
      severity: doc.errors.includes(e as never) ? 'error' : 'warning',
      code: 'yaml',
      message: yamlMessage(e.message),
      path: [],
      file,
      ...positionAt(from, to),
      suggestion: e.code === 'DUPLICATE_KEY' ? 'give each key once: the second would silently replace the first' : undefined,
    })
  }
  if (issues.some((i) => i.severity === 'error')) return loaded
  return checkSchema(doc.toJS({maxAliasCount: 100}), loaded, positionAt)
}

/** Anchors (`&name`) outside quotes, roughly: such files are left to `yaml`, which limits alias expansion. */
const ANCHOR = /(^|[\s[{,:-])&[^\s]/m

/** js-yaml's reading of the text (core schema, repeated keys refused), or not ok when it refuses or the file has anchors. */
function fastLoad(text: string): {ok: true; data: unknown} | {ok: false} {
  if (ANCHOR.test(text)) return {ok: false}
  try {
    return {ok: true, data: loadYaml(text, {schema: CORE_SCHEMA, json: false})}
  } catch {
    return {ok: false}
  }
}

/** The schema's precompiled check (scripts/schema-check.ts): true when the data matches, with the defaults filled in. */
const matchesSchema = checkSchemaShape as (data: unknown) => boolean

/**
 * The schema over the data: the model, or an issue per problem at its position.
 *
 * Speed: the precompiled check decides (some 10 ms for a file of 4,000 vendors, nothing to import); zod — some 65 ms
 * to import and 80 ms to parse such a file — is asked only about a file the check refuses, for its issues. Both are
 * the same schema: the check is generated from zod's JSON Schema, and a test holds them to the same verdicts.
 */
async function checkSchema(data: unknown, loaded: LoadedConfig, positionAt: (offset: number, end: number) => Position): Promise<LoadedConfig> {
  const {file, issues, locate} = loaded
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    issues.push({
      severity: 'error',
      code: 'schema.invalid_type',
      message: `expected a mapping with version, databases, vendors and bastions; the file holds ${data === null || data === undefined ? 'nothing' : Array.isArray(data) ? 'a list' : `a ${typeof data}`}`,
      path: [],
      file,
      ...positionAt(0, 0),
      suggestion: 'start from examples/bastion.yml',
    })
    return loaded
  }

  if (matchesSchema(data)) {
    loaded.config = data as BastionConfig
    return loaded
  }
  const {ConfigSchema, CONFIG_VERSION} = await import('./schema.js')
  // reportInput: the messages quote the value that was wrong (and tell a missing key from a wrong type).
  const result = ConfigSchema.safeParse(data, {reportInput: true})
  if (!result.success) {
    for (const issue of result.error.issues) issues.push(...schemaIssues(issue, [], file, locate, CONFIG_VERSION))
    return loaded
  }
  loaded.config = result.data
  return loaded
}

type ZodIssue = z.core.$ZodIssue

function schemaIssues(issue: ZodIssue, prefix: ConfigPath, file: string, locate: LoadedConfig['locate'], version: number): ConfigIssue[] {
  const path = [...prefix, ...(issue.path as ConfigPath)]
  const at = (p: ConfigPath, which: 'value' | 'key' = 'value') => ({file, path: p, ...locate(p, which)})
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        severity: 'error' as const,
        code: 'schema.unrecognized_keys',
        message: `${where(path)}: unknown key "${key}"`,
        ...at([...path, key], 'key'),
        suggestion: `remove it or fix its spelling; the keys allowed here are in the JSON Schema (bastion config schema)`,
      }))
    case 'invalid_key':
      return [
        {
          severity: 'error',
          code: 'schema.invalid_key',
          message: `${where(path.slice(0, -1))}: the name "${String(path.at(-1))}" is not allowed: ${keyRule(path)}`,
          ...at(path, 'key'),
        },
      ]
    case 'invalid_union': {
      // A key given as a string or a mapping: report the branch that got furthest (the mapping's own errors).
      const branches = issue.errors.filter((b) => b.length > 0)
      const best = branches.find((b) => b.every((i) => i.code !== 'invalid_type' || i.path.length > 0))
      if (best) return best.flatMap((i) => schemaIssues(i, path, file, locate, version))
      return [{severity: 'error', code: 'schema.invalid_union', message: `${where(path)}: ${unionExpectation(path)}`, ...at(path)}]
    }
    default:
      return [{severity: 'error', code: `schema.${issue.code}`, message: `${where(path)}: ${describe(issue, path, version)}`, ...at(path)}]
  }
}

function where(path: ConfigPath): string {
  if (path.length === 0) return 'the file'
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function keyRule(path: ConfigPath): string {
  if (path[0] === 'vendors')
    return 'a vendor name is a Linux user name: lower-case letters, digits, "-" and "_", starting with a letter or "_", at most 32 characters'
  return 'names are letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63 characters'
}

function unionExpectation(path: ConfigPath): string {
  if (path.includes('cloud')) return 'expected provider: aws or azure (leave `cloud` out for a plain host reached over ssh)'
  if (path.includes('keys')) return 'expected a public key line, or a mapping with `key` or `file` (and optionally `expires`)'
  return 'expected one of the allowed forms (see bastion config schema)'
}

function describe(issue: ZodIssue, path: ConfigPath, version: number): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `the required key "${String(path.at(-1))}" (${article(issue.expected)}) is missing`
        : `expected ${article(issue.expected)}, got ${got(issue.input)}`
    case 'invalid_value':
      if (path.at(-1) === 'version') return `the version must be ${version} (this release reads version ${version} files)`
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${got(issue.input)}`
    case 'invalid_format':
      return issue.message.startsWith('Invalid') ? `"${String(issue.input)}" does not have the expected form` : `"${String(issue.input)}": ${issue.message}`
    case 'too_small':
      return issue.origin === 'array'
        ? `give at least ${String(issue.minimum)} entr${issue.minimum === 1 ? 'y' : 'ies'}`
        : issue.origin === 'string'
          ? 'must not be empty'
          : `must be at least ${String(issue.minimum)}`
    case 'too_big':
      return issue.origin === 'string' ? `must be at most ${String(issue.maximum)} characters` : `must be at most ${String(issue.maximum)}`
    case 'invalid_union':
      return unionExpectation(path)
    default:
      return issue.message
  }
}

function article(expected: string): string {
  const word = expected === 'object' ? 'mapping' : expected === 'array' ? 'list' : expected
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`
}

function got(input: unknown): string {
  if (input === null) return 'null (an empty value)'
  if (Array.isArray(input)) return 'a list'
  if (typeof input === 'object') return 'a mapping'
  if (typeof input === 'string') return `the string ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`
  return `${typeof input} ${String(input)}`
}

function yamlMessage(message: string): string {
  // The yaml package's messages end with " at line L, column C" when prettyErrors is on; it is off, so they are plain.
  return `YAML: ${message.replace(/\s+/g, ' ').trim()}`
}

/** The node at `path` (or its nearest existing ancestor) and, for 'key', the key node of the last step. */
function locateIn(
  doc: Document,
  path: ConfigPath,
  which: 'value' | 'key',
  positionAt: (from: number, to: number) => Position,
): Position {
  const {isMap, isPair, isScalar, isSeq} = yaml()
  let node: Node | null | undefined = doc.contents as Node | null
  let best: [number, number] | undefined = rangeOf(node)
  for (const [i, step] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value === step || String(p.key.value) === String(step) : false))
      if (!pair) break
      const last = i === path.length - 1
      if (last && which === 'key') {
        best = rangeOf(pair.key as Node) ?? best
        break
      }
      node = pair.value as Node | null
      best = rangeOf(node) ?? rangeOf(pair.key as Node) ?? best
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined
      if (!item) break
      node = item
      best = rangeOf(node) ?? best
    } else break
  }
  return best ? positionAt(best[0], best[1]) : {line: 1, column: 1, endLine: 1, endColumn: 1}
}

function rangeOf(node: Node | null | undefined): [number, number] | undefined {
  if (!node || !node.range) return undefined
  const {isMap, isPair, isSeq} = yaml()
  // For a block mapping or sequence, point at its first line, not the whole block.
  const [start, valueEnd] = node.range
  if (isMap(node) || isSeq(node)) {
    const first = node.items[0] as unknown
    const firstNode = isPair(first) ? (first.key as Node | null) : (first as Node | null)
    if (firstNode?.range) return [start, firstNode.range[1]]
  }
  return [start, valueEnd]
}
