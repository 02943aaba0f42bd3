/**
 * `bastion destroy --cloud aws`: remove everything tagged for the bastion, in the order AWS allows — detach the
 * Elastic IP, terminate the instance (and wait), release the address, revoke the database rule, delete the security
 * group (retried while the instance's network interface detaches), delete the imported key pair. Each step is
 * reported; a re-run finds only what is left, so it is safe to run again after a failure or Ctrl-C.
 */
import type {EC2Client} from '@aws-sdk/client-ec2'
import {BastionError, asBastionError} from '../../errors.js'
import type {DestroyResult, Step} from '../provider.js'
import {aws, awsCode} from './errors.js'
import {inventory, isEmptyInventory} from './inventory.js'
import {checkAborted, deleteKeyPair, deleteSecurityGroup, opsContext, releaseAddress, revokeIngress, terminateAndWait, type AwsRunOptions} from './ops.js'
import {ec2sdk} from './sdk.js'

export async function applyDestroy(
  client: EC2Client,
  name: string,
  opts: AwsRunOptions & {dryRun?: boolean; region?: string} = {},
): Promise<DestroyResult> {
  const ctx = opsContext(client, opts)
  const steps: Step[] = []
  const dry = opts.dryRun === true
  const done = (s: Step) => {
    steps.push(s)
    ctx.progress(s.detail)
  }
  ctx.progress(`looking for resources tagged bastion:name=${name}`)
  const inv = await inventory(client, name)
  const publicIps = [...new Set([...inv.addresses.map((a) => a.publicIp), ...inv.instances.map((i) => i.publicIp ?? '')].filter(Boolean))]
  const base = {cloud: 'aws' as const, name, dryRun: dry, publicIps, ...(opts.region ? {region: opts.region} : {})}
  if (isEmptyInventory(inv)) return {...base, steps, nothingFound: true}

  const run = async (s: Omit<Step, 'status' | 'detail'> & {what: string}, action: () => Promise<'done' | 'absent'>) => {
    checkAborted(ctx.signal)
    const {what, ...rest} = s
    if (dry) return done({...rest, status: 'skipped', detail: `would ${what}`})
    ctx.progress(what)
    const r = await action()
    done({...rest, status: r === 'done' ? 'deleted' : 'absent', detail: `${what}: ${r === 'done' ? 'done' : 'already gone'}`})
  }

  try {
    const {DisassociateAddressCommand} = await ec2sdk()
    for (const a of inv.addresses) {
      const associationId = a.associationId
      if (!associationId) continue
      await run({kind: 'eip-association', id: associationId, what: `detach Elastic IP ${a.publicIp} from ${a.instanceId ?? a.networkInterfaceId ?? '?'}`}, async () => {
        try {
          await aws('DisassociateAddress', () => client.send(new DisassociateAddressCommand({AssociationId: associationId})))
          return 'done'
        } catch (err) {
          if (awsCode(err) === 'InvalidAssociationID.NotFound') return 'absent'
          throw err
        }
      })
    }
    for (const i of inv.instances) {
      await run({kind: 'instance', id: i.id, what: `terminate instance ${i.id} (${i.state}) and wait until it is gone`}, async () =>
        (await terminateAndWait(ctx, i.id)) === 'terminated' ? 'done' : 'absent',
      )
    }
    for (const a of inv.addresses) {
      await run({kind: 'elastic-ip', id: a.allocationId, what: `release Elastic IP ${a.publicIp}`}, async () =>
        (await releaseAddress(ctx, a.allocationId)) === 'released' ? 'done' : 'absent',
      )
    }
    const byGroup = new Map<string, string[]>()
    for (const r of inv.foreignRules) byGroup.set(r.groupId, [...(byGroup.get(r.groupId) ?? []), r.id])
    for (const [groupId, ids] of byGroup) {
      await run({kind: 'db-rule', id: ids.join(','), what: `revoke the rule(s) ${ids.join(', ')} admitting the bastion in ${groupId}`}, async () =>
        (await revokeIngress(ctx, groupId, ids)) === 'revoked' ? 'done' : 'absent',
      )
    }
    for (const g of inv.securityGroups) {
      await run({kind: 'security-group', id: g.id, what: `delete security group ${g.id} (${g.name})`}, async () =>
        (await deleteSecurityGroup(ctx, g.id)) === 'deleted' ? 'done' : 'absent',
      )
    }
    for (const k of inv.keyPairs) {
      await run({kind: 'key-pair', id: k.id, what: `delete key pair ${k.name}`}, async () => {
        await deleteKeyPair(ctx, k.id)
        return 'done'
      })
    }
  } catch (err) {
    const e = asBastionError(err)
    const doneSoFar = steps.filter((s) => s.status !== 'skipped').map((s) => s.detail)
    throw new BastionError(e.code, `${e.message}${doneSoFar.length > 0 ? `\ndone before the failure: ${doneSoFar.join('; ')}` : ''}`, {
      exit: e.exit,
      suggestions: [...e.suggestions, `run the same command again: it finds what is left (bastion destroy --cloud aws --name ${name} --confirm ${name})`],
      detail: {...e.detail, steps},
      cause: e,
    })
  }
  return {...base, steps, nothingFound: false}
}
