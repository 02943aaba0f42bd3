/**
 * Validation of the values only vendor access takes (the vendor's name, its --vendor-ip list, a login shell); the generic
 * parsers are in src/input/parse.ts. Each refusal says what is wrong, why, and how to fix it (exit 2).
 */
import {inputError} from '../errors.js'
import {checkSourceWidth, parseCidrs} from '../input/parse.js'

/**
 * Names a vendor must never get: system accounts, the default logins of cloud images, and the system groups of
 * Debian/Ubuntu and RHEL-family hosts (a vendor's user gets a group of its own name: `shadow` reads /etc/shadow,
 * `disk` and `kmem` read raw disks and memory). The host refuses any other existing group or account too.
 */
const RESERVED = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup',
  'list', 'irc', 'gnats', 'nobody', 'nogroup', 'sshd', 'messagebus', 'syslog', 'adm', 'sudo', 'wheel', 'staff', 'users',
  'admin', 'ubuntu', 'ec2-user', 'centos', 'debian', 'fedora', 'azureuser', 'rocky', 'almalinux', 'postgres', 'mysql',
  'tty', 'disk', 'kmem', 'shadow', 'utmp', 'dialout', 'fax', 'voice', 'cdrom', 'floppy', 'tape', 'audio', 'video', 'dip',
  'operator', 'src', 'sasl', 'plugdev', 'input', 'sgx', 'kvm', 'render', 'crontab', 'netdev', 'ssh', '_ssh', 'docker',
  'lxd', 'libvirt', 'polkitd', 'ftp', 'halt', 'shutdown', 'adm', 'ssh_keys', 'utempter', 'tss', 'chrony', 'dbus',
])

/** Vendor names become a Linux user and group: lower case, start with a letter or `_`, at most 32 characters. */
export function parseVendorName(raw: string, opts: {allowReserved?: boolean} = {}): string {
  const name = raw.trim()
  // Made only for a name that is refused (a config file checks thousands of valid ones).
  const fix = (): string[] => {
    const suggestion = name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z_]+/, '').slice(0, 32)
    return suggestion && suggestion !== name ? [`use --vendor ${suggestion}`] : []
  }
  if (name === '') throw inputError('VENDOR_EMPTY', 'the vendor name is empty', ['give the vendor a name, e.g. --vendor hevo'])
  if (name.length > 32)
    throw inputError('VENDOR_NAME', `vendor name "${name}" is longer than 32 characters, the limit for Linux user names`, fix())
  if (!/^[a-z_][a-z0-9_-]*$/.test(name))
    throw inputError(
      'VENDOR_NAME',
      `vendor name "${name}" is not a valid Linux user name: use lower-case letters, digits, "-" and "_", starting with a letter or "_"`,
      fix(),
    )
  if (!opts.allowReserved && (RESERVED.has(name) || name.startsWith('systemd-')))
    throw inputError(
      'VENDOR_RESERVED',
      `"${name}" is a system or administrator account; a vendor must get an account of its own`,
      [`pick a name that says who it is for, e.g. --vendor ${name === 'admin' ? 'hevo' : `${name}-vendor`}`],
    )
  return name
}

/** add-vendor-key's --vendor-ip values (repeated or comma-separated; parseCidrs), each judged by checkSourceWidth. */
export function parseFromCidrs(raw: string[], allowAnywhere: boolean): {from: string[]; warnings: string[]} {
  const from = parseCidrs(raw, '--vendor-ip')
  const warnings = from.flatMap((c) => checkSourceWidth(c, '--vendor-ip', allowAnywhere) ?? [])
  return {from, warnings}
}

/** `--shell`: an absolute path without anything a shell or passwd file would trip over. */
export function parseShell(raw: string): string {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(raw))
    throw inputError('SHELL', `--shell "${raw}" is not an absolute path to a shell`, ['--shell /usr/sbin/nologin (the default)', '--shell /bin/bash'])
  return raw
}
