# bastion: add (or update) a vendor's key on a bastion host. Idempotent; safe to run concurrently.
# Parameters (set above by bastion, shell-quoted): VENDOR SHELL_WANTED SHELL_EXPLICIT KEY_TYPE KEY_B64 LINE_PREFIX TODAY
#   ADOPT (1: take over an existing non-system account not created by bastion) MERGE_AWK (templates/merge-key.awk)
# Everything is checked before anything is created; a failure undoes what this run created (bastion_rollback).
# Rules: bastion uses, changes and later deletes only accounts and groups it created (or was told to adopt: a record
# under /var/lib/bastion/vendors); it never writes through a symbolic link, into a path owned by another user, or into
# a file with more than one hard link.

check_vendor_name "$VENDOR"
bastion_lock "$VENDOR"
if [ -r /etc/os-release ]; then say os "$(. /etc/os-release && echo "${ID:-unknown} ${VERSION_ID:-}")"; fi

created_group=0 created_user=0 created_home=0 created_ssh=0 wrote_record=0 rolled_back=0
sshdir=
bastion_rollback() {
  [ "$rolled_back" = 0 ] || return 0
  rolled_back=1
  [ -z "$tmpfile" ] || rm -f "$tmpfile"
  tmpfile=
  if [ "$created_user" = 1 ]; then
    userdel -r "$VENDOR" >/dev/null 2>&1 || userdel "$VENDOR" >/dev/null 2>&1
    say rolled_back user "$VENDOR"
  else
    [ "$created_ssh" = 0 ] || { rmdir "$sshdir" 2>/dev/null && say rolled_back ssh_dir "$sshdir"; }
    [ "$created_home" = 0 ] || { rmdir "$home" 2>/dev/null && say rolled_back home "$home"; }
  fi
  if [ "$created_group" = 1 ] && getent group "$VENDOR" >/dev/null 2>&1; then
    groupdel "$VENDOR" >/dev/null 2>&1 && say rolled_back group "$VENDOR"
  fi
  [ "$wrote_record" = 0 ] || record_undo "$VENDOR"
}

# --- login shell: nologin unless asked otherwise
if [ "$SHELL_EXPLICIT" = 1 ]; then
  [ -x "$SHELL_WANTED" ] || die SHELL_MISSING "shell $SHELL_WANTED does not exist on this host"
  shell=$SHELL_WANTED
else
  shell=
  for s in "$SHELL_WANTED" /usr/sbin/nologin /sbin/nologin /bin/false; do
    if [ -x "$s" ]; then shell=$s; break; fi
  done
  [ -n "$shell" ] || die SHELL_MISSING "no nologin shell found (/usr/sbin/nologin, /sbin/nologin, /bin/false)"
fi

