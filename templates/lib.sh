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
# A script that creates things defines bastion_rollback to undo what this run created; it runs on every failure and
# on INT/TERM/HUP (the SSH connection dropped), so a refusal or an interrupted run leaves nothing behind.
bastion_rollback() { :; }
bastion_cleanup() {
  [ -z "$tmpfile" ] || rm -f "$tmpfile"
  [ -z "$lockdir" ] || rm -rf "$lockdir"
}
trap bastion_cleanup EXIT
# PIPE: bastion went away (killed, connection lost) and a `say` hit the closed pipe. Without it the shell dies on the
# spot and leaves a half-made account (a group without its user); output goes nowhere first, so the rollback's own
# `say` lines cannot raise it again.
trap 'exec >/dev/null 2>&1; bastion_rollback; bastion_cleanup; exit 130' INT TERM HUP PIPE
die() { code=$1; shift; say "error $code $*"; bastion_rollback; exit 3; }
# refuse CODE MESSAGE FIX: a failure whose fix is a command on this host (shown to the operator as the first suggestion).
refuse() { say "fix $3"; die "$1" "$2"; }

[ "$(id -u)" = 0 ] || die NOT_ROOT "the script must run as root (sudo -n sh -s)"

# Linux user-name rule, checked again on the host so nothing unchecked reaches useradd.
check_vendor_name() {
  case $1 in
    ''|-*|[0-9]*|*[!a-z0-9_-]*) die BAD_VENDOR "invalid vendor name: $1" ;;
  esac
}

# --- accounts bastion owns: one record per vendor account it created (or was told to adopt), under /var/lib/bastion.
# A record holds the uid and gid it was made for, so an account deleted and re-created by someone else is not ours.
RECORDS=/var/lib/bastion/vendors
# The record directories this run made (newest first), for a rollback to remove again.
records_made=
records_dir() {
  for d in /var/lib/bastion "$RECORDS"; do
    [ ! -L "$d" ] || die STATE "$d is a symbolic link to $(readlink "$d"); bastion keeps its records only in a real directory (remove the link)"
    if [ ! -d "$d" ]; then mkdir -m 700 "$d" || die STATE "cannot create $d$(space_hint /var/lib)"; records_made="$d $records_made"; fi
    chown 0:0 "$d" && chmod 700 "$d" || die STATE "cannot secure $d"
  done
}
# record_read VENDOR: sets R_UID R_GID R_USER (created|adopted) R_GROUP (created|none); returns 1 when there is none.
record_read() {
  R_UID= R_GID= R_USER= R_GROUP=
  f=$RECORDS/$1
  [ -f "$f" ] && [ ! -L "$f" ] || return 1
  while IFS='=' read -r k v; do
    case $k in uid) R_UID=$v ;; gid) R_GID=$v ;; user) R_USER=$v ;; group) R_GROUP=$v ;; esac
  done <"$f"
  [ -n "$R_UID" ] && [ -n "$R_USER" ]
}
# record_write VENDOR UID GID USER GROUP DATE (written whole or not at all)
record_write() {
  records_dir
  t=$RECORDS/.$1.tmp
  printf 'vendor=%s\nuid=%s\ngid=%s\nuser=%s\ngroup=%s\nsince=%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >"$t" &&
    mv -f "$t" "$RECORDS/$1" || { rm -f "$t"; die STATE "cannot write $RECORDS/$1$(space_hint /var/lib)"; }
}
record_remove() { rm -f "$RECORDS/$1"; }
# Undo record_write of this run: the record, and the directories made for it.
record_undo() {
  record_remove "$1"
  for d in $records_made; do rmdir "$d" 2>/dev/null; done
}

# The lowest GID of ordinary groups (login.defs GID_MIN; default 1000): below it, system groups (shadow, disk …).
gid_min() {
  v=$(awk '$1 == "GID_MIN" { v = $2 } END { print v }' /etc/login.defs 2>/dev/null)
  case $v in ''|*[!0-9]*) echo 1000 ;; *) echo "$v" ;; esac
}

# Group entry of $1 (name or gid): sets G_NAME G_GID G_MEMBERS; returns 1 when there is none.
read_group() {
  entry=$(getent group "$1") || return 1
  IFS=: read -r G_NAME _g_pw G_GID G_MEMBERS <<EOF
$entry
EOF
  return 0
}

