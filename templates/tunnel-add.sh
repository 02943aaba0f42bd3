# bastion: add (or update) a reverse SSH tunnel, run as a systemd service. Idempotent; safe to run concurrently.
# Parameters (set above by bastion, shell-quoted): NAME SERVER SERVER_PORT PINNED_NAME (the server as known_hosts names
#   it) HOST_KEY ('<type> <base64>' to pin, or '') HOST_KEY_FP (SHA256:… the key fetched with ssh-keyscan must have,
#   or '') SSH_CONFIG UNIT BACKOFF (drop-in for systemd >= BACKOFF_MIN) WAIT (seconds to wait for the tunnel to come
#   up) and those of tunnel-lib.sh.
# Everything is checked before anything is created; a refusal changes nothing, a failure undoes what this run created.
# Never writes through a symbolic link, into a path owned by another user, or into a file with more than one hard link.

check_tunnel_name "$NAME"
require_systemd
bastion_lock tunnels
if [ -r /etc/os-release ]; then say os "$(. /etc/os-release && echo "${ID:-unknown} ${VERSION_ID:-}")"; fi

created_user=0 created_dirs= created_files= rolled_back=0
bastion_rollback() {
  [ "$rolled_back" = 0 ] || return 0
  rolled_back=1
  [ -z "$tmpfile" ] || rm -f "$tmpfile"
  tmpfile=
  for f in $created_files; do rm -f "$f" && say rolled_back file "$f"; done
  for d in $created_dirs; do rmdir "$d" 2>/dev/null && say rolled_back dir "$d"; done
  if [ "$created_user" = 1 ]; then
    userdel "$TUSER" >/dev/null 2>&1; groupdel "$TUSER" >/dev/null 2>&1
    say rolled_back user "$TUSER"
  fi
}

# --- 1. check: tools, the server's host key, the account, every path. Nothing is created before all of it passed.
[ -x /usr/bin/ssh ] || refuse NO_SSH_CLIENT "/usr/bin/ssh (the OpenSSH client the service runs) is not installed" \
  "apt-get install -y openssh-client   (RHEL, Amazon Linux: dnf install -y openssh-clients)"
command -v ssh-keygen >/dev/null 2>&1 || refuse NO_SSH_CLIENT "ssh-keygen is not installed" "apt-get install -y openssh-client   (RHEL, Amazon Linux: dnf install -y openssh-clients)"
nologin=
for s in /usr/sbin/nologin /sbin/nologin /bin/false; do if [ -x "$s" ]; then nologin=$s; break; fi; done
[ -n "$nologin" ] || die SHELL_MISSING "no nologin shell found (/usr/sbin/nologin, /sbin/nologin, /bin/false)"

# fingerprint of one known_hosts line
line_fp() { printf '%s\n' "$1" | ssh-keygen -lf - 2>/dev/null | awk '{ print $2 }'; }
if [ -n "$HOST_KEY" ]; then
  pinned="$PINNED_NAME $HOST_KEY"
  fp=$(line_fp "$pinned")
  [ -n "$fp" ] || die HOST_KEY "ssh-keygen cannot read the host key given: $HOST_KEY"
  say host_key given "$fp"
else
  command -v ssh-keyscan >/dev/null 2>&1 || refuse NO_SSH_CLIENT "ssh-keyscan is not installed (needed to fetch the server's key for --server-host-key-fingerprint)" \
    "apt-get install -y openssh-client; or give the key itself with --server-host-key"
  scan=$(ssh-keyscan -T 10 -p "$SERVER_PORT" "$SERVER" 2>/dev/null | grep -v '^#')
  [ -n "$scan" ] || refuse SERVER_UNREACHABLE "ssh-keyscan got no host key from $SERVER port $SERVER_PORT (from this host): the name does not resolve, the port is closed or filtered, or it is not an SSH server" \
    "getent ahosts $SERVER; timeout 5 bash -c 'exec 3<>/dev/tcp/$SERVER/$SERVER_PORT' && echo open"
  pinned= seen=
  while read -r _h ktype kb64 _rest; do
    [ -n "$kb64" ] || continue
    f=$(line_fp "$PINNED_NAME $ktype $kb64")
    seen="$seen $f($ktype)"
    if [ "$f" = "$HOST_KEY_FP" ]; then pinned="$PINNED_NAME $ktype $kb64"; fi
  done <<EOF
