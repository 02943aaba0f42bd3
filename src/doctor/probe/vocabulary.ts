/**
 * The doctor probe's vocabulary, declared once: every `@bastion <key> <fields…>` line templates/doctor-probe.sh (with
 * lib.sh) can print, its fields in order, and which reader takes it. The records module splits lines into typed records
 * by this table; test/doctor/probe-vocabulary.test.ts holds the script, this table and the readers to each other.
 *
 * Fields are separated by single spaces. A field of kind `text`, `path` or `words` is the rest of the line and comes
 * last; words after the last declared field of any other kind are ignored. Values that may hold anything travel as
 * base64 (`b64`, '-' when empty) and reach the readers decoded.
 */

/** The shape of the probe's output (PROBE_VERSION in the script); readProbeFacts refuses others. */
export const PROBE_VERSION = 1

export type FieldKind =
  /** A whole number ≥ 0. */
  | 'count'
  /** A whole number, perhaps negative, or '-' for none. */
  | 'int'
  /** 0 or 1. */
  | 'flag'
  /** One word (no spaces); '-' where the field says so. */
  | 'word'
  /** Hexadecimal digits (a raw mode as stat %f prints it). */
  | 'hex'
  /** Octal digits (permission bits as stat %a prints them). */
  | 'octal'
  /** base64 of any text, '-' when empty; the record holds the decoded text. */
  | 'b64'
  /** The rest of the line as it is, spaces included; may be empty. */
  | 'text'
  /** The rest of the line, a path (spaces included); never empty. */
  | 'path'
  /** The rest of the line as a list of words; may be empty. */
  | 'words'

/** The kinds that take the rest of the line. */
export const REST_KINDS: ReadonlySet<FieldKind> = new Set<FieldKind>(['text', 'path', 'words'])

export interface FieldSpec {
  readonly name: string
  readonly kind: FieldKind
  /** The field may be missing at the end of the line (only trailing fields are optional). */
  readonly optional?: true
  readonly doc: string
}

/**
 * Who reads a key: one of readProbeFacts' areas; `run` for the lines every remote script prints, which checkScriptRun
 * (src/remote/script.ts) reads; `nobody` for a line no reader needs (its doc says why it is printed).
 */
export type ProbeArea = 'host' | 'sshd' | 'user' | 'files' | 'network'
export type ReadBy = ProbeArea | 'run' | 'nobody'

export interface FactSpec {
  readonly readBy: ReadBy
  readonly doc: string
  readonly fields: readonly FieldSpec[]
  /** A line as the probe prints it, without `@bastion ` (documentation; the tests read every example). */
  readonly example: string
}

