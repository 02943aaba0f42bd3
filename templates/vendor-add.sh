# bastion: add (or update) a vendor's key on a bastion host. Idempotent; safe to run concurrently.
# Parameters (set above by bastion, shell-quoted): VENDOR SHELL_WANTED SHELL_EXPLICIT KEY_TYPE KEY_B64 LINE_PREFIX TODAY
#   MERGE_AWK (templates/merge-key.awk)

check_vendor_name "$VENDOR"
bastion_lock "$VENDOR"
if [ -r /etc/os-release ]; then say os "$(. /etc/os-release && echo "${ID:-unknown} ${VERSION_ID:-}")"; fi

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

# --- group and user
if getent group "$VENDOR" >/dev/null 2>&1; then
  say group present
else
  groupadd "$VENDOR" 2>&1 || die GROUPADD "groupadd $VENDOR failed"
  say group created
fi
if read_passwd "$VENDOR"; then
  say user present
  [ "$P_UID" -ge "$(uid_min)" ] || die SYSTEM_ACCOUNT "user $VENDOR exists and is a system account (uid $P_UID); refusing to turn it into a vendor login"
  if [ "$SHELL_EXPLICIT" = 1 ] && [ "$P_SHELL" != "$shell" ]; then
    usermod -s "$shell" "$VENDOR" 2>&1 || die USERMOD "usermod -s $shell $VENDOR failed"
    say shell_changed "$P_SHELL" "$shell"
    P_SHELL=$shell
  fi
else
  # -p '*': created usable for key login at once (useradd would leave "!"), without a second usermod run
  useradd -m -g "$VENDOR" -s "$shell" -p '*' -c "bastion vendor $VENDOR" "$VENDOR" 2>&1 || die USERADD "useradd $VENDOR failed"
  user_created=1
  say user created
  read_passwd "$VENDOR" || die USERADD "user $VENDOR not found after useradd"
fi
say uid "$P_UID"
say shell "$P_SHELL"

# --- account usable for key logins: useradd leaves "!" (locked), and with UsePAM no sshd refuses locked accounts.
# "*" means: no password can ever match, but the account is not locked. An empty field (passwordless) is closed too.
read_shadow "$VENDOR"
case $S_PW in
  '!'*|'')
    usermod -p '*' "$VENDOR" 2>&1 || die USERMOD "cannot unlock $VENDOR for key login"
    say unlocked yes
    ;;
  *) [ "${user_created:-}" != 1 ] || say unlocked yes ;;
esac
expire=$S_EXPIRE
if [ -n "$expire" ]; then
  today_days=$(( $(date +%s) / 86400 ))
  [ "$expire" -gt "$today_days" ] 2>/dev/null || say warning account_expired "$expire"
fi

