# bastion: shared shell functions, prepended to every remote script.
# POSIX sh and the tools every Debian/Ubuntu and Amazon Linux/RHEL host has (coreutils, shadow-utils, awk).
# Output protocol, one fact per line on stdout:  @bastion <key> <value…>
# A failure prints  @bastion error <CODE> <message>  and exits non-zero; success ends with  @bastion done

umask 077
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL

say() { printf '@bastion %s\n' "$*"; }

tmpfile=
lockdir=
bastion_cleanup() {
  [ -z "$tmpfile" ] || rm -f "$tmpfile"
  [ -z "$lockdir" ] || rm -rf "$lockdir"
}
trap bastion_cleanup EXIT
trap 'bastion_cleanup; exit 130' INT TERM HUP
die() { code=$1; shift; say "error $code $*"; exit 3; }

[ "$(id -u)" = 0 ] || die NOT_ROOT "the script must run as root (sudo -n sh -s)"

# Linux user-name rule, checked again on the host so nothing unchecked reaches useradd.
check_vendor_name() {
  case $1 in
    ''|-*|[0-9]*|*[!a-z0-9_-]*) die BAD_VENDOR "invalid vendor name: $1" ;;
  esac
}

# Per-vendor lock, held until the script exits. flock is released by the kernel even when we are killed;
# without flock (rare), fall back to an atomic mkdir lock with stale-owner detection.
bastion_lock() {
  if [ -d /run ]; then lockbase=/run/bastion; else lockbase=/var/lib/bastion; fi
  mkdir -p "$lockbase" && chmod 700 "$lockbase" || die LOCK "cannot create $lockbase"
  lockfile=$lockbase/vendor-$1.lock
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lockfile" || die LOCK "cannot open $lockfile"
    flock -w 120 9 || die LOCK "another bastion run holds $lockfile for more than 120 s"
  else
    tries=0
    until mkdir "$lockfile.d" 2>/dev/null; do
      owner=$(cat "$lockfile.d/pid" 2>/dev/null)
      if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then rm -rf "$lockfile.d"; continue; fi
      tries=$((tries + 1))
      [ "$tries" -lt 1200 ] || die LOCK "another bastion run holds $lockfile.d for more than 120 s"
      sleep 0.1 2>/dev/null || sleep 1
    done
    lockdir=$lockfile.d
    echo $$ >"$lockdir/pid"
  fi
}

# passwd fields of user $1: sets P_UID P_GID P_HOME P_SHELL; returns 1 when the user does not exist.
read_passwd() {
  entry=$(getent passwd "$1") || return 1
  P_UID=$(printf '%s\n' "$entry" | cut -d: -f3)
  P_GID=$(printf '%s\n' "$entry" | cut -d: -f4)
  P_HOME=$(printf '%s\n' "$entry" | cut -d: -f6)
  P_SHELL=$(printf '%s\n' "$entry" | cut -d: -f7)
  return 0
}

# The lowest UID of ordinary users (login.defs UID_MIN, default 1000).
uid_min() {
  v=$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null | tail -n 1)
  case $v in ''|*[!0-9]*) echo 1000 ;; *) echo "$v" ;; esac
}

# True when $1 is group- or world-writable (POSIX find, no GNU -perm /mode).
loose_write() { [ -n "$(find "$1" -prune \( -perm -020 -o -perm -002 \) -print)" ]; }

# Field $2 of user $1's shadow entry (2: password hash, 8: account expiry day).
shadow_field() { getent shadow "$1" 2>/dev/null | cut -d: -f"$2"; }

# stat helpers (GNU coreutils stat; both host families have it)
mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %u "$1"; }
group_of() { stat -c %g "$1"; }
