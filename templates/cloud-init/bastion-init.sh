# bastion: first-boot set-up of a bastion host. cloud-init runs this user-data once per instance, as root, late in
# the boot (the "scripts-user" module); it is safe to run again by hand.
# Parameters (set above by bastion): BASTION_NAME STATE_DIR VENDOR
#   $STATE_DIR/10-bastion.conf   the sshd drop-in (templates/cloud-init/10-bastion.conf)
#   $STATE_DIR/vendor-add.sh     with a vendor key: the same script `bastion add-vendor-key` runs over SSH
# Every line it prints starts with "bastion-init: " and reaches the serial console, where `bastion create` reads it
# back (GetConsoleOutput). The vendor script's facts are passed through as "bastion-init: @bastion <fact>".

PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
LC_ALL=C
export LC_ALL
umask 022

log() { printf 'bastion-init: %s\n' "$*"; }
status=0
log "start ${BASTION_NAME}"

SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
SSHD_CONFIG=/etc/ssh/sshd_config
DROPIN_DIR=/etc/ssh/sshd_config.d
DROPIN=$DROPIN_DIR/10-bastion.conf

# --- 1. the sshd drop-in, only if sshd accepts the result (a broken sshd_config would lock everyone out)
install_dropin() {
  mkdir -p "$DROPIN_DIR" && chmod 755 "$DROPIN_DIR" || return 1
  config_backup=
  if ! grep -Eiq '^[[:space:]]*Include[[:space:]]+(/etc/ssh/)?sshd_config\.d/\*\.conf([[:space:]]|$)' "$SSHD_CONFIG"; then
    # Old or custom images: without the Include the drop-in would be ignored. At the top, so it wins.
    config_backup=$STATE_DIR/sshd_config.orig
    cp -p "$SSHD_CONFIG" "$config_backup" || return 1
    { printf '# added by bastion: read the drop-ins first (the first value sshd reads for a keyword wins)\n'
      printf 'Include /etc/ssh/sshd_config.d/*.conf\n'
      cat "$config_backup"; } > "$SSHD_CONFIG.bastion-tmp" && mv -f "$SSHD_CONFIG.bastion-tmp" "$SSHD_CONFIG" || return 1
    log "sshd_config did not include sshd_config.d: Include added at the top"
  fi
  dropin_backup=
  if [ -f "$DROPIN" ]; then dropin_backup=$STATE_DIR/10-bastion.conf.prev; cp -p "$DROPIN" "$dropin_backup"; fi
  cp "$STATE_DIR/10-bastion.conf" "$DROPIN.bastion-tmp" && chown 0:0 "$DROPIN.bastion-tmp" && chmod 644 "$DROPIN.bastion-tmp" &&
    mv -f "$DROPIN.bastion-tmp" "$DROPIN" || return 1
  if check=$("$SSHD" -t 2>&1); then
    log "sshd drop-in installed: $DROPIN"
    return 0
  fi
  # sshd refuses the result: put everything back as it was.
  if [ -n "$dropin_backup" ]; then mv -f "$dropin_backup" "$DROPIN"; else rm -f "$DROPIN"; fi
  if [ -n "$config_backup" ]; then cp -p "$config_backup" "$SSHD_CONFIG"; fi
  log "ERROR sshd -t rejected the configuration; drop-in removed: $(printf '%s' "$check" | tr '\n' ' ')"
  return 1
}

# What the drop-in asks for, as `sshd -T` prints it (kept equal to SSHD_SETTINGS in src/cloud/user-data.ts).
WANT='pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication no
permitemptypasswords no
permitrootlogin no
allowtcpforwarding local
allowstreamlocalforwarding no
allowagentforwarding no
x11forwarding no
gatewayports no
permittunnel no
permituserenvironment no
maxstartups 50:30:100
logingracetime 30
clientaliveinterval 30
clientalivecountmax 4'

# The keywords whose effective value (sshd -T) differs from WANT, on one line; fails when sshd -T fails.
mismatched() {
  eff=$("$SSHD" -T 2>/dev/null) || return 1
  printf '%s\n' "$WANT" | while read -r kw val; do
    printf '%s\n' "$eff" | grep -qix "$kw $val" || printf '%s ' "$kw"
  done
  echo
}

