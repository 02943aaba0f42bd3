/** Checks of --json output against the published schemas (docs/schemas/), with an independent validator (ajv). */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Ajv, type ValidateFunction} from 'ajv'
import {packageRoot} from '../../src/paths.js'

const ERROR_KEYS = ['code', 'exit', 'message', 'suggestions']

export const ajv = new Ajv({allErrors: true})

/** The published file (not the in-memory schema: what readers get) of `name`. */
export function published(name: string): object {
  return JSON.parse(readFileSync(join(packageRoot, 'docs', 'schemas', `${name}.schema.json`), 'utf8'))
}

const compiled = new Map<string, ValidateFunction>()

/** The published schema `name`, compiled once (ajv keeps each schema by its $id and refuses to add it twice). */
export function validator(name: string): ValidateFunction {
  let v = compiled.get(name)
  if (!v) compiled.set(name, (v = ajv.compile(published(name))))
  return v
}

/** Assert `json` is valid against the published schema `name`, with ajv's complaints as the message. */
export function assertValid(name: string, json: unknown): void {
  const validate = validator(name)
  assert.ok(validate(json), `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(json, null, 2).slice(0, 3000)}`)
}

export function assertInvalid(name: string, json: unknown): void {
  assert.equal(validator(name)(json), false, `${name} accepted ${JSON.stringify(json)}`)
}

/** A --json success output: schemaVersion first, equal to the command class's, and valid against its schema. */
export function assertResult(name: string, cmd: {schemaVersion?: number}, json: Record<string, unknown>): void {
  assert.equal(json.error, undefined, JSON.stringify(json.error))
  assert.equal(Object.keys(json)[0], 'schemaVersion')
  assert.equal(json.schemaVersion, cmd.schemaVersion)
  assertValid(name, json)
}

/** A --json error output: the one shape, valid against the error schema and the command's own. */
export function assertError(name: string, json: {error?: Record<string, unknown>}, code?: string): void {
  assert.ok(json.error, JSON.stringify(json))
  assert.deepEqual(Object.keys(json.error).filter((k) => k !== 'detail').sort(), ERROR_KEYS)
  if (code) assert.equal(json.error.code, code)
  assertValid('error', json)
  if (name !== 'error') assertValid(name, json)
}

/** The one error shape of a per-host or doctor host error. */
export function assertHostError(error: Record<string, unknown> | undefined): void {
  assert.ok(error)
  assert.deepEqual(Object.keys(error).filter((k) => k !== 'detail').sort(), ERROR_KEYS)
  assert.equal(typeof error.exit, 'number')
  assertValid('error', {error})
}
