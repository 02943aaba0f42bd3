# bastion: remove a vendor's keys (by SHA256 digest, or every line bastion owns) and optionally the vendor's account.
# Parameters (set above by bastion, shell-quoted): VENDOR MODE(digests|all|none) DIGESTS(hex sha256 of key blobs, space-separated)
#   DELETE_USER(0|1) LOGIN_USER

check_vendor_name "$VENDOR"
bastion_lock "$VENDOR"

if ! read_passwd "$VENDOR"; then
  say user absent
else
  say user present
  [ "$P_UID" -ge "$(uid_min)" ] || die SYSTEM_ACCOUNT "user $VENDOR is a system account (uid $P_UID); bastion does not manage it"
  ak=$P_HOME/.ssh/authorized_keys
  [ ! -L "$ak" ] || die SYMLINK "$ak is a symbolic link; refusing to write through it"
  if [ "$MODE" != none ] && [ -f "$ak" ]; then
    tag="bastion:vendor=$VENDOR,"
    # One line per key line: <line number> <owned 0|1> <base64 blob>
    tmpfile=$(mktemp "$P_HOME/.ssh/.authorized_keys.bastion.XXXXXX") || die WRITE "cannot create a temporary file in $P_HOME/.ssh"
    drop=
    TAG=$tag awk '
      { l = $0; sub(/\r$/, "", l); n = split(l, f, /[ \t]+/); owned = (index(l, ENVIRON["TAG"]) > 0) ? 1 : 0
        for (i = 2; i <= n; i++) if (f[i-1] ~ /^(ssh-|ecdsa-|sk-)/ && f[i] ~ /^AAAA[A-Za-z0-9+\/]+=*$/) { print NR, owned, f[i]; break } }
    ' "$ak" >"$tmpfile" || die READ "cannot read $ak"
    while read -r nr owned b64; do
      digest=$(printf '%s' "$b64" | base64 -d 2>/dev/null | sha256sum | cut -d' ' -f1)
      hit=0
      if [ "$MODE" = all ]; then
        [ "$owned" = 1 ] && hit=1
      else
        for want in $DIGESTS; do [ "$digest" = "$want" ] && hit=1; done
      fi
      if [ "$hit" = 1 ]; then
        drop="$drop $nr"
        if [ "$owned" = 1 ]; then say removed "$digest" owned; else say removed "$digest" foreign; fi
      else
        if [ "$owned" = 1 ]; then say kept "$digest" owned; else say kept "$digest" foreign; fi
      fi
    done <"$tmpfile"
    if [ -n "$drop" ]; then
      DROP=$drop awk '
        BEGIN { n = split(ENVIRON["DROP"], d, " "); for (i = 1; i <= n; i++) skip[d[i]] = 1 }
        !(NR in skip) { print }
      ' "$ak" >"$tmpfile" || die WRITE "cannot write $tmpfile"
      chown "$P_UID:$P_GID" "$tmpfile" && chmod 600 "$tmpfile" || die WRITE "cannot set owner/mode of $tmpfile"
      sync "$tmpfile" 2>/dev/null || true
      mv -f "$tmpfile" "$ak" || die WRITE "cannot rename $tmpfile to $ak"
      tmpfile=
      say file written
    else
      rm -f "$tmpfile"; tmpfile=
      say file unchanged
    fi
  elif [ "$MODE" != none ]; then
    say file absent
  fi

  if [ "$DELETE_USER" = 1 ]; then
    [ "$VENDOR" != "$LOGIN_USER" ] || die SELF "refusing to delete $VENDOR: it is the account bastion is logged in as"
    if command -v pkill >/dev/null 2>&1 && pkill -KILL -u "$VENDOR" 2>/dev/null; then
      say sessions_killed yes
      sleep 0.2 2>/dev/null || sleep 1
    fi
    group_before=0
    getent group "$VENDOR" >/dev/null 2>&1 && group_before=1
    out=$(userdel -r "$VENDOR" 2>&1); rc=$?
    # 12: home or mail spool could not be removed (the account itself is gone); anything else non-zero is a failure.
    if [ "$rc" != 0 ] && [ "$rc" != 12 ]; then die USERDEL "userdel -r $VENDOR failed ($rc): $out"; fi
    [ "$rc" = 0 ] || say warning userdel "$out"
    say user deleted
    # userdel removes a same-named primary group itself when nobody else uses it (USERGROUPS_ENAB).
    if [ "$group_before" = 1 ] && ! getent group "$VENDOR" >/dev/null 2>&1; then say group deleted; fi
  fi
fi

if [ "$DELETE_USER" = 1 ] && entry=$(getent group "$VENDOR" 2>/dev/null); then
  members=$(printf '%s\n' "$entry" | cut -d: -f4)
  gid=$(printf '%s\n' "$entry" | cut -d: -f3)
  if [ -z "$members" ] && ! getent passwd | awk -F: -v g="$gid" '$4 == g { found = 1 } END { exit !found }'; then
    groupdel "$VENDOR" 2>&1 || die GROUPDEL "groupdel $VENDOR failed"
    say group deleted
  else
    say group kept
  fi
fi
say done
