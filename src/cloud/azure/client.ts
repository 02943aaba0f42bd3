/**
 * The Azure Resource Manager clients (@azure/arm-network, @azure/arm-compute), loaded on first use only, with
 * DefaultAzureCredential (environment, workload identity, managed identity, the Azure CLI's `az login` …). The
 * endpoint is AZURE_RESOURCE_MANAGER_ENDPOINT when set (sovereign clouds, emulators), else public Azure, and the
 * token's scope follows it. Every call goes through `arm()`, which turns a REST error into a BastionError that names
 * the operation (and so the role permission that is missing).
 */
import {existsSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import type {ComputeManagementClient} from '@azure/arm-compute'
import type {NetworkManagementClient} from '@azure/arm-network'
import {BastionError, Exit, inputError, remoteError} from '../../errors.js'

export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com'
export const ROLE_DOC = 'docs/azure-role.json'

export interface Arm {
  network: NetworkManagementClient
  compute: ComputeManagementClient
  subscriptionId: string
  endpoint: string
}

/** The Resource Manager endpoint (no trailing slash). */
export function armEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.AZURE_RESOURCE_MANAGER_ENDPOINT || PUBLIC_ARM_ENDPOINT).replace(/\/+$/, '')
}

/** The subscription the flag or the environment names, or undefined. */
export function subscriptionOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env.AZURE_SUBSCRIPTION_ID || undefined)
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, cmd)))
}

/**
 * Whether DefaultAzureCredential has something to work with — service principal or workload identity variables, a
 * managed identity endpoint, or the Azure CLI (on PATH, or its ~/.azure profile) — and a subscription is named, judged
 * without the SDK and without a call.
 */
export function credentialsConfigured(subscription: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!subscriptionOf(subscription, env)) return false
  if (env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) return true
  if (env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT) return true
  const profile = join(env.AZURE_CONFIG_DIR || join(env.HOME || homedir(), '.azure'), 'azureProfile.json')
  return onPath('az', env) || statSync(profile, {throwIfNoEntry: false})?.isFile() === true
}

export async function openArm(subscriptionFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Arm> {
  const subscriptionId = subscriptionOf(subscriptionFlag, env)
  if (!subscriptionId)
    throw inputError('AZURE_SUBSCRIPTION_MISSING', 'no Azure subscription: give --subscription or set AZURE_SUBSCRIPTION_ID', [
      '--subscription 00000000-0000-0000-0000-000000000000 (az account show --query id -o tsv prints yours)',
    ])
  const endpoint = armEndpoint(env)
  const [{DefaultAzureCredential}, {NetworkManagementClient}, {ComputeManagementClient}] = await Promise.all([
    import('@azure/identity'),
    import('@azure/arm-network'),
    import('@azure/arm-compute'),
  ])
  const credential = new DefaultAzureCredential()
  const options = {endpoint, credentials: {scopes: [`${endpoint}/.default`]}}
  return {
    network: new NetworkManagementClient(credential, subscriptionId, options),
    compute: new ComputeManagementClient(credential, subscriptionId, options),
    subscriptionId,
    endpoint,
  }
}

interface RestLikeError {
  name?: string
  code?: string
  statusCode?: number
  message?: string
  details?: {error?: {code?: string; message?: string}}
}

/** The REST error's Azure code (`ResourceNotFound`, `AnotherOperationInProgress` …) and HTTP status. */
export function armCode(err: unknown): {code?: string; status?: number} {
  if (err instanceof BastionError) {
    const {azureCode, status} = err.detail ?? {}
    return {...(typeof azureCode === 'string' ? {code: azureCode} : {}), ...(typeof status === 'number' ? {status} : {})}
  }
  const e = err as RestLikeError
  if (!e || typeof e !== 'object') return {}
  return {...(e.details?.error?.code ?? e.code ? {code: e.details?.error?.code ?? e.code} : {}), ...(typeof e.statusCode === 'number' ? {status: e.statusCode} : {})}
}

export function isNotFound(err: unknown): boolean {
  const {code, status} = armCode(err)
  return status === 404 || code === 'ResourceNotFound' || code === 'NotFound' || code === 'ResourceGroupNotFound'
}

/** A firewall (policy) busy with another update: back off and start again from the GET. */
export function isBusy(err: unknown): boolean {
  const {code, status} = armCode(err)
  return code === 'AnotherOperationInProgress' || /UpdateNotAllowed$/.test(code ?? '') || (status === 409 && code === 'Conflict')
}

/** Run one Resource Manager call; its failure becomes a BastionError naming the operation. */
export async function arm<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw armError(operation, err)
  }
}

/** A GET that answers undefined for a resource that does not exist. */
export async function armGet<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw armError(operation, err)
  }
}

export function armError(operation: string, err: unknown): BastionError {
  if (err instanceof BastionError) return err
  const e = err as RestLikeError
  const {code, status} = armCode(err)
  const message = `${operation}: ${e?.details?.error?.message ?? e?.message ?? String(err)}`
  if (e?.name === 'CredentialUnavailableError' || e?.name === 'AuthenticationError' || e?.name === 'AggregateAuthenticationError')
    return new BastionError('AZURE_CREDENTIALS', `${operation}: no usable Azure credentials (${e.message?.split('\n')[0] ?? ''})`, {
      exit: Exit.AUTH,
      suggestions: ['az login (then az account set --subscription …)', 'or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal'],
      cause: err,
    })
  if (status === 401 || status === 403 || code === 'AuthorizationFailed' || code === 'LinkedAuthorizationFailed')
    return new BastionError('AZURE_ACCESS_DENIED', message, {
      exit: Exit.AUTH,
      suggestions: [`give the identity the role in ${ROLE_DOC} (az role definition create --role-definition @${ROLE_DOC}), scoped to the resource groups bastion works in`],
      detail: {operation, ...(code ? {azureCode: code} : {}), ...(status ? {status} : {})},
      cause: err,
    })
  if (code === 'REQUEST_SEND_ERROR' || /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|certificate/i.test(e?.message ?? ''))
    return new BastionError('AZURE_UNREACHABLE', message, {
      exit: Exit.UNREACHABLE,
      suggestions: ['check the network and AZURE_RESOURCE_MANAGER_ENDPOINT (an endpoint with its own CA needs NODE_EXTRA_CA_CERTS)'],
      detail: {operation, ...(code ? {azureCode: code} : {})},
      cause: err,
    })
  if (e?.name === 'AbortError') return new BastionError('INTERRUPTED', `${operation}: interrupted`, {exit: Exit.FAILED, suggestions: []})
  return remoteError(`AZURE_${(code ?? `HTTP_${status ?? 'ERROR'}`).replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`, message, ['check the message above; re-running is safe (bastion finds what exists by name and tag)'], {
    operation,
    ...(code ? {azureCode: code} : {}),
    ...(status ? {status} : {}),
  })
}
