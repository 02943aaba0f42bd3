/**
 * The real SDK stack against a local EC2-compatible endpoint: AWS_ENDPOINT_URL is honoured by the SDK itself,
 * throttling is retried by the configured retry strategy, and still-throttled calls become an actionable error.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, afterEach, before, describe, it} from 'node:test'
import {createEc2Client, credentialsConfigured, DEFAULT_MAX_ATTEMPTS, ec2ClientConfig} from '../../src/cloud/aws/client.js'
import {listBastions} from '../../src/cloud/aws/describe.js'
import {describeInstances} from '../../src/cloud/aws/inventory.js'
import {BastionError} from '../../src/errors.js'
import {startEndpoint} from './ec2-endpoint.js'

const credentials = {accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'}

describe('EC2 client', () => {
  let ep: Awaited<ReturnType<typeof startEndpoint>>
  const saved = {...process.env}
  before(async () => {
    ep = await startEndpoint()
  })
  after(async () => {
    await ep.close()
  })
  afterEach(() => {
    for (const k of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_EC2', 'AWS_MAX_ATTEMPTS', 'AWS_RETRY_MODE']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
    ep.state.requests = []
    ep.state.throttle = 0
    delete ep.state.failWith
  })

  it('the local endpoint refuses, as moto does, a RunInstances root mapping without VolumeSize or SnapshotId, and takes one with a size', async () => {
    process.env.AWS_ENDPOINT_URL = ep.url
    const client = await createEc2Client({region: 'eu-west-1', credentials, maxAttempts: 1})
    const {RunInstancesCommand} = await import('@aws-sdk/client-ec2')
    const ask = (ebs: {VolumeSize?: number}) =>
      client.send(new RunInstancesCommand({ImageId: 'ami-0ccccccccccccccc1', MinCount: 1, MaxCount: 1, BlockDeviceMappings: [{DeviceName: '/dev/sda1', Ebs: {Encrypted: true, ...ebs}}]}))
    const err = await ask({}).then(() => undefined, (e: Error) => e)
    assert.equal(err?.name, 'MissingParameter')
    assert.equal(err?.message, 'The request must contain the parameter size or snapshotId')
    const ok = await ask({VolumeSize: 8})
    assert.equal(ok.Instances?.[0]?.InstanceId, 'i-0fedcba9876543210')
  })

  it('retries are configured: standard mode, 8 attempts, unless AWS_MAX_ATTEMPTS / AWS_RETRY_MODE say otherwise', () => {
    assert.deepEqual(ec2ClientConfig({}, {}), {maxAttempts: DEFAULT_MAX_ATTEMPTS, retryMode: 'standard'})
    assert.equal(DEFAULT_MAX_ATTEMPTS, 8)
    assert.deepEqual(ec2ClientConfig({region: 'eu-west-1', profile: 'prod'}, {AWS_MAX_ATTEMPTS: '3', AWS_RETRY_MODE: 'adaptive'}), {
      maxAttempts: 3,
      retryMode: 'adaptive',
      region: 'eu-west-1',
      profile: 'prod',
    })
  })

  it('credentials count as configured from the environment, a profile, the credentials file, or a config file that gives a profile credentials; a region alone or /dev/null does not', () => {
    const home = mkdtempSync(join(tmpdir(), 'bastion-awscfg-'))
    const none = {HOME: home}
    assert.equal(credentialsConfigured(undefined, none), false)
    assert.equal(credentialsConfigured(undefined, {...none, AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 's'}), true)
    assert.equal(credentialsConfigured(undefined, {...none, AWS_ACCESS_KEY_ID: 'AKID'}), false, 'half a key pair is not credentials')
    assert.equal(credentialsConfigured('prod', none), true)
    assert.equal(credentialsConfigured(undefined, {...none, AWS_PROFILE: 'prod'}), true)
    assert.equal(credentialsConfigured(undefined, {...none, AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token'}), true)
    const config = join(home, 'config')
    writeFileSync(config, '[default]\nregion = eu-west-1\n')
    assert.equal(credentialsConfigured(undefined, {...none, AWS_CONFIG_FILE: config}), false)
    writeFileSync(config, '[profile sso]\nsso_session = corp\nregion = eu-west-1\n')
    assert.equal(credentialsConfigured(undefined, {...none, AWS_CONFIG_FILE: config}), true)
    assert.equal(credentialsConfigured(undefined, {...none, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null'}), false)
    writeFileSync(join(home, 'credentials'), '[default]\naws_access_key_id = AKID\n')
    assert.equal(credentialsConfigured(undefined, {...none, AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials')}), true)
  })

  it('AWS_ENDPOINT_URL sends every call to that endpoint (the SDK honours it), signed for the region', async () => {
    process.env.AWS_ENDPOINT_URL = ep.url
    const client = await createEc2Client({region: 'eu-west-1', credentials})
    const list = await listBastions(client, 'eu-west-1')
    assert.deepEqual(list.map((b) => [b.name, b.state, b.address.publicIp, b.address.stable]), [['jump', 'running', '3.3.3.3', true]])
    assert.deepEqual(list[0]?.vendors, [{vendor: 'hevo', cidrs: ['52.6.1.1/32']}])
    assert.ok(ep.state.requests.length >= 5)
    assert.ok(ep.state.requests.every((r) => r.authorization.includes('/eu-west-1/ec2/aws4_request')), 'SigV4 for ec2 in eu-west-1')
  })

  it('AWS_ENDPOINT_URL_EC2 wins over AWS_ENDPOINT_URL', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'
    process.env.AWS_ENDPOINT_URL_EC2 = ep.url
    const client = await createEc2Client({region: 'eu-west-1', credentials})
    assert.equal((await describeInstances(client, [])).length, 1)
  })

  it('a throttled call (503 RequestLimitExceeded) is retried by the SDK and succeeds', async () => {
    process.env.AWS_ENDPOINT_URL = ep.url
    ep.state.throttle = 1
    const client = await createEc2Client({region: 'eu-west-1', credentials})
    const t0 = Date.now()
    const found = await describeInstances(client, [])
    assert.equal(found[0]?.id, 'i-0123456789abcdef0')
    assert.deepEqual(ep.state.requests.map((r) => r.action), ['DescribeInstances', 'DescribeInstances'])
    assert.ok(Date.now() - t0 < 10_000)
  })

  it('still throttled after every attempt: AWS_THROTTLED, saying how often it tried', async () => {
    process.env.AWS_ENDPOINT_URL = ep.url
    ep.state.throttle = 100
    const client = await createEc2Client({region: 'eu-west-1', credentials, maxAttempts: 2})
    await assert.rejects(describeInstances(client, []), (e: BastionError) => {
      assert.equal(e.code, 'AWS_THROTTLED')
      assert.match(e.message, /2 attempts/)
      return true
    })
    assert.equal(ep.state.requests.length, 2)
  })

  it('an UnauthorizedOperation answer from the endpoint becomes AWS_UNAUTHORIZED naming the action, without retries', async () => {
    process.env.AWS_ENDPOINT_URL = ep.url
    ep.state.failWith = {status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.'}
    const client = await createEc2Client({region: 'eu-west-1', credentials})
    await assert.rejects(describeInstances(client, []), (e: BastionError) => e.code === 'AWS_UNAUTHORIZED' && /ec2:DescribeInstances/.test(e.message))
    assert.equal(ep.state.requests.length, 1)
  })

  it('an endpoint nobody listens on is AWS_UNREACHABLE (exit 6) naming the endpoint', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9'
    const client = await createEc2Client({region: 'eu-west-1', credentials, maxAttempts: 1})
    await assert.rejects(describeInstances(client, []), (e: BastionError) => e.code === 'AWS_UNREACHABLE' && e.exit === 6 && e.message.includes('127.0.0.1:9'))
  })
})