export const PROBE_VOCABULARY = {
  // ---- the host
  probe: {
    readBy: 'host',
    doc: 'The first line of the facts: which output shape follows.',
    fields: [{name: 'version', kind: 'word', doc: 'PROBE_VERSION of the script'}],
    example: 'probe 1',
  },
  now: {
    readBy: 'host',
    doc: "The host's clock, for expiry checks.",
    fields: [{name: 'seconds', kind: 'count', doc: 'seconds since the epoch (date +%s)'}],
    example: 'now 1767225600',
  },
  hostname: {
    readBy: 'host',
    doc: 'uname -n.',
    fields: [{name: 'name', kind: 'text', doc: 'the host name'}],
    example: 'hostname ip-10-0-0-5',
  },
  osrelease: {
    readBy: 'host',
    doc: '/etc/os-release (or /usr/lib/os-release), its first 8 KiB.',
    fields: [{name: 'content', kind: 'b64', doc: "the file's text; empty when neither file is readable"}],
    example: 'osrelease SUQ9ZGViaWFuClZFUlNJT05fSUQ9IjEyIgo=',
  },
  tools: {
    readBy: 'host',
    doc: 'Which tools the probe found.',
    fields: [{
      name: 'pairs',
      kind: 'words',
      doc: '`<tool> <value>` pairs: nc and its flavour (openbsd, ncat, traditional, busybox, unknown; - for none), then 1 or 0 for bash, timeout, getent, ss, setpriv',
    }],
    example: 'tools nc openbsd bash 1 timeout 1 getent 1 ss 1 setpriv 1',
  },
  note: {
    readBy: 'host',
    doc: 'A remark of the probe about itself (a test switch that was on).',
    fields: [{name: 'text', kind: 'text', doc: 'the remark'}],
    example: 'note nc ignored: PROBE_NO_NC=1',
  },

  // ---- sshd
  sshd_binary: {
    readBy: 'sshd',
    doc: 'Where sshd is.',
    fields: [{name: 'path', kind: 'text', doc: "the binary's path, - when there is none"}],
    example: 'sshd_binary /usr/sbin/sshd',
  },
  sshd_version: {
    readBy: 'sshd',
    doc: "sshd -V's first line naming OpenSSH (older sshd print it in their usage text); only when there is an sshd.",
    fields: [{name: 'text', kind: 'text', doc: 'e.g. "OpenSSH_9.2, OpenSSL 3.0.11 …"; empty when none'}],
    example: 'sshd_version OpenSSH_9.2, OpenSSL 3.0.11 19 Sep 2023',
  },
  ssh_version: {
    readBy: 'sshd',
    doc: "ssh -V's first line naming OpenSSH; only when there is an ssh client.",
    fields: [{name: 'text', kind: 'text', doc: 'e.g. "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.11 …"'}],
    example: 'ssh_version OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.11 19 Sep 2023',
  },
  sshd_pid: {
    readBy: 'sshd',
    doc: 'One listening sshd process (an sshd whose parent is not an sshd).',
    fields: [{name: 'pid', kind: 'count', doc: 'its process id'}],
    example: 'sshd_pid 812',
  },
  listen: {
    readBy: 'sshd',
    doc: "A listening TCP socket of sshd, or of anything on the vendor's port (from ss, else /proc/net/tcp and tcp6).",
    fields: [
      {name: 'address', kind: 'word', doc: 'the local address (IPv6 without brackets; from /proc in full hex-group form)'},
      {name: 'port', kind: 'count', doc: 'the local port'},
      {name: 'processes', kind: 'word', doc: 'comma-separated process names, - when unknown'},
    ],
    example: 'listen 0.0.0.0 22 sshd',
  },
  sshd_t: {
    readBy: 'sshd',
    doc: 'sshd -t: is the configuration valid?',
    fields: [
      {name: 'rc', kind: 'count', doc: 'its exit status'},
      {name: 'output', kind: 'b64', doc: 'what it printed'},
    ],
    example: 'sshd_t 0 -',
  },
  effective: {
    readBy: 'sshd',
    doc: 'sshd -T -C for the vendor, once per vendor address.',
    fields: [
      {name: 'cidr', kind: 'word', doc: 'the vendor CIDR the address stands for, - for the placeholder address'},
      {name: 'spec', kind: 'word', doc: 'the -C connection spec (user=…,addr=…,host=…[,laddr=…,lport=…])'},
      {name: 'rc', kind: 'count', doc: 'its exit status'},
      {name: 'output', kind: 'b64', doc: 'the effective settings it printed'},
      {name: 'errors', kind: 'b64', doc: 'its error output when it failed'},
    ],
    example: 'effective 52.6.1.0/24 user=hevo,addr=52.6.1.1,host=52.6.1.1,laddr=10.0.0.5,lport=22 0 cG9ydCAyMgpwdWJrZXlhdXRoZW50aWNhdGlvbiB5ZXMK -',
  },
  global: {
    readBy: 'sshd',
    doc: 'Plain sshd -T (no Match applied): printed only when no sshd -T -C run succeeded.',
    fields: [{name: 'output', kind: 'b64', doc: 'the settings it printed'}],
    example: 'global YXV0aG9yaXplZGtleXNmaWxlIC5zc2gvYXV0aG9yaXplZF9rZXlzCg==',
  },

  // ---- the vendor's account
  user_absent: {
    readBy: 'user',
    doc: 'The vendor has no account (nothing else about the user follows).',
    fields: [{name: 'name', kind: 'word', doc: 'the vendor name asked about'}],
    example: 'user_absent hevo',
  },
  user: {
    readBy: 'user',
    doc: "The vendor's passwd entry.",
    fields: [
      {name: 'name', kind: 'word', doc: 'the user name'},
      {name: 'uid', kind: 'count', doc: 'user id'},
      {name: 'gid', kind: 'count', doc: 'primary group id'},
      {name: 'group', kind: 'word', doc: "the primary group's name, - when it has none"},
    ],
    example: 'user hevo 1001 1001 hevo',
  },
  user_home: {
    readBy: 'user',
    doc: 'The home directory as passwd names it.',
    fields: [{name: 'path', kind: 'text', doc: 'the home (may be empty)'}],
    example: 'user_home /home/hevo',
  },
  user_shell: {
    readBy: 'user',
    doc: 'The login shell as passwd names it.',
    fields: [{name: 'path', kind: 'text', doc: 'the shell (may be empty)'}],
    example: 'user_shell /usr/sbin/nologin',
  },
  user_groups: {
    readBy: 'user',
    doc: 'id -Gn: the primary and supplementary groups.',
    fields: [{name: 'groups', kind: 'words', doc: 'group names'}],
    example: 'user_groups hevo',
  },
  user_shellinfo: {
    readBy: 'user',
    doc: 'What the shell is.',
    fields: [
      {name: 'listed', kind: 'flag', doc: '1 when /etc/shells lists it'},
      {name: 'executable', kind: 'flag', doc: '1 when it is an executable regular file'},
    ],
    example: 'user_shellinfo 0 1',
  },
  shadow: {
    readBy: 'user',
    doc: 'The shadow entry: the CLASS of the password field (never the hash) and the ageing fields.',
    fields: [
      {name: 'class', kind: 'word', doc: 'locked, star, empty or hash; - when root can read no shadow entry (the rest is then missing)'},
      {name: 'lastChange', kind: 'int', optional: true, doc: 'last change, days since the epoch'},
      {name: 'minDays', kind: 'int', optional: true, doc: 'days before the password may change'},
      {name: 'maxDays', kind: 'int', optional: true, doc: 'days the password is valid'},
      {name: 'warnDays', kind: 'int', optional: true, doc: 'days of warning before it expires'},
      {name: 'inactiveDays', kind: 'int', optional: true, doc: 'days after expiry until the account is disabled'},
      {name: 'expireDay', kind: 'int', optional: true, doc: 'the day the account expires, days since the epoch'},
    ],
    example: 'shadow star 20000 0 99999 7 - -',
  },
  user_home_real: {
    readBy: 'user',
    doc: 'The realpath of the home (only when it could be resolved).',
    fields: [{name: 'path', kind: 'path', doc: 'the home with every link resolved'}],
    example: 'user_home_real /home/hevo',
  },
  home_shared: {
    readBy: 'user',
    doc: "Other accounts whose home is the vendor's home or lies inside it (only for an absolute home).",
    fields: [{name: 'accounts', kind: 'b64', doc: '"name:home" lines (at most 20); empty for none'}],
    example: 'home_shared -',
  },

  // ---- files: stat and lstat of paths, the authorized_keys files
  st: {
    readBy: 'files',
    doc: 'stat (following links) of a path that exists: the home, each authorized_keys file and its directories.',
    fields: [
      {name: 'uid', kind: 'count', doc: 'owner'},
      {name: 'gid', kind: 'count', doc: 'group'},
      {name: 'mode', kind: 'octal', doc: 'permission bits (%a)'},
      {name: 'rawMode', kind: 'hex', doc: 'raw mode (%f): the file type'},
      {name: 'size', kind: 'count', doc: 'size in bytes'},
      {name: 'path', kind: 'path', doc: 'the path'},
    ],
    example: 'st 1001 1001 700 41c0 4096 /home/hevo/.ssh',
  },
  lk: {
    readBy: 'files',
    doc: 'lstat (a link as itself) of the home and of each path from it down to an authorized_keys file, once per path.',
    fields: [
      {name: 'rawMode', kind: 'hex', doc: 'raw mode (%f): the file type'},
      {name: 'uid', kind: 'count', doc: 'owner'},
      {name: 'gid', kind: 'count', doc: 'group'},
      {name: 'links', kind: 'count', doc: 'hard link count'},
      {name: 'linkText', kind: 'b64', doc: "a symlink's own text (readlink); empty for other files"},
      {name: 'target', kind: 'b64', doc: 'where a symlink finally leads (readlink -f, or -m when it dangles); empty for other files'},
      {name: 'path', kind: 'path', doc: 'the path'},
    ],
    example: 'lk a1ff 0 0 1 Li4vLi4vcm9vdC8uc3No L3Jvb3QvLnNzaA== /home/hevo/.ssh',
  },
  akf_default: {
    readBy: 'files',
    doc: "No sshd -T result named AuthorizedKeysFile: sshd's default was assumed.",
    fields: [],
    example: 'akf_default',
  },
  ak: {
    readBy: 'files',
    doc: 'An authorized_keys file sshd would read for the vendor (AuthorizedKeysFile expanded); the lines about it carry its index.',
    fields: [
      {name: 'index', kind: 'count', doc: 'the index the following ak* lines refer to'},
      {name: 'link', kind: 'flag', doc: '1 when the path is a symbolic link'},
      {name: 'path', kind: 'path', doc: 'the expanded path'},
    ],
    example: 'ak 0 0 /home/hevo/.ssh/authorized_keys',
  },
  akreal: {
    readBy: 'files',
    doc: 'An authorized_keys file with every link resolved: the path sshd opens and walks up from.',
    fields: [
      {name: 'index', kind: 'count', doc: 'the file (see ak)'},
      {name: 'path', kind: 'path', doc: 'readlink -f of the path (or -m when it dangles)'},
    ],
    example: 'akreal 0 /home/hevo/.ssh/authorized_keys',
  },
  akdir: {
    readBy: 'files',
    doc: "A directory above an authorized_keys file's real path, from its parent up to / (in that order).",
    fields: [
      {name: 'index', kind: 'count', doc: 'the file (see ak)'},
      {name: 'path', kind: 'path', doc: 'the directory; its st line follows when it exists'},
    ],
    example: 'akdir 0 /home/hevo/.ssh',
  },
  akcontent: {
    readBy: 'files',
    doc: 'The content of an authorized_keys file that is a regular file (its first 1 MiB).',
    fields: [
      {name: 'index', kind: 'count', doc: 'the file (see ak)'},
      {name: 'content', kind: 'b64', doc: "the file's bytes, as text"},
    ],
    example: 'akcontent 0 c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUlqIGhldm9AcHJvZAo=',
  },
  akreadable: {
    readBy: 'files',
    doc: 'Whether the vendor can open an authorized_keys file (setpriv as the user); only where setpriv exists.',
    fields: [
      {name: 'index', kind: 'count', doc: 'the file (see ak)'},
      {name: 'readable', kind: 'flag', doc: '1 when the vendor can read it'},
    ],
    example: 'akreadable 0 1',
  },

  // ---- network
  net_count: {
    readBy: 'nobody',
    doc: 'How many databases the probe tries, one net line each. Nobody reads it: readProbeFacts takes the net lines that arrived.',
    fields: [{name: 'count', kind: 'count', doc: 'the number of net lines to expect'}],
    example: 'net_count 1',
  },
  net: {
    readBy: 'network',
    doc: 'One TCP attempt to a database (printed by a background job, so net lines come first and in any order).',
    fields: [
      {name: 'index', kind: 'count', doc: 'the database\'s position in the order asked'},
      {name: 'host', kind: 'word', doc: 'the host as asked'},
      {name: 'port', kind: 'count', doc: 'the port'},
      {name: 'how', kind: 'word', doc: 'tcp (an attempt was made), dns (the name did not resolve) or error (nothing to try with)'},
      {name: 'rc', kind: 'int', doc: "the tool's exit status (124: killed by timeout); - for error"},
      {name: 'ms', kind: 'int', doc: 'milliseconds the attempt (or lookup) took; - for error'},
      {name: 'tool', kind: 'word', doc: 'nc-<flavour>, bash (/dev/tcp) or getent; - for none'},
      {name: 'addresses', kind: 'word', doc: 'comma-separated addresses the name resolved to; - for none'},
      {name: 'output', kind: 'b64', doc: "the tool's messages (first 600 bytes), or why nothing was tried"},
    ],
    example: 'net 0 10.0.1.5 5432 tcp 0 12 nc-openbsd 10.0.1.5 Q29ubmVjdGlvbiB0byAxMC4wLjEuNSA1NDMyIHBvcnQgW3RjcC9wb3N0Z3Jlc3FsXSBzdWNjZWVkZWQh',
  },

  // ---- every remote script (lib.sh)
  error: {
    readBy: 'run',
    doc: 'The probe refused to run (lib.sh die): the last line it prints.',
    fields: [
      {name: 'code', kind: 'word', doc: 'an upper-case code (BAD_VENDOR, BAD_DB, BAD_PORT, NOT_ROOT)'},
      {name: 'message', kind: 'text', doc: 'what was wrong'},
    ],
    example: 'error BAD_VENDOR invalid vendor name: Hevo',
  },
  done: {
    readBy: 'run',
    doc: 'The probe finished: the last line of every complete run.',
    fields: [],
    example: 'done',
  },
} as const satisfies Record<string, FactSpec>

export type ProbeVocabulary = typeof PROBE_VOCABULARY
export type ProbeKey = keyof ProbeVocabulary

/** The keys one reader takes. */
export type KeyOf<R extends ReadBy> = {[K in ProbeKey]: ProbeVocabulary[K]['readBy'] extends R ? K : never}[ProbeKey]

interface KindValue {
  count: number
  int: number | undefined
  flag: boolean
  word: string
  hex: string
  octal: string
  b64: string
  text: string
  path: string
  words: string[]
}

type FieldValue<F extends FieldSpec> = F extends {optional: true} ? KindValue[F['kind']] | undefined : KindValue[F['kind']]

/** One line of `key` split into its named fields, each as its kind reads (numbers, flags, decoded base64 …). */
export type FactRecord<K extends ProbeKey> = {
  readonly [F in ProbeVocabulary[K]['fields'][number] as F['name']]: FieldValue<F>
}

/** True when `key` is one of the probe's keys. */
export function isProbeKey(key: string): key is ProbeKey {
  return Object.hasOwn(PROBE_VOCABULARY, key)
}
