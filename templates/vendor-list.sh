# bastion: report vendor accounts and their authorized_keys, read-only.
# Parameters (set above by bastion, shell-quoted): VENDOR ('' = every account bastion manages)

report() {
  name=$1
  read_passwd "$name" || { say absent "$name"; return 0; }
  group=$(getent group "$P_GID" | cut -d: -f1)
  pw=$(shadow_field "$name" 2)
  case $pw in '!'*) locked=yes ;; '') locked=empty ;; *) locked=no ;; esac
  say account "$name" "$P_UID" "$P_GID" "${group:--}" "$locked" "$P_SHELL" "$P_HOME"
  ak=$P_HOME/.ssh/authorized_keys
  # Never read through a link: a planted link would show another account's (root's) keys as the vendor's.
  unsafe=
  for p in "$P_HOME" "$P_HOME/.ssh" "$ak"; do
    if [ -L "$p" ]; then unsafe="$p is a symbolic link to $(readlink "$p")"; break; fi
  done
  if [ -z "$unsafe" ] && [ -f "$ak" ]; then
    n=$(stat -c %h "$ak")
    [ "$n" -le 1 ] || unsafe="$ak has $n hard links (it is the same file as another path)"
  fi
  if [ -n "$unsafe" ]; then
    say keyfile_unsafe "$name" "$unsafe"
    say keyfile "$name" - - - -
  elif [ -f "$ak" ]; then
    say keyfile "$name" "$(mode_of "$ak")" "$(owner_of "$ak")" "$(group_of "$ak")" "$(base64 <"$ak" | tr -d '\n')"
  else
    say keyfile "$name" - - - -
  fi
}

if [ -n "$VENDOR" ]; then
  check_vendor_name "$VENDOR"
  report "$VENDOR"
else
  getent passwd | while IFS=: read -r name _ uid _ gecos home _; do
    managed=0
    case $gecos in "bastion vendor"*) managed=1 ;; esac
    [ ! -f "$RECORDS/$name" ] || managed=1
    if [ "$managed" = 0 ] && [ -f "$home/.ssh/authorized_keys" ] && grep -q 'bastion:vendor=' "$home/.ssh/authorized_keys" 2>/dev/null; then managed=1; fi
    [ "$managed" = 1 ] && report "$name"
  done
fi
say done
