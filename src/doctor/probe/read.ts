/**
 * readProbeFacts: one probe run's stdout → HostFacts. The lines are split into typed records by the probe's vocabulary;
 * each area's reader (host, sshd, user, files, network) turns its own records into its part of the facts.
 */
import {BastionError, Exit} from '../../errors.js'
import type {HostFacts} from '../types.js'
import {readAuthorizedKeys, readAuthorizedKeysFileDefaulted, readHomePaths, readStats} from './files.js'
import {readHost, readProbeVersion} from './host.js'
import {readNetwork} from './network.js'
import {ProbeRecords} from './records.js'
import {readSshd} from './sshd.js'
import {readUser} from './user.js'
import {PROBE_VERSION} from './vocabulary.js'

function outputError(message: string, stdout: string): BastionError {
  return new BastionError('PROBE_OUTPUT', message, {
    exit: Exit.REMOTE,
    suggestions: ['run the command again with --dry-run to see the probe script, and run it by hand on the host with `sudo sh -x`'],
    detail: {stdout: stdout.slice(-2000)},
  })
}

/** The facts in one probe run's stdout (throws BastionError PROBE_OUTPUT when it is not a probe's output). */
export function readProbeFacts(stdout: string): HostFacts {
  return factsFromRecords(new ProbeRecords(stdout))
}

/** The facts in a probe run's records: readProbeFacts without the splitting (tests look at what the readers used). */
export function factsFromRecords(records: ProbeRecords): HostFacts {
  const host = records.area('host')
  const version = readProbeVersion(host)
  if (version === undefined) throw outputError('the host did not answer like the doctor probe (no "@bastion probe" line)', records.stdout)
  const probeVersion = Number(version)
  if (probeVersion !== PROBE_VERSION) {
    throw outputError(`the doctor probe on the host speaks version ${version}, this bastion reads ${PROBE_VERSION}`, records.stdout)
  }

  const files = records.area('files')
  const stats = readStats(files)
  const homePaths = readHomePaths(files)
  const {now, os, hostname, tools, notes} = readHost(host)
  const sshd = readSshd(records.area('sshd'))
  const user = readUser(records.area('user'), stats)
  const authorizedKeys = readAuthorizedKeys(files, stats)
  const network = readNetwork(records.area('network'))

  const facts: HostFacts = {
    probeVersion,
    now,
    os,
    hostname,
    sshd,
    user,
    authorizedKeys,
    ...(user.exists ? {homePaths} : {}),
    network,
    tools,
    notes,
  }
  if (readAuthorizedKeysFileDefaulted(files)) facts.authorizedKeysFileDefaulted = true
  return facts
}
