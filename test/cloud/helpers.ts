/**
 * Shared test inputs for the AWS tests: a plan as `create` builds it, the request from create's flags, temporary
 * known_hosts files, and create as the command runs it (the driver, then the host keys recorded).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {EC2Client} from '@aws-sdk/client-ec2'
import {generateEd25519} from '../../src/ssh/keygen.js'
import {parseHostPort} from '../../src/input/parse.js'
import {parsePublicKey} from '../../src/access/keys.js'
import {planAdd} from '../../src/access/service.js'
import {applyCreate, type AwsCreateResult, type CreateOptions} from '../../src/cloud/aws/create.js'
import type {AwsFlagValues} from '../../src/cloud/aws/flags.js'
import {parseAwsCreateOptions, toAwsRequest} from '../../src/cloud/aws/input.js'
import {planCreate, type AwsCreatePlan, type AwsCreateRequest} from '../../src/cloud/aws/plan.js'
import {parseCreateRequest, type CreateFlags} from '../../src/cloud/create-input.js'
import {knownHostKeysIn, recordHostKeys} from '../../src/cloud/host-keys.js'
import type {HostKeysOutcome} from '../../src/cloud/provider.js'

export const SUBNET = 'subnet-0aaaaaaaaaaaaaaa1'
export const DB_SG = 'sg-0dddddddddddddd01'

export const vendorKey = parsePublicKey(generateEd25519('hevo@prod').publicKey).key
export const adminKey = parsePublicKey(generateEd25519('me@laptop').publicKey).key

export function request(over: Partial<AwsCreateRequest> = {}): AwsCreateRequest {
  return {
    name: 'jump',
    subnetId: SUBNET,
    vendor: {vendor: 'hevo', cidrs: ['52.6.1.1/32', '52.6.1.2/32']},
    vendorKey: planAdd({vendor: 'hevo', key: vendorKey, permitOpen: [parseHostPort('10.0.1.5:5432')], today: '2026-11-24'}),
    adminCidrs: ['203.0.113.7/32'],
    allowAnywhere: false,
    instanceType: 't3.micro',
    image: {kind: 'ubuntu-24.04'},
    keyPair: {kind: 'import', key: adminKey},
    eip: true,
    db: {securityGroupId: DB_SG, port: 5432},
    database: '10.0.1.5:5432',
    ...over,
  }
}

export function plan(over: Partial<AwsCreateRequest> = {}): AwsCreatePlan {
  return planCreate(request(over))
}

export function tempKnownHosts(): string {
  return join(mkdtempSync(join(tmpdir(), 'bastion-kh-')), 'known_hosts')
}

/** `create --cloud aws`'s flags as the command turns them into the request the plan is made from. */
export async function awsCreateRequest(flags: CreateFlags & AwsFlagValues): Promise<{request: AwsCreateRequest; warnings: string[]}> {
  const common = await parseCreateRequest(flags)
  const own = parseAwsCreateOptions(flags, common.request)
  return {request: toAwsRequest({...common.request, options: own.options}), warnings: [...common.warnings, ...own.warnings]}
}

/** applyCreate, then the host keys recorded in `knownHostsFile`, as `bastion create` does. */
export async function createRecorded(
  client: EC2Client,
  p: AwsCreatePlan,
  opts: CreateOptions & {knownHostsFile: string},
): Promise<Omit<AwsCreateResult, 'hostKeys'> & {hostKeys: HostKeysOutcome}> {
  const {knownHostsFile, ...rest} = opts
  const r = await applyCreate(client, p, {...rest, knownHostKeys: knownHostKeysIn(knownHostsFile)})
  return {...r, hostKeys: recordHostKeys(r.hostKeys, knownHostsFile)}
}
