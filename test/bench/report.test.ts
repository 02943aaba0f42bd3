/** The benchmark's arithmetic and its verdicts on issue 5's targets (bench/lib.ts, bench/report.ts). */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {median} from '../../bench/lib.js'
import {judge, renderResults, type Results} from '../../bench/report.js'

function results(over: Partial<Results> = {}): Results {
  return {
    date: '2026-11-24T10:00:00.000Z',
    quick: false,
    machine: {cpu: 'AMD EPYC', cores: 2, memoryGb: 23.5, load: '0.10 0.20 0.30'},
    versions: {node: 'v24.0.0'},
    startup: [
      {command: "node -e ''", medianMs: 16, aboveNodeMs: 0},
      {command: 'bastion --version', medianMs: 70, aboveNodeMs: 54},
    ],
    modules: [{command: '--help', total: 180, ours: 2, deps: 165, builtin: 13, packages: ['@oclif/core'], commandsImported: [], cloudSdk: []}],
    add: [
      {hosts: 1, phase: 'first', bastionMs: 200, floorMs: 220, ansibleMs: 1050, bastionOverFloor: 0.9, ansibleOverBastion: 5.25, runs: 5, ansibleRuns: 5},
      {hosts: 30, phase: 'first', bastionMs: 1100, floorMs: 1800, ansibleMs: 8500, bastionOverFloor: 0.61, ansibleOverBastion: 7.7, runs: 5, ansibleRuns: 5},
    ],
    doctor: [{hosts: 1, bastionMs: 400, floorMs: 250, bastionOverFloor: 1.6, runs: 5}],
    memory: [{command: 'add-vendor-key on 30 hosts', maxRssMb: 94}],
    checks: [{check: 'one unreachable host does not stop the others', ok: true, detail: 'ok, failed, ok'}],
    seconds: 200,
    ...over,
  }
}

describe('bench report', () => {
  it('takes the median of odd and even counts', () => {
    assert.equal(median([3, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2.5)
    assert.ok(Number.isNaN(median([])))
  })

  it('judges each target from the pairwise ratios: met, missed by the fleet Ansible ratio and the doctor floor ratio', () => {
    const verdicts = judge(results())
    const find = (re: RegExp) => verdicts.find((v) => re.test(v.target))
    assert.equal(find(/first run on one host: ≤ 1.5×/)?.met, true)
    assert.equal(find(/first run on one host: ≥ 5×/)?.met, true)
    assert.equal(find(/first run on 30 hosts: ≥ 8×/)?.met, false)
    assert.equal(find(/doctor on one host/)?.met, false)
    assert.equal(find(/--version ≤ 150 ms/)?.met, true)
    assert.equal(find(/no cloud SDK/)?.met, true)
    assert.equal(find(/unreachable host/)?.met, true)
  })

  it('fails the SDK target when a cloud SDK package was loaded', () => {
    const r = results({modules: [{command: 'add-vendor-key (1 host)', total: 1, ours: 0, deps: 1, builtin: 0, packages: ['@aws-sdk/client-ec2'], commandsImported: [], cloudSdk: ['@aws-sdk/client-ec2']}]})
    const v = judge(r).find((t) => /no cloud SDK/.test(t.target))
    assert.equal(v?.met, false)
    assert.match(v?.measured ?? '', /@aws-sdk\/client-ec2/)
  })

  it('renders the machine, the versions, the targets with ✔/✖ and every table', () => {
    const md = renderResults(results())
    for (const part of ['AMD EPYC, 2 cores', 'node: v24.0.0', '| ✔ |', '| ✖ |', '## add-vendor-key', '## doctor', '## Start-up', '## Modules loaded', '## Peak memory', '94 MiB']) {
      assert.ok(md.includes(part), part)
    }
  })
})