# --- home, ~/.ssh, authorized_keys: owned by the vendor, modes that pass sshd's StrictModes
home=$P_HOME
case $home in /*) ;; *) die BAD_HOME "home directory of $VENDOR is not an absolute path: $home" ;; esac
if [ ! -d "$home" ]; then
  mkdir -p "$home" && chown "$P_UID:$P_GID" "$home" && chmod 750 "$home" || die HOME "cannot create $home"
  say home_created "$home"
fi
say home "$home"
stat_of "$home" || die HOME "cannot stat $home"
o=$ST_UID
if [ "$o" != "$P_UID" ] && [ "$o" != 0 ]; then
  chown "$P_UID" "$home" || die HOME "cannot chown $home"
  say repaired "$home" owner "$o" "$P_UID"
fi
if mode_loose_write; then
  m=$(mode_of "$home"); chmod go-w "$home" || die HOME "cannot chmod $home"
  say repaired "$home" mode "$m" "$(mode_of "$home")"
fi

sshdir=$home/.ssh
[ ! -L "$sshdir" ] || die SYMLINK "$sshdir is a symbolic link; refusing to write through it (remove it, then re-run)"
[ ! -e "$sshdir" ] || [ -d "$sshdir" ] || die NOT_DIR "$sshdir exists and is not a directory"
if [ ! -d "$sshdir" ]; then
  mkdir "$sshdir" || die SSH_DIR "cannot create $sshdir"
  chown "$P_UID:$P_GID" "$sshdir" && chmod 700 "$sshdir" || die SSH_DIR "cannot set owner/mode of $sshdir"
  say ssh_dir created
else
  stat_of "$sshdir" || die SSH_DIR "cannot stat $sshdir"
  o=$ST_UID:$ST_GID
  if [ "$o" != "$P_UID:$P_GID" ]; then chown "$P_UID:$P_GID" "$sshdir" || die SSH_DIR "cannot chown $sshdir"; say repaired "$sshdir" owner "$o" "$P_UID:$P_GID"; fi
  m=$ST_MODE
  if [ "$m" != 700 ]; then chmod 700 "$sshdir" || die SSH_DIR "cannot chmod $sshdir"; say repaired "$sshdir" mode "$m" 700; fi
fi

ak=$sshdir/authorized_keys
[ ! -L "$ak" ] || die SYMLINK "$ak is a symbolic link; refusing to write through it (remove it, then re-run)"
[ ! -e "$ak" ] || [ -f "$ak" ] || die NOT_FILE "$ak exists and is not a regular file"
# Temp files left by a run that was killed (we hold the lock: nobody else is writing one now).
for f in "$sshdir"/.authorized_keys.bastion.*; do
  [ -e "$f" ] || continue
  rm -f "$f" && say cleaned "$f"
done

tmpfile=$(mktemp "$sshdir/.authorized_keys.bastion.XXXXXX") || die WRITE "cannot create a temporary file in $sshdir"
if [ -f "$ak" ]; then src=$ak; else src=/dev/null; fi
# Merge: every line we do not own is kept byte for byte; the line carrying this key (whoever wrote it) becomes ours,
# in place; further lines with the same key are dropped (sshd would use the first that lets it in).
result=$(OUT=$tmpfile awk "$MERGE_AWK" "$src") || die WRITE "merging $ak failed"
status=${result% *}
dups=${result#* }
say key "$status"
[ "$dups" = 0 ] || say duplicates_removed "$dups"

if [ "$status" = present ] && [ "$dups" = 0 ] && [ -f "$ak" ]; then
  rm -f "$tmpfile"; tmpfile=
  stat_of "$ak" || die WRITE "cannot stat $ak"
  o=$ST_UID:$ST_GID
  if [ "$o" != "$P_UID:$P_GID" ]; then chown "$P_UID:$P_GID" "$ak" || die WRITE "cannot chown $ak"; say repaired "$ak" owner "$o" "$P_UID:$P_GID"; fi
  m=$ST_MODE
  if [ "$m" != 600 ]; then chmod 600 "$ak" || die WRITE "cannot chmod $ak"; say repaired "$ak" mode "$m" 600; fi
  say file unchanged
else
  if [ -f "$ak" ]; then
    stat_of "$ak" || die WRITE "cannot stat $ak"
    o=$ST_UID:$ST_GID; m=$ST_MODE
    [ "$o" = "$P_UID:$P_GID" ] || say repaired "$ak" owner "$o" "$P_UID:$P_GID"
    [ "$m" = 600 ] || say repaired "$ak" mode "$m" 600
  fi
  chown "$P_UID:$P_GID" "$tmpfile" && chmod 600 "$tmpfile" || die WRITE "cannot set owner/mode of $tmpfile"
  sync "$tmpfile" 2>/dev/null || true
  mv -f "$tmpfile" "$ak" || die WRITE "cannot rename $tmpfile to $ak"
  tmpfile=
  say file written
fi
if command -v restorecon >/dev/null 2>&1; then restorecon -R "$sshdir" 2>/dev/null || true; fi
say done
