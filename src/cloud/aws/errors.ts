/**
 * AWS errors → BastionErrors that say what is wrong, why, and how to fix it. Every EC2 call goes through `aws()`,
 * which names the operation, so a refusal can name the IAM action that is missing.
 */
import {BastionError, Exit} from '../../errors.js'

export const IAM_POLICY_DOC = 'docs/aws-iam-policy.json'

interface AwsLikeError {
  name?: string
  code?: string
  message?: string
  Code?: string
  $fault?: string
  $metadata?: {httpStatusCode?: number; requestId?: string; attempts?: number}
}

const QUOTA: Record<string, string[]> = {
  InstanceLimitExceeded: ['terminate instances you no longer need, or ask for a higher "Running On-Demand instances" quota in Service Quotas'],
  VcpuLimitExceeded: ['ask for a higher vCPU quota for this instance family in Service Quotas, or pick a smaller --instance-type'],
  AddressLimitExceeded: [
    'release Elastic IPs you no longer use (aws ec2 describe-addresses --query "Addresses[?AssociationId==null]"), or ask for a higher EIP quota',
    'or create the bastion without one: --no-eip (its address then changes when it is stopped and started)',
  ],
  SecurityGroupLimitExceeded: ['delete unused security groups in the VPC, or ask for a higher quota'],
  RulesPerSecurityGroupLimitExceeded: ['merge vendor addresses into fewer CIDRs, or ask for a higher "Inbound rules per security group" quota'],
  InsufficientInstanceCapacity: ['try another --instance-type, or a subnet in another availability zone, or try again later'],
  MaxSpotInstanceCountExceeded: ['ask for a higher Spot quota'],
  ResourceLimitExceeded: ['ask for a higher quota in Service Quotas'],
}

const USAGE: Record<string, (msg: string) => {code: string; suggestions: string[]}> = {
  'InvalidSubnetID.NotFound': () => ({
    code: 'AWS_SUBNET_NOT_FOUND',
    suggestions: ['check the subnet id and the region (--region): aws ec2 describe-subnets --query "Subnets[].[SubnetId,VpcId,AvailabilityZone]"'],
  }),
  'InvalidSubnetID.Malformed': () => ({code: 'AWS_SUBNET_NOT_FOUND', suggestions: ['a subnet id looks like subnet-0abc1234def567890']}),
  'InvalidGroup.NotFound': () => ({
    code: 'AWS_SECURITY_GROUP_NOT_FOUND',
    suggestions: ['check the security group id and the region: aws ec2 describe-security-groups --group-ids sg-…'],
  }),
  'InvalidGroupId.Malformed': () => ({code: 'AWS_SECURITY_GROUP_NOT_FOUND', suggestions: ['a security group id looks like sg-0abc1234def567890']}),
  'InvalidKeyPair.NotFound': () => ({
    code: 'AWS_KEY_PAIR_NOT_FOUND',
    suggestions: ['list the key pairs of the region: aws ec2 describe-key-pairs', 'or give your public key instead: --public-key-file ~/.ssh/id_ed25519.pub'],
  }),
  'InvalidKeyPair.Duplicate': () => ({code: 'AWS_KEY_PAIR_EXISTS', suggestions: ['use it with --key-name, or delete it: aws ec2 delete-key-pair --key-name …']}),
  'InvalidAMIID.NotFound': () => ({code: 'AWS_IMAGE_NOT_FOUND', suggestions: ['AMI ids are per region: check --ami and --region, or leave --ami out for the latest Ubuntu 24.04']}),
  'InvalidAMIID.Malformed': () => ({code: 'AWS_IMAGE_NOT_FOUND', suggestions: ['an AMI id looks like ami-0abc1234def567890']}),
  'InvalidGroup.Duplicate': () => ({
    code: 'AWS_SECURITY_GROUP_EXISTS',
    suggestions: ['a security group with this name exists but is not tagged by bastion: rename or delete it, or pick another --name'],
  }),
  Unsupported: () => ({code: 'AWS_UNSUPPORTED', suggestions: ['the instance type may not exist in this availability zone: try another --instance-type or another subnet']}),
  InvalidInstanceType: () => ({code: 'AWS_UNSUPPORTED', suggestions: ['check --instance-type (e.g. t3.micro, t3a.micro, t4g.micro)']}),
  InvalidParameterValue: () => ({code: 'AWS_INVALID_PARAMETER', suggestions: ['check the values given on the command line against the message above']}),
  InvalidParameterCombination: () => ({code: 'AWS_INVALID_PARAMETER', suggestions: ['check the values given on the command line against the message above']}),
  'InvalidPermission.Duplicate': () => ({code: 'AWS_RULE_EXISTS', suggestions: ['the rule exists already; run the command again (it skips existing rules)']}),
}

const CREDENTIALS = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'InvalidAccessKeyId',
  'OptInRequired',
])
const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestThrottled'])

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

/** The IAM action a refusal names (`ec2:RunInstances`, `ssm:GetParameters` …), read from the message. */
export function missingAction(message: string): string | undefined {
  return /not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)/.exec(message)?.[1]
}

export function encodedAuthorizationMessage(message: string): string | undefined {
  return /Encoded authorization failure message: ([A-Za-z0-9_\-+/=]+)/.exec(message)?.[1]
}

function credentialSuggestions(): string[] {
  return [
    'configure credentials: aws configure (or aws sso login --profile <name>, then --profile <name>)',
    'or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment',
    'check which identity is used: aws sts get-caller-identity',
  ]
}

