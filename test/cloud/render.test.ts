import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {renderListHuman, renderWhitelistChangeHuman, renderWhitelistHuman} from '../../src/cloud/render.js'
import type {BastionInfo} from '../../src/cloud/provider.js'
import {styleFor} from '../../src/ui/style.js'

const plain = await styleFor({isTTY: false} as NodeJS.WriteStream, {})
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

describe('cloud/render: names and tags read from the cloud are inert', () => {
  it('bastion list shows hostile name, state and vendor tags escaped, and the columns line up on the escaped text', () => {
    const info: BastionInfo = {
      cloud: 'aws',
      name: 'jump\x1b[2J',
      state: 'running\u202e',
      instanceType: 't4g.nano',
      address: {publicIp: '203.0.113.10', stable: true},
      sshPort: 22,
      vendors: [{vendor: 'hevo\x1b]52;c;aGk=\x07', cidrs: ['52.6.1.1/32']}],
      adminCidrs: [],
      rules: [],
      resources: [],
    }
    const text = renderListHuman([info, {...info, name: 'b', state: 'stopped', vendors: []}], plain)
    assert.doesNotMatch(text, CONTROL)
    assert.ok(text.includes('jump\\x1b[2J'), text)
    assert.ok(text.includes('running\\u202e'), text)
    assert.ok(text.includes('hevo\\x1b]52;c;aGk=\\x07 (1)'), text)
    const [head, first, second] = text.split('\n')
    assert.equal(first!.indexOf('203.0.113.10'), head!.indexOf('ADDRESS'))
    assert.equal(second!.indexOf('203.0.113.10'), head!.indexOf('ADDRESS'))
  })

  it('whitelist views and changes show hostile vendor tags, rule ids, problem messages and warnings escaped', () => {
    const view = renderWhitelistHuman(
      {
        name: 'jump\x9b2J',
        rules: [
          {id: 'sgr-1\x1b[5m', role: 'vendor', vendor: 'hevo\u202e', cidr: '0.0.0.0/0', protocol: 'tcp', fromPort: 22, toPort: 22, description: 'x', problems: [{code: 'anywhere', severity: 'fail', message: 'open to all \x1b[2J'}]},
        ],
      },
      plain,
    )
    assert.doesNotMatch(view, CONTROL)
    for (const seen of ['bastion jump\\x9b2J', 'vendor hevo\\u202e:', 'sgr-1\\x1b[5m', 'open to all \\x1b[2J']) assert.ok(view.includes(seen), `${seen} in ${view}`)

    const change = renderWhitelistChangeHuman(
      {name: 'jump', vendor: 'hevo', securityGroupId: 'sg-1\x07', dryRun: false, added: [], removed: [], unchanged: [{cidr: '52.6.1.1/32', by: 'sgr-2\x1b[2J'}], notFound: [], warnings: ['w\x1b[5m']},
      plain,
    )
    assert.doesNotMatch(change, CONTROL)
    for (const seen of ['(sg-1\\x07)', 'already admitted by sgr-2\\x1b[2J', 'w\\x1b[5m']) assert.ok(change.includes(seen), `${seen} in ${change}`)
  })
})
