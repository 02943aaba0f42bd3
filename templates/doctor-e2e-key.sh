# bastion doctor --e2e: add or remove the short-lived test key in the vendor's authorized_keys, changing nothing else
# (no repairs: doctor must see the host as the vendor sees it). The file keeps its owner and mode; writes are atomic.
# Parameters (set above by bastion, shell-quoted): VENDOR MODE(add|remove) FILE LINE KEY_B64

check_vendor_name "$VENDOR"
bastion_lock "$VENDOR"
[ ! -L "$FILE" ] || die SYMLINK "$FILE is a symbolic link"
[ -f "$FILE" ] || die NO_FILE "$FILE does not exist"
dir=$(dirname "$FILE")
tmpfile=$(mktemp "$dir/.authorized_keys.bastion.XXXXXX") || die WRITE "cannot create a temporary file in $dir"
KEY_B64=$KEY_B64 awk '{ l = $0; sub(/\r$/, "", l); n = split(l, f, /[ \t]+/); for (i = 1; i <= n; i++) if (f[i] == ENVIRON["KEY_B64"]) next; print }' "$FILE" >"$tmpfile" \
  || die WRITE "cannot copy $FILE"
if [ "$MODE" = add ]; then printf '%s\n' "$LINE" >>"$tmpfile" || die WRITE "cannot write $tmpfile"; fi
chown --reference="$FILE" "$tmpfile" && chmod --reference="$FILE" "$tmpfile" || die WRITE "cannot copy owner and mode of $FILE"
mv -f "$tmpfile" "$FILE" || die WRITE "cannot rename $tmpfile to $FILE"
tmpfile=
say e2e_key "$MODE"
say done