# sshd_config itself can override the drop-in: a line above the Include (the first value wins), or a keyword for which
# the last value wins (MaxStartups). Comment such lines out of its global part (before the first Match), keep a copy,
# and put everything back if sshd then rejects the configuration.
override_main_config() {
  backup=$STATE_DIR/sshd_config.before-override
  cp -p "$SSHD_CONFIG" "$backup" || return 1
  awk -v kws=" $1 " '
    /^[[:space:]]*[Mm][Aa][Tt][Cc][Hh][[:space:]]/ { inmatch = 1 }
    {
      if (!inmatch) {
        line = $0
        sub(/^[[:space:]]+/, "", line)
        n = split(line, w, /[[:space:]=]+/)
        k = tolower(w[1])
        if (n > 0 && k != "" && substr(k, 1, 1) != "#" && index(kws, " " k " ") > 0) {
          print "# bastion: overridden by sshd_config.d/10-bastion.conf: " $0
          next
        }
      }
      print
    }' "$backup" > "$SSHD_CONFIG.bastion-tmp" && mv -f "$SSHD_CONFIG.bastion-tmp" "$SSHD_CONFIG" || return 1
  if check=$("$SSHD" -t 2>&1); then
    log "sshd_config overrode the drop-in for: $1; those lines are commented out (copy: $backup)"
    return 0
  fi
  cp -p "$backup" "$SSHD_CONFIG"
  log "ERROR sshd -t rejected sshd_config with $1 commented out; left as it was: $(printf '%s' "$check" | tr '\n' ' ')"
  return 1
}

check_effective() {
  if ! bad=$(mismatched); then
    log "WARNING sshd -T failed; effective settings not checked"
    return 0
  fi
  if [ -n "$bad" ]; then
    override_main_config "$bad" || status=1
    bad=$(mismatched) || bad=
  fi
  eff=$("$SSHD" -T 2>/dev/null)
  for kw in $bad; do
    have=$(printf '%s\n' "$eff" | grep -i "^$kw " | head -n 1)
    want=$(printf '%s\n' "$WANT" | grep -i "^$kw ")
    log "WARNING effective sshd setting is '${have:-unset}', wanted '$want' (another sshd_config.d file sets it)"
  done
}

# Running sshd re-reads its configuration; one that is not running yet reads it when it starts.
reload_sshd() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    for unit in ssh.service sshd.service; do
      if systemctl is-active --quiet "$unit" 2>/dev/null; then
        systemctl reload "$unit" && { log "sshd reloaded ($unit)"; return 0; }
      fi
    done
    log "sshd not running yet: it reads the drop-in when it starts"
    return 0
  fi
  pidfile=$("$SSHD" -T 2>/dev/null | awk '$1 == "pidfile" { print $2; exit }')
  pidfile=${pidfile:-/run/sshd.pid}
  pid=
  [ -s "$pidfile" ] && pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -HUP "$pid" 2>/dev/null; then
    log "sshd reloaded (SIGHUP to pid $pid)"
  else
    log "sshd not running: it reads the drop-in when it starts"
  fi
}

if install_dropin; then
  check_effective
  reload_sshd
else
  status=1
fi

# --- 2. the vendor's user and key: the script add-vendor-key runs over SSH, here run locally
if [ -n "$VENDOR" ]; then
  out=$(sh "$STATE_DIR/vendor-add.sh" </dev/null 2>&1)
  rc=$?
  printf '%s\n' "$out" | sed 's/^/bastion-init: /'
  if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^@bastion done'; then
    log "vendor $VENDOR ready"
  else
    log "ERROR vendor $VENDOR set-up failed (exit $rc); run it again with: sudo sh $STATE_DIR/vendor-add.sh"
    status=1
  fi
fi

if [ "$status" -eq 0 ]; then log "done ${BASTION_NAME}"; else log "failed ${BASTION_NAME}"; fi
exit "$status"