# Who owns uid $1, for messages.
user_label() { n=$(getent passwd "$1" | cut -d: -f1); echo "${n:-uid $1} (uid $1)"; }

# space_hint PATH: ": no space left on <mount> …" when the file system holding PATH is (nearly) full, else nothing.
space_hint() {
  line=$(df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4, $6 }')
  avail=${line%% *}; mnt=${line#* }
  case $avail in ''|*[!0-9]*) return 0 ;; esac
  if [ "$avail" -lt 64 ]; then
    printf ': no space left on %s (%s KiB free); free some space there (df -h %s), then re-run' "$mnt" "$avail" "$mnt"
    return 0
  fi
  # File systems without an inode count (btrfs) print 0 inodes in all: only a real count of 0 free means full.
  ino=$(df -Pi "$1" 2>/dev/null | awk 'NR == 2 { print $2, $4 }')
  [ "${ino%% *}" != 0 ] && [ "${ino#* }" = 0 ] || return 0
  printf ': no space left on %s (no free inodes); remove files there (df -i %s), then re-run' "$mnt" "$mnt"
}

# check_path PATH dir|file UID: refuse a path bastion is about to write in or through unless it is what it should be:
# not a symbolic link, of the expected type, owned by the vendor (UID) or root, and (a file) with one link only.
# Returns 1 when PATH does not exist. Sets what stat_of sets.
check_path() {
  if [ -L "$1" ]; then
    refuse SYMLINK "$1 is a symbolic link to $(readlink "$1"); bastion never writes through a link, which could hand another account's or the system's files to the vendor" \
      "ls -la '$1'; remove the link (rm '$1') and re-run"
  fi
  [ -e "$1" ] || return 1
  stat_of "$1" || die STAT "cannot stat $1"
  if [ "$2" = dir ] && [ "$ST_TYPE" != directory ]; then
    refuse NOT_DIR "$1 exists and is a $ST_TYPE, not a directory" "ls -la '$1'; move it aside (mv '$1' '$1.moved') and re-run"
  fi
  if [ "$2" = file ] && [ "$ST_TYPE" != 'regular file' ] && [ "$ST_TYPE" != 'regular empty file' ]; then
    refuse NOT_FILE "$1 exists and is a $ST_TYPE, not a regular file" "ls -la '$1'; move it aside (mv '$1' '$1.moved') and re-run"
  fi
  if [ "$ST_UID" != 0 ] && [ "$ST_UID" != "$3" ]; then
    refuse NOT_OWNED "$1 is owned by $(user_label "$ST_UID"), neither the vendor nor root; bastion will not take over another user's files" \
      "ls -la '$1'; find out whose it is, then move it aside or pick another vendor name"
  fi
  if [ "$2" = file ] && [ "$ST_NLINK" -gt 1 ]; then
    refuse HARDLINK "$1 has $ST_NLINK hard links: it is the same file as another path on this host, which bastion would copy from or hand to the vendor" \
      "find / -xdev -samefile '$1' 2>/dev/null; remove this link (rm '$1') and re-run"
  fi
  return 0
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

# passwd fields of user $1: sets P_UID P_GID P_GECOS P_HOME P_SHELL; returns 1 when the user does not exist.
read_passwd() {
  entry=$(getent passwd "$1") || return 1
  IFS=: read -r _p_name _p_pw P_UID P_GID P_GECOS P_HOME P_SHELL <<EOF
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
# What one stat of $1 (a symlink itself, as the helpers above) says: sets ST_UID ST_GID ST_MODE (octal), ST_NLINK (hard
# links) and ST_TYPE (stat's %F: "directory", "regular file", "symbolic link" …).
stat_of() {
  st=$(stat -c '%u %g %a %h %F' "$1") || return 1
  ST_UID=${st%% *}; st=${st#* }; ST_GID=${st%% *}; st=${st#* }; ST_MODE=${st%% *}; st=${st#* }; ST_NLINK=${st%% *}; ST_TYPE=${st#* }
}
# True when the mode ST_MODE (from stat_of) is group- or world-writable.
mode_loose_write() { [ $(( 0$ST_MODE & 022 )) -ne 0 ]; }
