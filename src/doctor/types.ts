/**
 * doctor's model: facts are gathered once (host facts by one probe script over SSH; cloud facts by a provider),
 * then checks — pure functions of the facts — judge them into findings.
 */
import type {PublicKey} from '../access/keys.js'
import type {HostPort} from '../input/parse.js'

export type Status = 'pass' | 'warn' | 'fail' | 'skip'
export type Area = 'sshd' | 'user' | 'files' | 'keys' | 'network' | 'e2e' | 'cloud' | 'tunnel'

export interface Fix {
  /** The exact command a person runs on the host (or locally, for cloud fixes) to fix it. */
  command: string
  /**
   * For fixes `--fix` may apply by itself (modes, owners, unlocking, adding the expected key): a POSIX sh snippet run as
   * root on the host. Values in it must be quoted with quoteShell. Absent: the fix needs a person's judgement.
   */
  script?: string
}

export interface Finding {
  /** Stable id, e.g. `files.authorized_keys.mode`. Documented in docs/checks.md. */
  id: string
  area: Area
  status: Status
  /** One line: what was checked. */
  title: string
  /** What was seen (the evidence). */
  seen: string
  /** Why it matters for the vendor's tunnel (empty for pass). */
  why?: string
  /** How to fix it (fail/warn only). */
  fix?: Fix
}

/** What the operator asked doctor to check. */
export interface DoctorInput {
  vendor: string
  /** The bastion as the operator named it (--host), for fix commands that run bastion again. */
  host?: string
  /** The vendor's key, when given (--key-file): checked for presence by fingerprint and for strength/algorithms. */
  key?: PublicKey
  /** Databases the tunnel must reach (--db). */
  dbs: HostPort[]
  /** The vendor's source CIDRs (--vendor-ip), for from= and Match Address checks. */
  vendorIps: string[]
  /** The sshd port the vendor connects to. */
  sshPort: number
}

/** A check: a pure function from facts to one or more findings. Host checks take HostFacts; cloud checks their own. */
export interface Check<F = HostFacts> {
  /** The ids of the findings this check can produce (for docs and tests). */
  ids: string[]
  area: Area
  run(ctx: CheckContext<F>): Finding[]
}

export interface CheckContext<F = HostFacts> {
  input: DoctorInput
  facts: F
  /** The host's clock (facts) or the local one: for expiry judgements. */
  now: Date
}

// ----------------------------------------------------------------------------------------------------- host facts

export interface StatFact {
  /** The path as checked. */
  path: string
  exists: boolean
  /** Target of a symlink (readlink -f), when the path is one. */
  symlinkTo?: string
  type?: 'file' | 'dir' | 'symlink' | 'other'
  uid?: number
  gid?: number
  /** Octal permission bits as stat -c %a prints them, e.g. "700", "2775". */
  mode?: string
  /** Size in bytes. For a symlink, uid/gid/mode/size describe its target (what sshd opens and judges). */
  size?: number
  /** For type 'symlink': the type of what it points to; absent when the link dangles. */
  targetType?: 'file' | 'dir' | 'symlink' | 'other'
}

/** One path as lstat sees it: a symlink is reported as itself, never followed. */
export interface LinkFact {
  path: string
  type: 'file' | 'dir' | 'symlink' | 'other'
  uid: number
  gid: number
  /** Hard link count (stat %h): more than 1 for a regular file means the same file has other names elsewhere. */
  links: number
  /** For a symlink: its own text (readlink). */
  linkText?: string
  /** For a symlink: where it finally leads (readlink -f, or -m when it dangles). */
  target?: string
}

export interface TcpProbe {
  /** host:port as asked. */
  target: string
  host: string
  port: number
  /** Addresses the name resolved to on the bastion (getent ahosts), empty when it did not resolve. */
  addresses: string[]
  result: 'open' | 'refused' | 'timeout' | 'noroute' | 'dns' | 'error'
  /** Milliseconds the attempt took (connect or failure). */
  ms?: number
  /** Tool output behind the result, for the report. */
  detail?: string
  /** Which tool made the attempt: nc, bash (/dev/tcp) … */
  tool?: string
}

export interface SshdEffective {
  /** The connection spec given to sshd -T -C (user=…,addr=…,host=…,laddr=…,lport=…). */
  spec: string
  /** Lower-case keyword → values (one entry per line sshd -T printed for it, e.g. several permitopen or allowusers). */
  settings: Record<string, string[]>
  /** sshd -T's error output when it failed. */
  error?: string
  /** The vendor CIDR this run stands for (absent for the placeholder). */
  cidr?: string
  /** The address given as addr= (an address inside cidr, or the placeholder). */
  address?: string
  /** No vendor address was given: addr= is the documentation address 192.0.2.1. */
  placeholder?: boolean
}

