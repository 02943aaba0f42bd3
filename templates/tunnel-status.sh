# bastion: report reverse tunnels, read-only (tunnel status, tunnel list, doctor --tunnel).
# Parameters (set above by bastion, shell-quoted): NAME ('' = every tunnel on the host) PROBE (1: also try TCP to the
# tunnel's database and its server from this host) NET_TIMEOUT LOG_LINES

require_systemd
if [ -n "$NAME" ]; then
  check_tunnel_name "$NAME"
  names=$NAME
else
  names=$(tunnel_names)
fi
say systemd "$(systemctl --version 2>/dev/null | awk 'NR == 1 { print $2 }')"
for n in $names; do
  case $n in ''|-*|[!a-z]*|*[!a-z0-9-]*) continue ;; esac
  tunnel_report "$n"
  if [ "$PROBE" = 1 ] && [ -f "$CONF_DIR/$n.conf" ] && [ ! -L "$CONF_DIR/$n.conf" ]; then
    c=$CONF_DIR/$n.conf
    db=$(sed -n 's/^# bastion:db=//p' "$c" | head -n 1)
    dbh=${db%:*} dbp=${db##*:}
    dbh=${dbh#[}; dbh=${dbh%]}
    sh_=$(conf_value "$c" HostName) sp_=$(conf_value "$c" Port)
    [ -z "$db" ] || tcp_try db "$dbh" "$dbp" &
    [ -z "$sh_" ] || tcp_try server "$sh_" "${sp_:-22}" &
    wait
  fi
done
say done