uidmin=$(uid_min)
gidmin=$(gid_min)
# Describe what is at a path, for messages: "a symbolic link to X" / "a directory owned by alice (uid 1001)".
what_is() {
  if [ -L "$1" ]; then echo "a symbolic link to $(readlink "$1")"; return; fi
  set -- "$1" "$(stat -c '%F %u' "$1" 2>/dev/null)"
  echo "a ${2% *} owned by $(user_label "${2##* }")"
}

# --- 1. check: is the account (and its group) one bastion may use?
if read_passwd "$VENDOR"; then
  say user present
  [ "$P_UID" -ge "$uidmin" ] || refuse SYSTEM_ACCOUNT "user $VENDOR exists and is a system account (uid $P_UID); refusing to turn it into a vendor login" \
    "pick another vendor name, e.g. --vendor $VENDOR-vendor"
  if record_read "$VENDOR" && [ "$R_UID" = "$P_UID" ]; then
    owned=$R_USER
  elif [ "$P_GECOS" = "bastion vendor $VENDOR" ]; then
    # Made by a bastion release that kept no records: record it now (its group only when it is the vendor's own).
    g=none
    if read_group "$P_GID" && [ "$G_NAME" = "$VENDOR" ] && [ "$G_GID" -ge "$gidmin" ]; then g=created; fi
    record_write "$VENDOR" "$P_UID" "$P_GID" created "$g" "$TODAY"
    wrote_record=1
    owned=created
    say recorded created
  elif [ "$ADOPT" = 1 ]; then
    record_write "$VENDOR" "$P_UID" "$P_GID" adopted none "$TODAY"
    wrote_record=1
    owned=adopted
    say adopted "$P_SHELL"
  else
    refuse NOT_OURS "user $VENDOR already exists (uid $P_UID, shell $P_SHELL, home $P_HOME) and bastion did not create it; adding a vendor key would hand that account to the vendor" \
      "pick another vendor name; or, if this account really is the vendor's, re-run with --adopt (its shell stays, but bastion's keys never run a command)"
  fi
  if read_group "$P_GID" && [ "$G_GID" -lt "$gidmin" ]; then
    refuse SYSTEM_GROUP "the primary group of $VENDOR is the system group $G_NAME (gid $G_GID): the vendor's sessions would get that group's rights" \
      "give $VENDOR a group of its own (groupadd $VENDOR-g && usermod -g $VENDOR-g $VENDOR), then re-run"
  fi
  say group present
  if [ "$SHELL_EXPLICIT" = 1 ] && [ "$P_SHELL" != "$shell" ]; then
    usermod -s "$shell" "$VENDOR" 2>&1 || die USERMOD "usermod -s $shell $VENDOR failed"
    say shell_changed "$P_SHELL" "$shell"
    P_SHELL=$shell
  fi
else
  group_ours=0
  if read_group "$VENDOR"; then
    if record_read "$VENDOR" && [ "$R_GROUP" = created ] && [ "$R_GID" = "$G_GID" ]; then
      group_ours=1
    else
      refuse GROUP_EXISTS "a group named $VENDOR already exists (gid $G_GID${G_MEMBERS:+, members $G_MEMBERS}) and bastion did not create it; as the vendor's primary group it would give the vendor that group's rights" \
        "pick another vendor name, e.g. --vendor $VENDOR-vendor (getent group $VENDOR shows the group)"
    fi
  fi
  base=$(useradd -D 2>/dev/null | sed -n 's/^HOME=//p')
  case $base in /*) ;; *) base=/home ;; esac
  home=${base%/}/$VENDOR
  if [ -e "$home" ] || [ -L "$home" ]; then
    refuse HOME_EXISTS "$home already exists ($(what_is "$home")) but there is no user $VENDOR; bastion gives a vendor only a home it creates itself" \
      "ls -la '$home'; move it aside (mv '$home' '$home.old') or pick another vendor name"
  fi
  [ -d "$base" ] && [ ! -L "$base" ] || refuse HOME_BASE "the home base directory $base is missing or a symbolic link" "ls -ld '$base'"
  hint=$(space_hint "$base")
  [ -z "$hint" ] || refuse NO_SPACE "cannot create the vendor's home in $base$hint" "df -h '$base'; df -i '$base'"

  # --- 2. create: group, user, home (useradd -m), then the record that says they are bastion's
  if [ "$group_ours" = 0 ]; then
    out=$(groupadd "$VENDOR" 2>&1) || { getent group "$VENDOR" >/dev/null 2>&1 && created_group=1; die GROUPADD "groupadd $VENDOR failed: $out$(space_hint /etc)"; }
    created_group=1
    say group created
  else
    say group present
  fi
  # -p '*': created usable for key login at once (useradd would leave "!"), without a second usermod run
  out=$(useradd -m -d "$home" -g "$VENDOR" -s "$shell" -p '*' -c "bastion vendor $VENDOR" "$VENDOR" 2>&1) || {
    getent passwd "$VENDOR" >/dev/null 2>&1 && created_user=1
    die USERADD "useradd $VENDOR failed: $(printf '%s' "$out" | tr '\n' ' ')$(space_hint "$base")"
  }
  created_user=1
  say user created
  read_passwd "$VENDOR" || die USERADD "user $VENDOR not found after useradd"
  read_group "$P_GID" || die USERADD "the group of $VENDOR is missing after useradd"
  record_write "$VENDOR" "$P_UID" "$P_GID" created created "$TODAY"
  wrote_record=1
fi
say uid "$P_UID"
say ownership "${owned:-created}"
say shell "$P_SHELL"

# --- account usable for key logins: useradd leaves "!" (locked), and with UsePAM no sshd refuses locked accounts.
# "*" means: no password can ever match, but the account is not locked. An empty field (passwordless) is closed too.
read_shadow "$VENDOR"
case $S_PW in
  '!'*|'')
    if [ "${owned:-created}" = adopted ] && [ "$S_PW" != '' ] && [ "$S_PW" != '!' ] && [ "$S_PW" != '!!' ] && [ "$S_PW" != '!*' ]; then
      : # an adopted account locked by its admin (a password behind "!") stays as it is
    else
      usermod -p '*' "$VENDOR" 2>&1 || die USERMOD "cannot unlock $VENDOR for key login"
      say unlocked yes
    fi
    ;;
  *) [ "$created_user" != 1 ] || say unlocked yes ;;
esac
expire=$S_EXPIRE
if [ -n "$expire" ]; then
  today_days=$(( $(date +%s) / 86400 ))
  [ "$expire" -gt "$today_days" ] 2>/dev/null || say warning account_expired "$expire"
fi

# --- home, ~/.ssh, authorized_keys: each checked (no link, right type, owned by the vendor or root, one hard link),
# then owned by the vendor with modes that pass sshd's StrictModes. Nothing here follows a link (chown -h).
home=$P_HOME
while [ "${home%/}" != "$home" ] && [ "$home" != / ]; do home=${home%/}; done
case $home in /*) ;; *) die BAD_HOME "home directory of $VENDOR is not an absolute path: $home" ;; esac
[ "$home" != / ] || refuse BAD_HOME "the home directory of $VENDOR is /; bastion will not put a vendor's keys there" "usermod -d /home/$VENDOR -m $VENDOR"
if ! check_path "$home" dir "$P_UID"; then
  mkdir "$home" || die HOME "cannot create $home$(space_hint "${home%/*}/")"
  created_home=1
  chown -h "$P_UID:$P_GID" "$home" && chmod 750 "$home" || die HOME "cannot set owner/mode of $home"
  say home_created "$home"
  check_path "$home" dir "$P_UID" || die HOME "$home vanished after it was created"
fi
say home "$home"
if mode_loose_write; then
  m=$ST_MODE; chmod go-w "$home" || die HOME "cannot chmod $home"
  say repaired "$home" mode "$m" "$(mode_of "$home")"
fi

sshdir=$home/.ssh
if check_path "$sshdir" dir "$P_UID"; then
  o=$ST_UID:$ST_GID
  if [ "$o" != "$P_UID:$P_GID" ]; then chown -h "$P_UID:$P_GID" "$sshdir" || die SSH_DIR "cannot chown $sshdir"; say repaired "$sshdir" owner "$o" "$P_UID:$P_GID"; fi
  m=$ST_MODE
  if [ "$m" != 700 ]; then chmod 700 "$sshdir" || die SSH_DIR "cannot chmod $sshdir"; say repaired "$sshdir" mode "$m" 700; fi
else
  mkdir -m 700 "$sshdir" || die SSH_DIR "cannot create $sshdir$(space_hint "$home")"
  created_ssh=1
  chown -h "$P_UID:$P_GID" "$sshdir" || die SSH_DIR "cannot set the owner of $sshdir"
  check_path "$sshdir" dir "$P_UID" || die SSH_DIR "$sshdir vanished after it was created"
  say ssh_dir created
fi

ak=$sshdir/authorized_keys
ak_exists=0
if check_path "$ak" file "$P_UID"; then ak_exists=1; ak_owner=$ST_UID:$ST_GID; ak_mode=$ST_MODE; fi
# Temp files left by a run that was killed (we hold the lock: nobody else is writing one now).
for f in "$sshdir"/.authorized_keys.bastion.*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  rm -f "$f" && say cleaned "$f"
done

tmpfile=$(mktemp "$sshdir/.authorized_keys.bastion.XXXXXX") || die WRITE "cannot create a temporary file in $sshdir$(space_hint "$sshdir")"
if [ "$ak_exists" = 1 ]; then src=$ak; else src=/dev/null; fi
# Merge: every line we do not own is kept byte for byte; the line carrying this key (whoever wrote it) becomes ours,
# in place; further lines with the same key are dropped (sshd would use the first that lets it in).
result=$(OUT=$tmpfile awk "$MERGE_AWK" "$src") || die WRITE "merging the key into $ak failed$(space_hint "$sshdir")"
status=${result% *}
dups=${result#* }
say key "$status"
[ "$dups" = 0 ] || say duplicates_removed "$dups"

if [ "$status" = present ] && [ "$dups" = 0 ] && [ "$ak_exists" = 1 ]; then
  rm -f "$tmpfile"; tmpfile=
  if [ "$ak_owner" != "$P_UID:$P_GID" ]; then chown -h "$P_UID:$P_GID" "$ak" || die WRITE "cannot chown $ak"; say repaired "$ak" owner "$ak_owner" "$P_UID:$P_GID"; fi
  if [ "$ak_mode" != 600 ]; then chmod 600 "$ak" || die WRITE "cannot chmod $ak"; say repaired "$ak" mode "$ak_mode" 600; fi
  say file unchanged
else
  if [ "$ak_exists" = 1 ]; then
    [ "$ak_owner" = "$P_UID:$P_GID" ] || say repaired "$ak" owner "$ak_owner" "$P_UID:$P_GID"
    [ "$ak_mode" = 600 ] || say repaired "$ak" mode "$ak_mode" 600
  fi
  chown "$P_UID:$P_GID" "$tmpfile" && chmod 600 "$tmpfile" || die WRITE "cannot set owner/mode of $tmpfile"
  sync "$tmpfile" 2>/dev/null || true
  mv -f "$tmpfile" "$ak" || die WRITE "cannot rename $tmpfile to $ak$(space_hint "$sshdir")"
  tmpfile=
  say file written
fi
if command -v restorecon >/dev/null 2>&1; then restorecon -R "$sshdir" 2>/dev/null || true; fi
say done