export interface HostFacts {
  /** Bump when the probe's output changes shape. */
  probeVersion: number
  /** The bastion's clock, for expiry checks. */
  now: Date
  os: {id: string; versionId: string; prettyName: string}
  hostname: string
  sshd: {
    /** Path of the sshd binary, or null when none was found. */
    binary: string | null
    /** e.g. "OpenSSH_9.2p1 Debian-2+deb12u3" (from sshd -V, or ssh -V as fallback). */
    version: string | null
    /** Numeric OpenSSH version, e.g. 9.2, when it could be read. */
    versionNumber: number | null
    running: boolean
    pids: number[]
    /** TCP listening sockets of sshd (or of anything on the expected port when the owner cannot be read). */
    listening: {address: string; port: number; process?: string}[]
    /** sshd -t: the configuration is valid. */
    configOk: boolean
    configError?: string
    /** sshd -T -C … once per vendor address asked (or a placeholder address when none was given). */
    effective: SshdEffective[]
    /** ssh -V of the host's client, e.g. "OpenSSH_9.2p1 Debian-2+deb12u3". */
    clientVersion?: string
    /** Plain `sshd -T` (no Match applied); only present when every sshd -T -C run failed. */
    globalSettings?: Record<string, string[]>
  }
  user: {
    name: string
    exists: boolean
    uid?: number
    gid?: number
    /** Name of the primary group. */
    group?: string
    /** All groups (primary and supplementary), by name. */
    groups: string[]
    home?: string
    shell?: string
    /** Whether the shell is an executable regular file (sshd refuses users whose shell is not executable). */
    shellExecutable?: boolean
    /** Password field class: '!…' locked, '*' no password, '' empty, 'hash' a password hash. */
    password?: 'locked' | 'star' | 'empty' | 'hash'
    /** shadow: last change (days since epoch; 0 = must change at next login), max days, account expiry day. */
    lastChange?: number
    maxDays?: number
    expireDay?: number
    /** Whether the shell is listed in /etc/shells (only pam_shells cares; sshd does not). */
    shellListed?: boolean
    /** shadow: min days between changes, warn days, days after password expiry until the account is disabled. */
    minDays?: number
    warnDays?: number
    inactiveDays?: number
    /** false when the user has no shadow entry root can read (NIS/LDAP/sssd accounts): password fields unknown. */
    shadowReadable?: boolean
    /** The home directory (stat following links). */
    homeStat?: StatFact
    /** realpath of the home directory as the passwd entry names it (sshd's StrictModes walk stops there). */
    homeReal?: string
    /**
     * Other accounts whose home directory is the vendor's home or lies inside it (from the passwd database); absent
     * when the probe did not look.
     */
    homeShared?: {name: string; home: string}[]
  }
  /**
   * The files sshd would read for the user (AuthorizedKeysFile expanded with %h %u %%), each with the StrictModes chain:
   * the file, then every directory from its parent up to / (OpenSSH walks up to the home directory).
   */
  authorizedKeys: {
    /** The expanded path. */
    path: string
    stat: StatFact
    /** Directories from the file's parent up to '/'. */
    chain: StatFact[]
    /** Content, when the file exists and is readable by root. */
    content?: string
    /** The path with every symlink resolved (readlink -f); the chain walks this path, as OpenSSH does. */
    realPath?: string
    /** Whether the vendor user can open the file (tested with setpriv as the user); absent when not tested. */
    readableByUser?: boolean
    /** The file is larger than 1 MiB: content holds its first 1 MiB only. */
    truncated?: boolean
  }[]
  /**
   * lstat of the home as the passwd entry names it and of every path from it down to each authorized_keys file under
   * it, in that order; paths that do not exist are left out. Absent when the probe did not gather them.
   */
  homePaths?: LinkFact[]
  network: TcpProbe[]
  tools: {nc: boolean; ncFlavor?: string; bash: boolean; timeout: boolean; getent: boolean; ss: boolean; setpriv?: boolean}
  /** Remarks of the probe about itself (e.g. a test switch that was on). */
  notes?: string[]
  /** sshd's AuthorizedKeysFile could not be read (no sshd -T result): the default was assumed. */
  authorizedKeysFileDefaulted?: boolean
}
