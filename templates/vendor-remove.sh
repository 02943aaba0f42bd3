# bastion: remove a vendor's keys (by SHA256 digest, or every line bastion owns) and optionally the vendor's account.
# Parameters (set above by bastion, shell-quoted): VENDOR MODE(digests|all|none) DIGESTS(hex sha256 of key blobs, space-separated)
#   DELETE_USER(0|1) LOGIN_USER
# Only accounts bastion created or adopted (a record under /var/lib/bastion/vendors, or the mark of a release that
# kept none) are touched; --delete-user deletes only an account and a group bastion created. Every check comes first:
# a refusal changes nothing.

check_vendor_name "$VENDOR"
bastion_lock "$VENDOR"
uidmin=$(uid_min)
gidmin=$(gid_min)

owned=none
if read_passwd "$VENDOR"; then
  user_exists=1
  [ "$P_UID" -ge "$uidmin" ] || refuse SYSTEM_ACCOUNT "user $VENDOR is a system account (uid $P_UID); bastion does not manage it" \
    "check the vendor name (bastion list-vendor-keys shows the vendors bastion manages)"
  if record_read "$VENDOR" && [ "$R_UID" = "$P_UID" ]; then
    owned=$R_USER
    group_ours=0
    [ "$R_GROUP" = created ] && [ "$R_GID" = "$P_GID" ] && group_ours=1
  elif [ "$P_GECOS" = "bastion vendor $VENDOR" ]; then
    # Made by a bastion release that kept no records: its group is the vendor's own only if named so and not a system group.
    owned=created
    group_ours=0
    if read_group "$P_GID" && [ "$G_NAME" = "$VENDOR" ] && [ "$G_GID" -ge "$gidmin" ]; then group_ours=1; fi
  else
    refuse NOT_OURS "user $VENDOR (uid $P_UID, shell $P_SHELL, home $P_HOME) was not created or adopted by bastion; bastion changes no account it does not manage" \
      "check the vendor name (bastion list-vendor-keys shows the vendors bastion manages); edit that account's keys by hand if you must"
  fi
  if [ "$DELETE_USER" = 1 ]; then
    [ "$owned" = created ] || refuse NOT_CREATED "user $VENDOR was adopted by bastion, not created by it; --delete-user deletes only accounts bastion created" \
      "remove bastion's keys with --all (the account stays); delete the account by hand if that is really meant"
    [ "$VENDOR" != "$LOGIN_USER" ] || die SELF "refusing to delete $VENDOR: it is the account bastion is logged in as"
    # userdel deletes a primary group named like the user along with it: only when that group is bastion's.
    if [ "$group_ours" != 1 ] && read_group "$P_GID" && [ "$G_NAME" = "$VENDOR" ]; then
      refuse GROUP_NOT_OURS "the primary group of $VENDOR is $G_NAME (gid $G_GID), which bastion did not create; userdel would delete it with the account" \
        "move $VENDOR to a group of its own first (groupadd $VENDOR-g && usermod -g $VENDOR-g $VENDOR), then re-run"
    fi
  fi
  home=$P_HOME
  while [ "${home%/}" != "$home" ] && [ "$home" != / ]; do home=${home%/}; done
  [ "$home" != / ] || refuse BAD_HOME "the home directory of $VENDOR is /" "usermod -d /home/$VENDOR -m $VENDOR"
  ak=$home/.ssh/authorized_keys
  ak_exists=0
  if check_path "$home" dir "$P_UID" && check_path "$home/.ssh" dir "$P_UID" && check_path "$ak" file "$P_UID"; then ak_exists=1; fi
else
  user_exists=0
fi

# --- checks done: from here on, changes
if [ "$user_exists" = 0 ]; then
  say user absent