$scan
EOF
  [ -n "$pinned" ] || refuse HOST_KEY_MISMATCH "the server at $SERVER port $SERVER_PORT offered the host keys$seen, and none has the fingerprint $HOST_KEY_FP that was given: either the fingerprint is wrong, or something between this host and the server is not the vendor's server. Nothing was pinned" \
    "compare with the fingerprint the vendor publishes; ssh-keyscan -p $SERVER_PORT $SERVER | ssh-keygen -lf - shows what this host sees"
  say host_key fetched "$HOST_KEY_FP"
fi

user_exists=0
if read_passwd "$TUSER"; then
  [ "$P_GECOS" = "$TGECOS" ] || refuse NOT_OURS "user $TUSER already exists (uid $P_UID, comment \"$P_GECOS\") and bastion did not create it; bastion runs tunnels only as its own account" \
    "getent passwd $TUSER; rename or remove that account, then re-run"
  user_exists=1
  uid=$P_UID
  case $P_SHELL in */nologin|/bin/false) ;; *) say warning "the tunnel account $TUSER has the login shell $P_SHELL (bastion creates it with $nologin)" ;; esac
else
  if read_group "$TUSER"; then
    refuse GROUP_EXISTS "a group named $TUSER already exists (gid $G_GID) but no such user; bastion creates the tunnel account with a group of its own" \
      "getent group $TUSER; remove or rename that group, then re-run"
  fi
  uid=-1
fi
# The paths: each one is a real directory or file (never a link), owned by root or the tunnel account.
for d in /etc/bastion "$CONF_DIR" "${BACKOFF_PATH%/*}" "$STATE_DIR" "$STATE_DIR/.ssh" "$STATE_DIR/$NAME"; do check_path "$d" dir "$uid" || :; done
for f in "$CONF_DIR/$NAME.conf" "$CONF_DIR/$NAME.known_hosts" "$UNIT_PATH" "$BACKOFF_PATH"; do check_path "$f" file 0 || :; done
for f in "$STATE_DIR/$NAME/id_ed25519" "$STATE_DIR/$NAME/id_ed25519.pub"; do check_path "$f" file "$uid" || :; done
[ -d /etc/systemd/system ] && [ ! -L /etc/systemd/system ] || die SYSTEMD "/etc/systemd/system is missing or a link"

# --- 2. create: account, directories, key, files, unit.
if [ "$user_exists" = 0 ]; then
  out=$(useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell "$nologin" --comment "$TGECOS" "$TUSER" 2>&1) || {
    getent passwd "$TUSER" >/dev/null 2>&1 && created_user=1
    die USERADD "useradd $TUSER failed: $(printf '%s' "$out" | tr '\n' ' ')$(space_hint /etc)"
  }
  created_user=1
  say user created
else
  say user present
fi
read_passwd "$TUSER" || die USERADD "user $TUSER not found after useradd"
uid=$P_UID gid=$P_GID
say uid "$uid"

