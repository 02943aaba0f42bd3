import {Flags} from '@oclif/core'
import {BastionCommand} from '../base-command.js'
import {inputError} from '../errors.js'
import {closestCommand} from '../input/suggest.js'
import {publishedSchemas, schemaText} from '../schema/published.js'

export type SchemaResult =
  | {name: string; command?: string; file: string; schema: Record<string, unknown>}
  | {schemas: {name: string; command?: string; file: string; schemaVersion?: number}[]}

export default class Schema extends BastionCommand<SchemaResult> {
  static override description = `Prints the JSON Schema (draft-07) of a command's --json output: the result, which starts with its schemaVersion, or the error shape every command shares ({error: {code, message, exit, suggestions, detail?}}); "error" prints that shape alone. The same schemas are files in the package: docs/schemas/<name>.schema.json.`

  static override examples = [
    {description: 'Every published schema', command: '<%= config.bin %> <%= command.id %> --list'},
    {description: "The schema of list-vendor-keys' --json output", command: '<%= config.bin %> <%= command.id %> list-vendor-keys'},
    {description: 'The schema of whitelist add', command: '<%= config.bin %> <%= command.id %> whitelist add'},
  ]

  static override flags = {
    list: Flags.boolean({description: 'List the published schemas: name, command and file.'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override strict = false

  static override summary = "Print the JSON Schema of a command's --json output (or --list them)."

  public override async run(): Promise<SchemaResult> {
    const {argv, flags} = await this.parse(Schema)
    const all = await publishedSchemas(this.config)
    const words = argv.map(String)
    if (flags.list || words.length === 0) {
      if (!flags.list) throw inputError('SCHEMA_NAME', 'name the command whose schema to print, or give --list', [`${this.config.bin} schema --list`])
      const schemas = all.map(({schema: _schema, ...entry}) => entry)
      this.show(() => schemas.map((s) => `${s.name.padEnd(20)} ${s.file}`).join('\n'))
      return {schemas}
    }
    const name = words.join('-').replaceAll(':', '-')
    const found = all.find((s) => s.name === name)
    if (!found) {
      const closest = closestCommand(name, all.map((s) => s.name))
      throw inputError('SCHEMA_UNKNOWN', `no schema named "${name}"`, [
        ...(closest ? [`did you mean: ${this.config.bin} schema ${closest}`] : []),
        `${this.config.bin} schema --list lists them`,
      ])
    }
    this.show(() => schemaText(found.schema).trimEnd())
    const {schemaVersion: _version, ...entry} = found
    return entry
  }
}
