# bastion: remove a reverse tunnel: stop and disable its service, delete its files. The key stays unless PURGE=1.
# When the last tunnel is gone, the shared unit goes too (and, with PURGE=1, the tunnel account and its home).
# Parameters (set above by bastion, shell-quoted): NAME PURGE and those of tunnel-lib.sh.

check_tunnel_name "$NAME"
require_systemd
bastion_lock tunnels
u=bastion-tunnel@$NAME.service
kd=$STATE_DIR/$NAME
unit_props "$u"
if [ ! -e "$CONF_DIR/$NAME.conf" ] && [ ! -L "$CONF_DIR/$NAME.conf" ] && [ ! -e "$kd" ] && [ ! -L "$kd" ] && [ "$U_ActiveState" != active ] &&
  [ "$U_ActiveState" != activating ] && [ "$U_UnitFileState" != enabled ]; then
  say absent "$NAME"
  say done
  exit 0
fi
# a link where a file should be is removed as a link: rm never follows it
case $U_ActiveState in active|activating|reloading|deactivating) was=running ;; *) was=stopped ;; esac
if [ -f "$UNIT_PATH" ]; then
  out=$(systemctl disable --now "$u" 2>&1) || say warning "systemctl disable --now $u: $out"
else
  # the shared unit file is gone (removed with the last configured tunnel): stop what may still run
  systemctl stop "$u" >/dev/null 2>&1
  for f in /etc/systemd/system/*.wants/"$u"; do [ -L "$f" ] && rm -f "$f" && say removed "$f"; done
fi
systemctl reset-failed "$u" >/dev/null 2>&1
say stopped "$was"
for f in "$CONF_DIR/$NAME.conf" "$CONF_DIR/$NAME.known_hosts"; do
  if [ -e "$f" ] || [ -L "$f" ]; then rm -f "$f" || die REMOVE "cannot remove $f"; say removed "$f"; fi
done
for f in "$CONF_DIR"/.$NAME.*.bastion.*; do [ -e "$f" ] && rm -f "$f"; done
if [ "$PURGE" = 1 ]; then
  if [ -L "$kd" ]; then rm -f "$kd"; say removed "$kd"
  elif [ -d "$kd" ]; then rm -rf "$kd" || die REMOVE "cannot remove $kd"; say removed "$kd"
  fi
elif [ -e "$kd/id_ed25519" ]; then
  say kept "$kd/id_ed25519"
fi
# the last tunnel: the shared unit (and with PURGE the account) goes too
left=
for f in "$CONF_DIR"/*.conf; do [ -f "$f" ] && left="$left $f"; done
if [ -z "$left" ]; then
  for f in "$BACKOFF_PATH" "$UNIT_PATH"; do
    if [ -e "$f" ] || [ -L "$f" ]; then rm -f "$f"; say removed "$f"; fi
  done
  rmdir "${BACKOFF_PATH%/*}" 2>/dev/null
  rmdir "$CONF_DIR" 2>/dev/null && say removed "$CONF_DIR"
  rmdir /etc/bastion 2>/dev/null
  keys=
  for d in "$STATE_DIR"/*; do [ -d "$d" ] && keys="$keys $d"; done
  if [ "$PURGE" = 1 ] && [ -z "$keys" ] && read_passwd "$TUSER" && [ "$P_GECOS" = "$TGECOS" ]; then
    pkill -u "$TUSER" >/dev/null 2>&1
    userdel "$TUSER" >/dev/null 2>&1 || die USERDEL "userdel $TUSER failed"
    groupdel "$TUSER" >/dev/null 2>&1
    say removed "user $TUSER"
    if [ -d "$STATE_DIR" ] && [ ! -L "$STATE_DIR" ]; then rm -rf "$STATE_DIR"; say removed "$STATE_DIR"; fi
  fi
fi
systemctl daemon-reload >/dev/null 2>&1
say done
