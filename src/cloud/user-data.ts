/**
 * The user-data a new bastion boots with: one POSIX sh script (cloud-init runs a `#!` user-data once per instance, as
 * root) that installs the sshd hardening drop-in and, when a vendor key is given, sets the vendor up with the very
 * script `add-vendor-key` runs over SSH — the host is vendor-ready at boot. Pure: rendering only.
 */
import {gzipSync} from 'node:zlib'
import {BastionError, Exit} from '../errors.js'
import {quoteShell} from '../ssh/quote.js'
import {addScript, type AddPlan} from '../access/service.js'
import {template} from '../remote/script.js'

/** EC2 refuses user-data above 16 KB (before base64). */
export const USER_DATA_LIMIT = 16 * 1024
/** Where the user-data keeps its files on the host (0700, root). */
export const STATE_DIR = '/var/lib/bastion'
/** The drop-in's path on the host. */
export const SSHD_DROPIN_PATH = '/etc/ssh/sshd_config.d/10-bastion.conf'

/** What the drop-in sets, as `sshd -T` prints it (keyword lower-case, value). Tests and doctor compare with these. */
export const SSHD_SETTINGS: Readonly<Record<string, string>> = {
  pubkeyauthentication: 'yes',
  passwordauthentication: 'no',
  kbdinteractiveauthentication: 'no',
  permitemptypasswords: 'no',
  permitrootlogin: 'no',
  allowtcpforwarding: 'local',
  allowstreamlocalforwarding: 'no',
  allowagentforwarding: 'no',
  x11forwarding: 'no',
  gatewayports: 'no',
  permittunnel: 'no',
  permituserenvironment: 'no',
  maxstartups: '50:30:100',
  logingracetime: '30',
  clientaliveinterval: '30',
  clientalivecountmax: '4',
}

export interface UserDataInput {
  /** The bastion's name (for the log lines). */
  name: string
  /** The vendor to set up at boot (planAdd's plan), when a vendor key was given. */
  vendor?: AddPlan
}

/** The sshd drop-in, as installed at SSHD_DROPIN_PATH. */
export function sshdDropIn(): string {
  return template('cloud-init/10-bastion.conf')
}

function heredoc(path: string, content: string, delimiter: string): string {
  const body = content.endsWith('\n') ? content : `${content}\n`
  if (body.split('\n').includes(delimiter)) throw new Error(`heredoc delimiter ${delimiter} occurs in ${path}`)
  return `cat > ${path} <<'${delimiter}'\n${body}${delimiter}\n`
}

/** The user-data script (text). Its wire form (encodeUserData) must fit EC2's 16 KB limit. */
export function renderUserData(input: UserDataInput): string {
  const vendorScript = input.vendor ? addScript(input.vendor) : undefined
  const parts = [
    '#!/bin/sh',
    `# bastion user-data for "${input.name}", rendered from templates/cloud-init/. cloud-init runs it once, as root.`,
    `BASTION_NAME=${quoteShell(input.name)}`,
    `STATE_DIR=${quoteShell(STATE_DIR)}`,
    `VENDOR=${quoteShell(input.vendor?.vendor ?? '')}`,
    'umask 077',
    'mkdir -p "$STATE_DIR" && chmod 700 "$STATE_DIR"',
    heredoc('"$STATE_DIR/10-bastion.conf"', sshdDropIn(), 'BASTION_EOF_SSHD_DROPIN').trimEnd(),
    ...(vendorScript ? [heredoc('"$STATE_DIR/vendor-add.sh"', vendorScript, 'BASTION_EOF_VENDOR_SCRIPT').trimEnd()] : []),
    template('cloud-init/bastion-init.sh').trimEnd(),
    '',
  ]
  return parts.join('\n')
}

/**
 * What RunInstances gets (before base64): the script itself when it fits EC2's 16 KB, else gzip-compressed — cloud-init
 * recognises gzip user-data and decompresses it (a script with a vendor key is about 17 KB, 6 KB compressed).
 */
export function encodeUserData(text: string): {data: Buffer; gzip: boolean} {
  const raw = Buffer.from(text)
  if (raw.length <= USER_DATA_LIMIT) return {data: raw, gzip: false}
  const data = gzipSync(raw, {level: 9})
  if (data.length > USER_DATA_LIMIT)
    throw new BastionError('USER_DATA_TOO_LARGE', `the user-data is ${data.length} bytes even gzip-compressed; EC2 accepts at most ${USER_DATA_LIMIT}`, {
      exit: Exit.USAGE,
      suggestions: ['create the bastion without --key-file, then add the key with bastion add-vendor-key'],
    })
  return {data, gzip: true}
}
