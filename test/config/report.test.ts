/**
 * config validate's renderings: GitHub workflow commands (exact lines, GitHub's escaping), JUnit XML that parses,
 * SARIF 2.1.0 valid against the official schema (OASIS sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json, kept in
 * test/config/fixtures/), and the human lines.
 */
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import ajvDraft04 from 'ajv-draft-04'
import ajvFormats from 'ajv-formats'
import {convert} from 'xmlbuilder2'
import type {ConfigIssue} from '../../src/config/load.js'
import {renderJunit} from '../../src/config/junit.js'
import {renderGithub, renderHuman, renderSarif, repoPath} from '../../src/config/report.js'
import {CONFIG_RULES} from '../../src/config/rules.js'
import type {ConfigValidateResult} from '../../src/config/validate.js'
import {packageRoot} from '../../src/paths.js'
import {annotation, escapeData, escapeProperty} from '../../src/ui/github.js'
import type {Style} from '../../src/ui/style.js'

const plain: Style = new Proxy({} as Style, {get: () => (t: string) => t})

function issue(over: Partial<ConfigIssue>): ConfigIssue {
  return {severity: 'error', code: 'cidr.anywhere', message: 'm', path: ['vendors', 'hevo', 'cidrs', 0], file: 'bastion.yml', line: 14, column: 13, endLine: 14, endColumn: 22, ...over}
}

function result(issues: ConfigIssue[], file = 'bastion.yml', strict = false): ConfigValidateResult {
  const errors = issues.filter((i) => i.severity === 'error').length
  const warnings = issues.length - errors
  const valid = errors === 0 && (!strict || warnings === 0)
  return {schemaVersion: 1, valid, exitCode: valid ? 0 : 1, strict, summary: {files: 1, errors, warnings}, files: [{file, valid, errors, warnings, issues}]}
}

const sample = result([
  issue({message: 'vendors.hevo.cidrs[0] 0.0.0.0/0 admits the whole internet', suggestion: "use the vendor's addresses, e.g. 52.6.1.1/32"}),
  issue({severity: 'warning', code: 'expiry.soon', message: 'expires in 5 days: 100% sure', line: 18, column: 18, endLine: 19, endColumn: 3, suggestion: undefined}),
])

describe('GitHub workflow commands', () => {
  it('escape %, CR and LF in the message, and also : and , in properties (as @actions/core does)', () => {
    assert.equal(escapeData('50%\r\nnext: a, b'), '50%25%0D%0Anext: a, b')
    assert.equal(escapeProperty('a: b, c%\n'), 'a%3A b%2C c%25%0A')
    assert.equal(annotation('error', {file: 'dir,x/a:b.yml', line: 3, endLine: 3, col: 5, endColumn: 9, title: 'bastion config [key.shared]'}, 'one\ntwo'), '::error file=dir%2Cx/a%3Ab.yml,line=3,endLine=3,col=5,endColumn=9,title=bastion config [key.shared]::one%0Atwo')
    assert.equal(annotation('warning', {}, 'plain'), '::warning::plain')
  })

  it('one command per issue, exact; columns only on a one-line range; a summary line that is not a command', () => {
    assert.deepEqual(renderGithub(sample).split('\n'), [
      "::error file=bastion.yml,line=14,endLine=14,col=13,endColumn=22,title=bastion config [cidr.anywhere]::vendors.hevo.cidrs[0] 0.0.0.0/0 admits the whole internet%0Afix: use the vendor's addresses, e.g. 52.6.1.1/32",
      '::warning file=bastion.yml,line=18,endLine=19,title=bastion config [expiry.soon]::expires in 5 days: 100%25 sure',
      'bastion config validate: 1 file, 1 error, 1 warning: invalid',
    ])
  })

  it('file paths are relative to GITHUB_WORKSPACE when the file is inside it', () => {
    assert.equal(repoPath('infra/bastion.yml', {cwd: '/ws/repo', workspace: '/ws/repo'}), 'infra/bastion.yml')
    assert.equal(repoPath('bastion.yml', {cwd: '/ws/repo/infra', workspace: '/ws/repo'}), 'infra/bastion.yml')
    assert.equal(repoPath('/etc/bastion.yml', {cwd: '/ws/repo', workspace: '/ws/repo'}), '/etc/bastion.yml')
    const lines = renderGithub(result([issue({file: 'bastion.yml'})]), {cwd: '/ws/repo/infra', workspace: '/ws/repo'})
    assert.match(lines, /^::error file=infra\/bastion\.yml,line=14,/)
  })
})

