/**
 * An EC2 client the way the AWS CLI would make one: credentials and region from the SDK's default chain (environment,
 * shared config and credentials files, SSO, web identity, container and instance roles), `--profile` and `--region`
 * on top, and the SDK's own support for AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_EC2 (or `endpoint_url` in the profile), so
 * any EC2-compatible endpoint works. Throttling (RequestLimitExceeded) and transient errors are retried by the SDK's
 * standard retry strategy: exponential backoff with jitter, DEFAULT_MAX_ATTEMPTS attempts unless AWS_MAX_ATTEMPTS or
 * AWS_RETRY_MODE say otherwise.
 */
import {statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {EC2Client, EC2ClientConfig} from '@aws-sdk/client-ec2'
import {CONFIG_FILE_MAX_BYTES, readLimited} from '../../input/file.js'
import {ec2sdk} from './sdk.js'

/** Attempts per call (first try + retries) when the environment does not set AWS_MAX_ATTEMPTS. */
export const DEFAULT_MAX_ATTEMPTS = 8

export interface AwsClientOptions {
  region?: string
  profile?: string
  /** Overrides AWS_MAX_ATTEMPTS / DEFAULT_MAX_ATTEMPTS. */
  maxAttempts?: number
  /** Tests: a request handler standing in for HTTP, static credentials. */
  requestHandler?: EC2ClientConfig['requestHandler']
  credentials?: EC2ClientConfig['credentials']
}

/** The client configuration (exported for tests): retries configured, everything else left to the SDK chain. */
export function ec2ClientConfig(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): EC2ClientConfig {
  const envAttempts = Number(env.AWS_MAX_ATTEMPTS)
  const config: EC2ClientConfig = {
    maxAttempts: opts.maxAttempts ?? (Number.isInteger(envAttempts) && envAttempts > 0 ? envAttempts : DEFAULT_MAX_ATTEMPTS),
    retryMode: env.AWS_RETRY_MODE === 'adaptive' || env.AWS_RETRY_MODE === 'legacy' ? env.AWS_RETRY_MODE : 'standard',
  }
  if (opts.region) config.region = opts.region
  if (opts.profile) config.profile = opts.profile
  if (opts.requestHandler) config.requestHandler = opts.requestHandler
  if (opts.credentials) config.credentials = opts.credentials
  return config
}

export async function createEc2Client(opts: AwsClientOptions = {}): Promise<EC2Client> {
  const {EC2Client} = await ec2sdk()
  return new EC2Client(ec2ClientConfig(opts))
}

/** The region the client works in, or undefined when none is configured anywhere. */
export async function clientRegion(client: EC2Client): Promise<string | undefined> {
  try {
    const r = await client.config.region()
    return r || undefined
  } catch {
    return undefined
  }
}

/** Keys of ~/.aws/config that give a profile credentials (not just a region). */
const CREDENTIAL_SETTINGS = /^\s*(aws_access_key_id|sso_session|sso_start_url|sso_account_id|credential_process|role_arn|web_identity_token_file|credential_source|login_session)\s*=/m

/**
 * Whether credentials are configured where the SDK's chain looks — the environment, a named profile, the shared
 * credentials file, a config file that gives some profile credentials — judged without loading the SDK and without
 * a call. An instance role is not seen (finding it takes a call to the metadata service).
 */
export function credentialsConfigured(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true
  if (profile || env.AWS_PROFILE) return true
  // A file that is absent, or /dev/null and the like (a way to turn it off), holds no profile.
  const isFile = (path: string) => statSync(path, {throwIfNoEntry: false})?.isFile() === true
  const home = env.HOME || homedir()
  if (isFile(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'))) return true
  const config = env.AWS_CONFIG_FILE || join(home, '.aws', 'config')
  if (!isFile(config)) return false
  const text = readLimited(config, {label: `the AWS config file ${config}`, holds: 'AWS profiles', maxBytes: CONFIG_FILE_MAX_BYTES, regularOnly: true})
  return CREDENTIAL_SETTINGS.test(text.toString('utf8'))
}
