/**
 * The published schemas, as `bastion schema` prints them and docs/schemas/ holds them: the error shape, and each
 * command's --json output at the schemaVersion its class declares (read from the class, the one place it is set).
 */
import type {Config} from '@oclif/core'
import {internalError} from '../errors.js'
import {CONFIG_SCHEMA_FILE, jsonSchema} from '../config/schema.js'
import {commandSchema, errorSchema, RESULT_SCHEMAS, schemaFile, schemaName} from './schemas.js'

export interface PublishedSchema {
  /** `error`, or the command id with `-` for the topic separator (`whitelist-add`). */
  name: string
  /** The command as typed (`whitelist add`); absent for `error`. */
  command?: string
  /** Relative to the package root. */
  file: string
  /** The command's schemaVersion; absent for `error`. */
  schemaVersion?: number
  schema: Record<string, unknown>
}

/** Every published schema, sorted by name: the error shape, bastion.yml's, and each command's --json output. */
export async function publishedSchemas(config: Config): Promise<PublishedSchema[]> {
  const out: PublishedSchema[] = [
    {name: 'error', file: schemaFile('error'), schema: errorSchema()},
    // Not a command's output: the config file's own schema (bastion config schema), so editors complete bastion.yml.
    {name: 'bastion-config', file: CONFIG_SCHEMA_FILE, schema: jsonSchema()},
  ]
  for (const id of Object.keys(RESULT_SCHEMAS)) {
    const cmd = config.findCommand(id)
    if (!cmd) throw internalError('SCHEMA_COMMAND_MISSING', `the schema of "${id}" names a command that does not exist`)
    const loaded = (await cmd.load()) as {schemaVersion?: unknown}
    const version = loaded.schemaVersion
    if (typeof version !== 'number') throw internalError('SCHEMA_VERSION_MISSING', `the command "${id}" declares no schemaVersion`)
    const name = schemaName(id)
    out.push({name, command: id.replaceAll(':', config.topicSeparator), file: schemaFile(name), schemaVersion: version, schema: commandSchema(id, version)})
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/** The file's text: the schema as JSON, two-space indented, with a final newline. */
export function schemaText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`
}