describe('JUnit', () => {
  it('parses; a suite per file, a failing case per error, a warning as system-out', () => {
    const xml = renderJunit(sample)
    const doc = convert(xml, {format: 'object'}) as any
    const suites = doc.testsuites
    assert.equal(suites['@tests'], '2')
    assert.equal(suites['@failures'], '1')
    const cases = [suites.testsuite.testcase].flat()
    assert.equal(cases.length, 2)
    assert.equal(cases[0]['@classname'], 'bastion.config.cidr.anywhere')
    assert.equal(cases[0]['@name'], 'cidr.anywhere at bastion.yml:14:13')
    assert.equal(cases[0].failure['@type'], 'cidr.anywhere')
    assert.match(String(cases[0].failure['#']), /fix: use the vendor's addresses/)
    assert.match(String(cases[1]['system-out']), /^WARNING bastion.yml:18:18: warning \[expiry.soon\]/)
  })

  it('with --strict a warning fails too; a valid file is one passing case', () => {
    const strict = convert(renderJunit(result([issue({severity: 'warning', code: 'cidr.wide'})], 'b.yml', true)), {format: 'object'}) as any
    assert.equal(strict.testsuites['@failures'], '1')
    const ok = convert(renderJunit(result([])), {format: 'object'}) as any
    assert.equal(ok.testsuites['@failures'], '0')
    assert.equal(ok.testsuites.testsuite.testcase['@name'], 'bastion.yml is valid')
  })

  it('controls in messages become visible escapes and the XML stays well formed', () => {
    const xml = renderJunit(result([issue({message: 'bad \u001b[31m <tag> & "q"'})]))
    assert.doesNotMatch(xml, /\u001b/)
    convert(xml, {format: 'object'})
    assert.match(xml, /<failure message="bad \\x1b\[31m &lt;tag&gt; &amp; &quot;q&quot;" type="cidr.anywhere">/)
  })
})

// Both are CommonJS modules with an `exports.default`.
const Ajv04 = ajvDraft04.default
const addFormats = ajvFormats.default

describe('SARIF 2.1.0', () => {
  // The official schema is draft-04 (ajv-draft-04), with formats (uri, date-time …) checked as ajv-formats defines them.
  const ajv = new Ajv04({allErrors: true, strict: false})
  addFormats(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'test/config/fixtures/sarif-schema-2.1.0.json'), 'utf8')))

  it('is valid against the official SARIF 2.1.0 schema (and the schema is not vacuous)', () => {
    const sarif = renderSarif(sample, {version: '0.1.0'})
    assert.ok(validate(sarif), ajv.errorsText(validate.errors))
    assert.equal(validate({version: '2.1.0', runs: [{tool: {driver: {}}}]}), false)
    assert.equal(validate({...sarif, version: '2.0.0'}), false)
  })

  it('lists every rule with help and level, and a result per issue with its region', () => {
    const sarif = renderSarif(sample, {version: '0.1.0'}) as any
    const run = sarif.runs[0]
    assert.equal(run.tool.driver.name, 'bastion')
    assert.deepEqual(run.tool.driver.rules.map((r: any) => r.id), Object.keys(CONFIG_RULES))
    for (const r of run.tool.driver.rules) assert.ok(r.help.text && r.shortDescription.text && r.defaultConfiguration.level, r.id)
    assert.equal(run.results.length, 2)
    const [first, second] = run.results
    assert.equal(first.ruleId, 'cidr.anywhere')
    assert.equal(run.tool.driver.rules[first.ruleIndex].id, 'cidr.anywhere')
    assert.equal(first.level, 'error')
    assert.deepEqual(first.locations[0].physicalLocation, {
      artifactLocation: {uri: 'bastion.yml', uriBaseId: '%SRCROOT%'},
      region: {startLine: 14, startColumn: 13, endLine: 14, endColumn: 22},
    })
    assert.equal(second.level, 'warning')
    assert.equal(run.invocations[0].exitCode, 1)
  })

  it('an absolute path outside the workspace is a file: URI; a path with spaces is encoded; still valid', () => {
    const sarif = renderSarif(result([issue({file: '/etc/bastion dir/b.yml'}), issue({file: 'my dir/b.yml'})]), {version: '0.1.0'}) as any
    assert.equal(validate(sarif), true, ajv.errorsText(validate.errors))
    assert.deepEqual(sarif.runs[0].results.map((r: any) => r.locations[0].physicalLocation.artifactLocation), [
      {uri: 'file:///etc/bastion%20dir/b.yml'},
      {uri: 'my%20dir/b.yml', uriBaseId: '%SRCROOT%'},
    ])
  })
})

describe('human', () => {
  it('file:line:col: severity [code] message, the fix, a verdict line', () => {
    assert.deepEqual(renderHuman(sample, plain).split('\n'), [
      'bastion.yml:14:13: error [cidr.anywhere] vendors.hevo.cidrs[0] 0.0.0.0/0 admits the whole internet',
      "    fix: use the vendor's addresses, e.g. 52.6.1.1/32",
      'bastion.yml:18:18: warning [expiry.soon] expires in 5 days: 100% sure',
      'bastion.yml: invalid (1 error, 1 warning)',
    ])
  })
})