else
  say user present
  if [ "$MODE" != none ] && [ "$ak_exists" = 1 ]; then
    tag="bastion:vendor=$VENDOR,"
    # One line per key line: <line number> <owned 0|1> <base64 blob>
    tmpfile=$(mktemp "$home/.ssh/.authorized_keys.bastion.XXXXXX") || die WRITE "cannot create a temporary file in $home/.ssh$(space_hint "$home/.ssh")"
    drop=
    TAG=$tag awk '
      { l = $0; sub(/\r$/, "", l); n = split(l, f, /[ \t]+/); owned = (index(l, ENVIRON["TAG"]) > 0) ? 1 : 0
        for (i = 2; i <= n; i++) if (f[i-1] ~ /^(ssh-|ecdsa-|sk-)/ && f[i] ~ /^AAAA[A-Za-z0-9+\/]+=*$/) { print NR, owned, f[i]; break } }
    ' "$ak" >"$tmpfile" || die READ "cannot read $ak$(space_hint "$home/.ssh")"
    while read -r nr lineowned b64; do
      digest=$(printf '%s' "$b64" | base64 -d 2>/dev/null | sha256sum | cut -d' ' -f1)
      hit=0
      if [ "$MODE" = all ]; then
        [ "$lineowned" = 1 ] && hit=1
      else
        for want in $DIGESTS; do [ "$digest" = "$want" ] && hit=1; done
      fi
      if [ "$hit" = 1 ]; then
        drop="$drop $nr"
        if [ "$lineowned" = 1 ]; then say removed "$digest" owned; else say removed "$digest" foreign; fi
      else
        if [ "$lineowned" = 1 ]; then say kept "$digest" owned; else say kept "$digest" foreign; fi
      fi
    done <"$tmpfile"
    if [ -n "$drop" ]; then
      DROP=$drop awk '
        BEGIN { n = split(ENVIRON["DROP"], d, " "); for (i = 1; i <= n; i++) skip[d[i]] = 1 }
        !(NR in skip) { print }
      ' "$ak" >"$tmpfile" || die WRITE "cannot write $tmpfile$(space_hint "$home/.ssh")"
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
    if command -v pkill >/dev/null 2>&1 && pkill -KILL -u "$VENDOR" 2>/dev/null; then
      say sessions_killed yes
      sleep 0.2 2>/dev/null || sleep 1
    fi
    group_gid=$P_GID
    group_before=0
    getent group "$group_gid" >/dev/null 2>&1 && group_before=1
    out=$(userdel -r "$VENDOR" 2>&1); rc=$?
    # 12: home or mail spool could not be removed (the account itself is gone); anything else non-zero is a failure.
    if [ "$rc" != 0 ] && [ "$rc" != 12 ]; then die USERDEL "userdel -r $VENDOR failed ($rc): $out"; fi
    [ "$rc" = 0 ] || say warning userdel "$out"
    say user deleted
    # userdel removes a same-named primary group itself when nobody else uses it (USERGROUPS_ENAB).
    if [ "$group_before" = 1 ] && ! getent group "$group_gid" >/dev/null 2>&1; then say group deleted; fi
  fi
fi

if [ "$DELETE_USER" = 1 ]; then
  # The vendor's group: deleted only when bastion created it, it is still the same group, and nobody uses it.
  if read_group "$VENDOR"; then
    if [ "$user_exists" = 1 ]; then ours=$group_ours
    elif record_read "$VENDOR" && [ "$R_GROUP" = created ] && [ "$R_GID" = "$G_GID" ]; then ours=1
    else ours=0
    fi
    if [ "$ours" != 1 ] || [ "$G_GID" -lt "$gidmin" ]; then
      say group kept_not_ours
    elif [ -z "$G_MEMBERS" ] && ! getent passwd | awk -F: -v g="$G_GID" '$4 == g { found = 1 } END { exit !found }'; then
      groupdel "$VENDOR" 2>&1 || die GROUPDEL "groupdel $VENDOR failed"
      say group deleted
    else
      say group kept
    fi
  fi
  record_remove "$VENDOR"
fi
say done