# mkdir_owned PATH MODE OWNER: create (or set owner and mode of) a directory checked by check_path above.
mkdir_owned() {
  if [ ! -d "$1" ]; then
    mkdir -m "$2" "$1" || die MKDIR "cannot create $1$(space_hint "${1%/*}/")"
    created_dirs="$1 $created_dirs"
  fi
  check_path "$1" dir "$uid" || die MKDIR "$1 vanished after it was created"
  chown -h "$3" "$1" && chmod "$2" "$1" || die MKDIR "cannot set the owner and mode of $1"
}
mkdir_owned /etc/bastion 755 0:0
mkdir_owned "$CONF_DIR" 755 0:0
# the account's home: root's, readable by the account (ssh wants ~/.ssh to exist; the account can write nothing else)
mkdir_owned "$STATE_DIR" 750 "0:$gid"
mkdir_owned "$STATE_DIR/.ssh" 700 "$uid:$gid"
mkdir_owned "$STATE_DIR/$NAME" 700 "$uid:$gid"

# write_file PATH MODE OWNER TEXT: atomically (temp file in the same directory, then rename); sets WF to
# written|unchanged. The path was checked by check_path above.
changed=0
write_file() {
  if [ -f "$1" ] && [ "$(stat -c '%a %u:%g' "$1")" = "$2 $3" ] && printf '%s' "$4" | cmp -s - "$1"; then WF=unchanged; return 0; fi
  [ -e "$1" ] || created_files="$1 $created_files"
  tmpfile=$(mktemp "${1%/*}/.${1##*/}.bastion.XXXXXX") || die WRITE "cannot create a temporary file next to $1$(space_hint "${1%/*}")"
  { printf '%s' "$4" >"$tmpfile" && chown "$3" "$tmpfile" && chmod "$2" "$tmpfile"; } || die WRITE "cannot write $tmpfile$(space_hint "${1%/*}")"
  mv -f "$tmpfile" "$1" || die WRITE "cannot rename $tmpfile to $1"
  tmpfile=
  WF=written
  changed=1
}

# the tunnel's key: reused when it exists (the vendor has its public half), else generated here and never sent anywhere
kd=$STATE_DIR/$NAME
key=$kd/id_ed25519
if [ -f "$key" ]; then
  pub=$(ssh-keygen -y -f "$key" 2>&1) || die KEY "cannot read the tunnel key $key: $pub"
  [ "$(stat -c '%a %u:%g' "$key")" = "600 $uid:$gid" ] || { chown -h "$uid:$gid" "$key" && chmod 600 "$key" && say repaired "$key"; } || die KEY "cannot secure $key"
  say key present
else
  for f in "$kd"/.id_ed25519.bastion.*; do [ -e "$f" ] && rm -f "$f" && say cleaned "$f"; done
  tk=$kd/.id_ed25519.bastion.$$
  out=$(ssh-keygen -q -t ed25519 -N '' -C "bastion-tunnel:$NAME@$(hostname)" -f "$tk" </dev/null 2>&1) || { rm -f "$tk" "$tk.pub"; die KEYGEN "ssh-keygen failed: $out"; }
  pub=$(cat "$tk.pub")
  rm -f "$tk.pub"
  chown "$uid:$gid" "$tk" && chmod 600 "$tk" && mv -f "$tk" "$key" || { rm -f "$tk"; die KEYGEN "cannot install $key"; }
  created_files="$key $created_files"
  changed=1
  say key created
fi
write_file "$key.pub" 644 "$uid:$gid" "$pub
"
say pubkey "$(printf '%s' "$pub" | b64)"
say key_fp "$(ssh-keygen -lf "$key.pub" | awk '{ print $2 }')"

write_file "$CONF_DIR/$NAME.known_hosts" 644 0:0 "$pinned
"
say known_hosts "$WF"
write_file "$CONF_DIR/$NAME.conf" 644 0:0 "$SSH_CONFIG"
say conf "$WF"

sdver=$(systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 }')
say systemd "$sdver"
unit_changed=0
write_file "$UNIT_PATH" 644 0:0 "$UNIT"
[ "$WF" = unchanged ] || unit_changed=1
say unit "$WF"
case $sdver in ''|*[!0-9]*) sdver=0 ;; esac
if [ "$sdver" -ge "$BACKOFF_MIN" ]; then
  mkdir_owned "${BACKOFF_PATH%/*}" 755 0:0
  write_file "$BACKOFF_PATH" 644 0:0 "$BACKOFF"
  [ "$WF" = unchanged ] || unit_changed=1
  say backoff "$WF"
else
  say backoff unsupported
fi
if [ "$unit_changed" = 1 ]; then systemctl daemon-reload || die SYSTEMD "systemctl daemon-reload failed"; fi

# --- 3. the service: enabled (starts at boot), (re)started when anything changed or it is not running.
u=bastion-tunnel@$NAME.service
out=$(systemctl enable "$u" 2>&1) || die ENABLE "systemctl enable $u failed: $out"
unit_props "$u"
if [ "$changed" = 1 ] || [ "$U_ActiveState" != active ]; then
  systemctl reset-failed "$u" >/dev/null 2>&1
  out=$(systemctl restart "$u" 2>&1) || die START "systemctl restart $u failed: $out (journalctl -u $u)"
  say service restarted
else
  say service unchanged
fi
# from here on the tunnel exists: a failure to connect is reported, not undone
created_files= created_dirs= created_user=0

# Wait (bounded) until ssh has logged in, or failed: the report then says which.
i=0
while [ "$i" -lt $((WAIT * 2)) ]; do
  unit_props "$u"
  case $U_SubState in auto-restart|failed|dead) break ;; esac
  if [ "$U_ActiveState" = active ] && run_log | grep -q '^Authenticated to '; then
    sleep 1
    break
  fi
  sleep 0.5 2>/dev/null || sleep 1
  i=$((i + 1))
done
tunnel_report "$NAME"
say done
