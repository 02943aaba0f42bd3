# bastion: shared functions of the reverse-tunnel scripts (tunnel-add.sh, tunnel-remove.sh, tunnel-status.sh).
# Parameters every tunnel script gets: TUSER (the tunnel system user), TGECOS, STATE_DIR, CONF_DIR, UNIT_PATH,
# BACKOFF_PATH.

b64() { _b=$(base64 | tr -d '\n'); printf '%s' "${_b:--}"; }

check_tunnel_name() {
  case $1 in
    ''|-*|[!a-z]*|*[!a-z0-9-]*|*-) die BAD_NAME "invalid tunnel name: $1" ;;
  esac
}

# Tunnels are systemd services: a host booted without systemd (a container, SysV init, OpenRC) cannot run them.
require_systemd() {
  if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
    init=$(ps -o comm= -p 1 2>/dev/null || cat /proc/1/comm 2>/dev/null)
    refuse NO_SYSTEMD "this host does not run systemd (PID 1 is ${init:-unknown}); bastion runs each tunnel as a systemd service, which restarts it and keeps its log" \
      "run the tunnel on a host booted with systemd (any current Debian, Ubuntu, RHEL, Amazon Linux); ls /run/systemd/system shows whether one is"
  fi
}

# Unit properties of $1 (a unit name) as shell variables U_<Key>; timestamps as @<unix seconds> where systemd can.
unit_props() {
  U_LoadState= U_ActiveState= U_SubState= U_Result= U_NRestarts= U_ExecMainPID= U_UnitFileState= U_ActiveEnterTimestamp= U_InvocationID= U_StateChangeTimestamp=
  _props=LoadState,ActiveState,SubState,Result,NRestarts,ExecMainPID,UnitFileState,ActiveEnterTimestamp,InvocationID,StateChangeTimestamp
  _out=$(systemctl show --timestamp=unix -p "$_props" "$1" 2>/dev/null) || _out=$(systemctl show -p "$_props" "$1" 2>/dev/null)
  while IFS='=' read -r _k _v; do
    case $_k in
      LoadState|ActiveState|SubState|Result|NRestarts|ExecMainPID|UnitFileState|ActiveEnterTimestamp|InvocationID|StateChangeTimestamp) eval "U_$_k=\$_v" ;;
    esac
  done <<EOF
$_out
EOF
}

# The journal lines of the unit's current (or last) run, oldest first.
run_log() {
  if [ -n "$U_InvocationID" ]; then
    journalctl --no-pager -o cat "_SYSTEMD_INVOCATION_ID=$U_InvocationID" 2>/dev/null | tail -n 60
  fi
}

# Everything status, list and doctor say about tunnel $1, as @bastion t_* lines (read by src/tunnel/service.ts).
tunnel_report() {
  t=$1
  u=bastion-tunnel@$t.service
  say t_tunnel "$t"
  for f in "$CONF_DIR/$t.conf:conf" "$CONF_DIR/$t.known_hosts:known_hosts" "$STATE_DIR/$t/id_ed25519.pub:pubkey"; do
    p=${f%:*}; k=${f##*:}
    if [ -L "$p" ]; then say t_file "$t" "$k" link; elif [ -f "$p" ]; then say t_file "$t" "$k" "$(head -c 65536 "$p" | b64)"; else say t_file "$t" "$k" -; fi
  done
  kp=$STATE_DIR/$t/id_ed25519
  if [ -L "$kp" ]; then say t_key "$t" link - -
  elif [ -f "$kp" ]; then say t_key "$t" "$(stat -c '%a %U %h' "$kp")"
  else say t_key "$t" - - -
  fi
  unit_props "$u"
  say t_unit "$t" "${U_LoadState:--}" "${U_ActiveState:--}" "${U_SubState:--}" "${U_Result:--}" "${U_NRestarts:--}" "${U_ExecMainPID:--}" "${U_UnitFileState:--}"
  say t_since "$t" "${U_ActiveEnterTimestamp:--}"
  say t_changed "$t" "${U_StateChangeTimestamp:--}"
  say t_now "$t" "$(date +%s)"
  say t_runlog "$t" "$(run_log | b64)"
  say t_journal "$t" "$(journalctl --no-pager -o short-iso -n "${LOG_LINES:-15}" -u "$u" 2>/dev/null | b64)"
  # The connection of the running ssh to the vendor's server (ss shows the owning pid to root).
  if command -v ss >/dev/null 2>&1; then
    say t_tool "$t" ss 1
    if [ "${U_ExecMainPID:-0}" != 0 ]; then
      ss -Htnp state established 2>/dev/null | grep "pid=$U_ExecMainPID," | while read -r _rq _sq local peer _rest; do
        say t_conn "$t" "$local" "$peer"
      done
    fi
  else
    say t_tool "$t" ss 0
  fi
}

# Every tunnel on this host: a config file, or a unit instance (loaded, or enabled) left without one.
tunnel_names() {
  {
    for f in "$CONF_DIR"/*.conf; do [ -f "$f" ] && { n=${f##*/}; echo "${n%.conf}"; }; done
    systemctl list-units --all --plain --no-legend 'bastion-tunnel@*.service' 2>/dev/null | awk '{print $1}' | sed -n 's/^bastion-tunnel@\(.*\)\.service$/\1/p'
    for f in /etc/systemd/system/*.wants/bastion-tunnel@*.service; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      n=${f##*/bastion-tunnel@}; echo "${n%.service}"
    done
  } | sort -u
}

# tcp_try WHAT HOST PORT: can this host open a TCP connection there? One t_net line (read with classifyTcp).
tcp_try() {
  _w=$1 _h=$2 _p=$3 _to=${NET_TIMEOUT:-3}
  _addrs=$(timeout "$_to" getent ahosts "$_h" 2>/dev/null | awk '$2 == "STREAM" && !s[$1]++ { printf "%s%s", sep, $1; sep = "," }')
  if [ -z "$_addrs" ]; then say t_net "$_w" "$_h" "$_p" dns - - - -; return; fi
  if command -v nc >/dev/null 2>&1; then
    _tool=nc
    _out=$(timeout $((_to + 2)) nc -z -v -w "$_to" "$_h" "$_p" </dev/null 2>&1)
    _rc=$?
  elif command -v bash >/dev/null 2>&1; then
    _tool=bash
    _out=$(timeout "$_to" bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash "$_h" "$_p" </dev/null 2>&1)
    _rc=$?
  else
    say t_net "$_w" "$_h" "$_p" error - - "$_addrs" -
    return
  fi
  say t_net "$_w" "$_h" "$_p" tcp "$_rc" "$_tool" "$_addrs" "$(printf '%s' "$_out" | head -c 400 | b64)"
}

# The value of an ssh_config keyword in a tunnel's config file (the first one wins, as in ssh).
conf_value() {
  awk -v k="$2" 'tolower($1) == tolower(k) { $1 = ""; sub(/^ +/, ""); print; exit }' "$1" 2>/dev/null
}