/** Map any error an EC2 call threw. `operation` is the API name, e.g. `RunInstances`. */
export function mapAwsError(err: unknown, operation: string): BastionError {
  if (err instanceof BastionError) return err
  const e = (err ?? {}) as AwsLikeError & Error
  const name = e.name ?? e.Code ?? e.code ?? 'Error'
  const message = String(e.message ?? err)
  const requestId = e.$metadata?.requestId
  const detail: Record<string, unknown> = {awsCode: name, operation, ...(requestId ? {requestId} : {})}
  const action = `ec2:${operation}`
  const endpoint = process.env.AWS_ENDPOINT_URL_EC2 ?? process.env.AWS_ENDPOINT_URL

  if (name === 'UnauthorizedOperation' || name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'Blocked') {
    const named = missingAction(message) ?? action
    const encoded = encodedAuthorizationMessage(message)
    return new BastionError('AWS_UNAUTHORIZED', `AWS refused ${operation}: the identity lacks the IAM permission ${named}`, {
      exit: Exit.AUTH,
      suggestions: [
        `allow ${named} for the identity bastion runs as; ${IAM_POLICY_DOC} is the least-privilege policy bastion needs`,
        ...(encoded
          ? [`read AWS's reason: aws sts decode-authorization-message --encoded-message ${encoded} --query DecodedMessage --output text`]
          : []),
      ],
      detail: {...detail, action: named, ...(encoded ? {encodedMessage: encoded} : {})},
      cause: err,
    })
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new BastionError('AWS_NO_CREDENTIALS', `no AWS credentials found (${message})`, {
      exit: Exit.AUTH,
      suggestions: credentialSuggestions(),
      detail,
      cause: err,
    })
  }
  if (CREDENTIALS.has(name)) {
    return new BastionError('AWS_CREDENTIALS', `AWS did not accept the credentials (${name}: ${message})`, {
      exit: Exit.AUTH,
      suggestions: [
        ...(name === 'ExpiredToken' || name === 'ExpiredTokenException' || name === 'RequestExpired'
          ? ['the session has expired: log in again (aws sso login --profile <name>) or refresh the temporary credentials', 'check the machine clock']
          : []),
        ...(name === 'OptInRequired' ? ['the account is not subscribed to EC2 in this region, or the region is not enabled'] : []),
        ...credentialSuggestions(),
      ],
      detail,
      cause: err,
    })
  }
  if (/Region is missing/i.test(message)) {
    return new BastionError('AWS_REGION_MISSING', 'no AWS region is configured', {
      exit: Exit.USAGE,
      suggestions: ['give --region eu-west-1 (for example)', 'or set AWS_REGION, or region in the profile (aws configure set region …)'],
      detail,
      cause: err,
    })
  }
  const usage = USAGE[name]
  if (usage) {
    const u = usage(message)
    return new BastionError(u.code, `${operation}: ${message}`, {exit: Exit.USAGE, suggestions: u.suggestions, detail, cause: err})
  }
  if (THROTTLING.has(name)) {
    const attempts = e.$metadata?.attempts
    return new BastionError('AWS_THROTTLED', `${operation}: AWS kept throttling the requests${attempts ? ` (${attempts} attempts)` : ''}`, {
      exit: Exit.FAILED,
      suggestions: ['try again in a minute; other tools in the account may be using up the API rate', 'allow more retries: AWS_MAX_ATTEMPTS=15'],
      detail,
      cause: err,
    })
  }
  const quota = QUOTA[name]
  if (quota || /LimitExceeded$/.test(name)) {
    return new BastionError('AWS_QUOTA', `${operation}: an AWS quota is exhausted (${name}: ${message})`, {
      exit: Exit.FAILED,
      suggestions: quota ?? ['ask for a higher quota in Service Quotas (https://console.aws.amazon.com/servicequotas/)'],
      detail,
      cause: err,
    })
  }
  if (name === 'DependencyViolation') {
    return new BastionError('AWS_IN_USE', `${operation}: the resource is still in use (${message})`, {
      exit: Exit.FAILED,
      suggestions: [
        'another resource still refers to it: find it with aws ec2 describe-network-interfaces --filters Name=group-id,Values=<sg>',
        'and aws ec2 describe-security-group-references --group-id <sg>; then run the command again',
      ],
      detail,
      cause: err,
    })
  }
  const sysCode = e.code ?? (e as {cause?: {code?: string}}).cause?.code
  if ((sysCode && NETWORK.has(sysCode)) || name === 'NetworkingError') {
    return new BastionError('AWS_UNREACHABLE', `cannot reach the EC2 endpoint${endpoint ? ` ${endpoint}` : ''} (${sysCode ?? name}: ${message})`, {
      exit: Exit.UNREACHABLE,
      suggestions: [
        endpoint ? 'check AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2' : 'check the network connection, proxies (HTTPS_PROXY) and the region name',
      ],
      detail,
      cause: err,
    })
  }
  if (name === 'TimeoutError' || sysCode === 'ETIMEDOUT') {
    return new BastionError('AWS_TIMEOUT', `${operation}: the EC2 endpoint did not answer in time`, {
      exit: Exit.TIMEOUT,
      suggestions: ['check the network connection and try again'],
      detail,
      cause: err,
    })
  }
  return new BastionError('AWS_ERROR', `${operation} failed: ${name}: ${message}`, {
    exit: Exit.FAILED,
    suggestions: requestId ? [`AWS request id ${requestId} (for AWS support)`] : [],
    detail,
    cause: err,
  })
}

/** Run one EC2 call and map its error. */
export async function aws<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw mapAwsError(err, operation)
  }
}

/** The AWS error code of an error (mapped or not). */
export function awsCode(err: unknown): string | undefined {
  if (err instanceof BastionError) return typeof err.detail?.awsCode === 'string' ? err.detail.awsCode : undefined
  const e = err as AwsLikeError | undefined
  return e?.name ?? e?.Code ?? e?.code
}
