/**
 * A new bastion's SSH host keys, as its cloud read them (from the console, before anyone connected), recorded in
 * known_hosts under its public address — so later SSH (add-vendor-key, doctor) is verified without trusting on first
 * use. The same for every cloud: providers only read the keys.
 */
import {appendKnownHost, checkHostKey, lookupHostKeys} from '../ssh/known-hosts.js'
import type {HostKeysOutcome, HostKeysRead} from './provider.js'

/** The keys `file` has for an address (what a re-run of create asks before reading the console again). */
export function knownHostKeysIn(file: string): (host: string) => {type: string; fingerprint: string}[] {
  return (host) =>
    lookupHostKeys(host, [file])
      .filter((e) => !e.marker)
      .map((e) => ({type: e.keyType, fingerprint: e.fingerprint}))
}

/** Record what was read in `file` (keys already there are not added again) and say what was done. */
export function recordHostKeys(read: HostKeysRead, file: string): HostKeysOutcome {
  if (read.status === 'known') return {status: 'present', file, host: read.host, keys: read.keys, note: `${file} already has the host keys of ${read.host}`}
  if (read.status !== 'read') return {status: read.status, keys: [], note: read.note}
  const keys = read.keys.map((k) => ({type: k.type, fingerprint: k.fingerprint}))
  const host = read.host
  if (!host) return {status: 'skipped', keys, note: 'the instance has no public address to record the keys under'}
  let added = 0
  for (const k of read.keys) {
    const check = checkHostKey(host, Buffer.from(k.base64, 'base64'), [file])
    if (check.status === 'match' || check.status === 'revoked') continue
    appendKnownHost(file, host, k.type, k.base64)
    added++
  }
  const others = lookupHostKeys(host, [file]).filter((e) => !e.marker && !read.keys.some((k) => k.base64 === e.keyBase64))
  return {
    status: added > 0 ? 'recorded' : 'present',
    file,
    host,
    keys,
    note:
      (added > 0 ? `recorded ${added} host key(s) for ${host} in ${file}` : `the host keys of ${host} are already in ${file}`) +
      (read.ignored > 0 ? `; ignored ${read.ignored} key(s) whose fingerprint the console did not list` : '') +
      (others.length > 0 ? `; ${file} also has older keys for ${host} (an earlier host with this address?): ssh-keygen -R ${host}` : ''),
  }
}
