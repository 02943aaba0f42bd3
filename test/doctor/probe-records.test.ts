/**
 * The probe's lines as typed records (src/doctor/probe/records.ts): every line split into the fields the vocabulary
 * declares, lines that do not fit set aside, and each area's reader limited to its own keys and reading all of them.
 */
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {BastionError, Exit} from '../../src/errors.js'
import {factsFromRecords} from '../../src/doctor/probe/read.js'
import {ProbeRecords, probeOutputProblems, splitFact} from '../../src/doctor/probe/records.js'
import {PROBE_VOCABULARY, REST_KINDS, type ProbeKey} from '../../src/doctor/probe/vocabulary.js'

const declared = Object.keys(PROBE_VOCABULARY) as ProbeKey[]
/** Every example line of the vocabulary: an output that holds every key. */
const everyExample = declared.map((k) => `@bastion ${PROBE_VOCABULARY[k].example}`).join('\n') + '\n'

describe('splitting lines into records', () => {
  test('every example in the vocabulary fits its own fields; rest-of-line fields come last', () => {
    for (const key of declared) {
      const spec = PROBE_VOCABULARY[key]
      assert.equal(spec.example.split(' ')[0], key, key)
      assert.deepEqual(probeOutputProblems(`@bastion ${spec.example}\n`), [], key)
      const restAt = spec.fields.findIndex((f) => REST_KINDS.has(f.kind))
      assert.ok(restAt === -1 || restAt === spec.fields.length - 1, `${key}: a rest-of-line field must be last`)
      const firstOptional = spec.fields.findIndex((f) => 'optional' in f)
      assert.ok(firstOptional === -1 || spec.fields.slice(firstOptional).every((f) => 'optional' in f), `${key}: only trailing fields are optional`)
    }
  })

  test('fields become numbers, flags, decoded text, the rest of the line with its spaces; missing optional fields are undefined', () => {
    const args = (s: string) => ({args: s.split(' ')})
    assert.deepEqual(splitFact('st', args('1001 1001 700 41c0 62 /home/hevo dir')), {
      ok: true, record: {uid: 1001, gid: 1001, mode: '700', rawMode: '41c0', size: 62, path: '/home/hevo dir'},
    })
    assert.deepEqual(splitFact('akreadable', args('0 1')), {ok: true, record: {index: 0, readable: true}})
    assert.deepEqual(splitFact('sshd_t', args(`1 ${Buffer.from('line 3: Bad option\n').toString('base64')}`)), {ok: true, record: {rc: 1, output: 'line 3: Bad option\n'}})
    assert.deepEqual(splitFact('net', args('3 10.0.1.6 5432 error - - - - bm8gbmM=')), {
      ok: true, record: {index: 3, host: '10.0.1.6', port: 5432, how: 'error', rc: undefined, ms: undefined, tool: '-', addresses: '-', output: 'no nc'},
    })
    assert.deepEqual(splitFact('shadow', args('-')), {
      ok: true, record: {class: '-', lastChange: undefined, minDays: undefined, maxDays: undefined, warnDays: undefined, inactiveDays: undefined, expireDay: undefined},
    })
    assert.deepEqual(splitFact('user_groups', {args: []}), {ok: true, record: {groups: []}})
    assert.deepEqual(splitFact('user_home', {args: []}), {ok: true, record: {path: ''}}, 'an empty home is a home')
    assert.deepEqual(splitFact('user', args('hevo 1001 1001 hevo more words')), {ok: true, record: {name: 'hevo', uid: 1001, gid: 1001, group: 'hevo'}})
  })

  test('a line that does not fit is set aside with what is wrong, and no reader sees it', () => {
    const records = new ProbeRecords([
      '@bastion probe 1',
      '@bastion st 1001 1001 7a0 41c0 62 /home/hevo',
      '@bastion ak 0 1',
      '@bastion user hevo',
      '@bastion akreadable 0 2',
      '@bastion lk 41e8 1001 1001 3 - - /home/hevo',
      '@bastion ssh_keys 3',
      '@bastion done',
    ].join('\n'))
    assert.deepEqual(records.malformed.map((m) => m.problem), [
      'st: the field mode is not of kind octal: "7a0"',
      'ak: the field path is not a path: ""',
      'user: the field uid is missing',
      'akreadable: the field readable is not of kind flag: "2"',
    ])
    assert.deepEqual(records.unknown.map((f) => f.key), ['ssh_keys'])
    const facts = factsFromRecords(records)
    assert.deepEqual(facts.user, {name: '', exists: false, groups: []})
    assert.deepEqual(facts.authorizedKeys, [])
    assert.equal(facts.homePaths, undefined)
  })

  test('an area reader looking up a key of another area is a bug (exit 70)', () => {
    const view = new ProbeRecords(everyExample).area('user') as unknown as {first(key: string): unknown}
    assert.throws(() => view.first('st'), (e: unknown) => e instanceof BastionError && e.code === 'PROBE_VOCABULARY' && e.exit === Exit.INTERNAL)
  })
})

test('readProbeFacts looks up every key the vocabulary gives to its areas; net_count alone is left to nobody', () => {
  const records = new ProbeRecords(everyExample)
  assert.deepEqual(records.malformed, [])
  factsFromRecords(records)
  const forReaders = declared.filter((k) => !['run', 'nobody'].includes(PROBE_VOCABULARY[k].readBy))
  assert.deepEqual([...records.looked].sort(), forReaders.sort())
  assert.deepEqual(declared.filter((k) => PROBE_VOCABULARY[k].readBy === 'nobody'), ['net_count'])
})
