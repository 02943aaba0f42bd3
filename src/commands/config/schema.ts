import {BastionCommand} from '../../base-command.js'
import {CONFIG_SCHEMA_FILE, jsonSchema} from '../../config/schema.js'
import {schemaText} from '../../schema/published.js'

export interface ConfigSchemaResult {
  /** The same schema as a file in the package (and the repository). */
  file: string
  schema: Record<string, unknown>
}

export default class ConfigSchema extends BastionCommand<ConfigSchemaResult> {
  static override description = `Prints the JSON Schema (draft-07) of bastion.yml, made from the schema bastion itself validates with, so editors complete and check the file. The same schema is docs/schemas/bastion-config.schema.json in the package. Point a file at it with its first line:

    # yaml-language-server: $schema=<path or URL of bastion-config.schema.json>`

  static override examples = [
    {description: 'Save it next to your bastion.yml', command: '<%= config.bin %> <%= command.id %> > bastion-config.schema.json'},
  ]

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = 1

  static override summary = 'Print the JSON Schema of bastion.yml (for editors and other validators).'

  public override async run(): Promise<ConfigSchemaResult> {
    await this.parse(ConfigSchema)
    const schema = jsonSchema()
    if (!this.jsonEnabled()) process.stdout.write(schemaText(schema))
    return {file: CONFIG_SCHEMA_FILE, schema}
  }
}
