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

# (Fields are split with `read` and parameter expansion rather than cut: every process a script starts costs the
# host about a millisecond, and on a fleet the hosts' CPU is what bounds a run.)

# passwd fields of user $1: sets P_UID P_GID P_HOME P_SHELL; returns 1 when the user does not exist.
read_passwd() {
  entry=$(getent passwd "$1") || return 1
  IFS=: read -r _p_name _p_pw P_UID P_GID _p_gecos P_HOME P_SHELL <<EOF
$entry
EOF
  return 0
}

# The lowest UID of ordinary users (login.defs UID_MIN, the last one set; default 1000).
uid_min() {
  v=$(awk '$1 == "UID_MIN" { v = $2 } END { print v }' /etc/login.defs 2>/dev/null)
  case $v in ''|*[!0-9]*) echo 1000 ;; *) echo "$v" ;; esac
}

# True when $1 is group- or world-writable (POSIX find, no GNU -perm /mode).
loose_write() { [ -n "$(find "$1" -prune \( -perm -020 -o -perm -002 \) -print)" ]; }

# Field $2 of user $1's shadow entry (2: password hash, 8: account expiry day).
shadow_field() { getent shadow "$1" 2>/dev/null | cut -d: -f"$2"; }

# User $1's shadow entry in one lookup: sets S_PW (password hash) and S_EXPIRE (account expiry day; empty: none).
read_shadow() {
  entry=$(getent shadow "$1" 2>/dev/null)
  IFS=: read -r _s_name S_PW _s_last _s_min _s_max _s_warn _s_inactive S_EXPIRE _s_rest <<EOF
$entry
EOF
}

# stat helpers (GNU coreutils stat; both host families have it)
mode_of() { stat -c %a "$1"; }
owner_of() { stat -c %u "$1"; }
group_of() { stat -c %g "$1"; }
# Owner, group and octal mode of $1 (a symlink itself, as the helpers above) in one stat: sets ST_UID ST_GID ST_MODE.
stat_of() {
  st=$(stat -c '%u %g %a' "$1") || return 1
  ST_UID=${st%% *}; st=${st#* }; ST_GID=${st%% *}; ST_MODE=${st#* }
}
# True when the mode ST_MODE (from stat_of) is group- or world-writable.
mode_loose_write() { [ $(( 0$ST_MODE & 022 )) -ne 0 ]; }
