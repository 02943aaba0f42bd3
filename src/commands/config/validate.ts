import {Args, Flags} from '@oclif/core'
import {BastionCommand} from '../../base-command.js'
import {asBastionError} from '../../errors.js'
import {configPath} from '../../config/load.js'
import {renderGithub, renderHuman, renderSarif, VALIDATE_FORMATS} from '../../config/report.js'
import {validateConfigFiles, VALIDATE_SCHEMA_VERSION, type ConfigValidateResult} from '../../config/validate.js'
import {annotation} from '../../ui/github.js'
import {formatFlag, formatInArgv, outputFormat} from '../../ui/format.js'

export default class ConfigValidate extends BastionCommand<ConfigValidateResult> {
  static override args = {
    // ignoreStdin: oclif would otherwise take piped input (a hook's, a CI runner's) for the file name.
    file: Args.string({description: 'Config files to check (as pre-commit passes them); default: --config, BASTION_CONFIG, ./bastion.yml.', ignoreStdin: true}),
  }

  static override description = `Checks bastion.yml offline — no network, no credentials, no cloud SDK: the YAML and the schema (every key, type and name), then what a schema cannot say: CIDRs valid and not wider than allowed (0.0.0.0/0 refused unless the vendor has allowAnywhere), keys parse and are strong enough, no key given to two vendors or twice to one, expiry dates that exist and are not past (warned within 14 days), references that resolve (vendor → database, bastion → vendor, with the closest name suggested), valid Linux user names and one vendor per user, a plain host that says where it is, nothing left unused. Every problem names file, line and column and a stable rule code (docs/config.md lists them).

Formats: human (file:line:col: error [code] message), json (the --json result), junit (a CI test report), github (workflow annotations on the pull request), sarif (SARIF 2.1.0 for code scanning).

Exit codes: 0 valid (warnings allowed; with --strict they fail), 1 invalid, 2 the file is missing or unreadable, or a flag is wrong.`

  static override examples = [
    {description: 'Check ./bastion.yml', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Check another file, warnings fail too', command: '<%= config.bin %> <%= command.id %> --config infra/bastion.yml --strict'},
    {description: 'In GitHub Actions: annotations on the pull request', command: '<%= config.bin %> <%= command.id %> --config bastion.yml --format github'},
    {description: 'For code scanning', command: '<%= config.bin %> <%= command.id %> --format sarif > bastion.sarif'},
  ]

  static override flags = {
    config: Flags.string({description: 'The config file (default: BASTION_CONFIG, else ./bastion.yml).', helpValue: '<file>'}),
    format: formatFlag(VALIDATE_FORMATS),
    strict: Flags.boolean({description: 'Warnings fail too (exit 1).'}),
  }

  /** The version of this command's --json result and its schema (docs/schemas/, bastion schema). */
  static override schemaVersion = VALIDATE_SCHEMA_VERSION

  static override strict = false

  static override summary = 'Check bastion.yml offline: schema, CIDRs, keys, expiry dates, references, users.'

  /** A validate that cannot run still prints a document in the format asked for (a JUnit file, an annotation). */
  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const format = formatInArgv(this.argv)
    if (!this.jsonEnabled() && (format === 'junit' || format === 'github')) {
      const e = err.oclif ? {code: 'USAGE', message: err.message, suggestions: ['bastion config validate --help lists the flags']} : asBastionError(err)
      process.stdout.write(
        format === 'junit'
          ? `${(await import('../../config/junit.js')).renderJunitError(e)}\n`
          : `${annotation('error', {title: 'bastion config validate'}, [e.message, ...e.suggestions.map((s) => `fix: ${s}`)].join('\n'))}\n`,
      )
    }
    return super.catch(err)
  }

  public override async run(): Promise<ConfigValidateResult> {
    const {argv, flags} = await this.parse(ConfigValidate)
    const format = outputFormat(this.jsonEnabled(), flags.format, VALIDATE_FORMATS)
    const given = argv.map(String)
    const files = flags.config !== undefined || given.length === 0 ? [configPath(flags.config), ...given] : given
    const result = await validateConfigFiles(files, {strict: flags.strict})
    process.exitCode = result.exitCode
    const where = {workspace: process.env.GITHUB_WORKSPACE || undefined}
    if (format === 'json' && !this.jsonEnabled()) this.log(JSON.stringify(result, null, 2))
    else if (format === 'junit') this.log((await import('../../config/junit.js')).renderJunit(result))
    else if (format === 'github') this.log(renderGithub(result, where))
    else if (format === 'sarif') this.log(JSON.stringify(renderSarif(result, {version: this.config.version, ...where}), null, 2))
    else if (format === 'human') this.show(() => renderHuman(result, this.out))
    return result
  }
}
