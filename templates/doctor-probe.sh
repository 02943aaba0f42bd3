# bastion doctor: gather every fact the checks judge, in one round trip. READ-ONLY: it writes no file, starts and stops
# nothing, changes no setting (sshd -t / -T only read the configuration). Read by readProbeFacts (src/doctor/probe/).
# Parameters (set above by bastion, shell-quoted):
#   VENDOR       the vendor user name
#   MATCH_ADDRS  space-separated "cidr,address" pairs: sshd -T -C runs once per pair (cidr '-' = placeholder address)
#   DBS          space-separated "host,port" pairs: the databases to try a TCP connection to, from this host
#   SSH_PORT     the port the vendor connects to (lport= for sshd -T, and which listening sockets to report)
#   NET_TIMEOUT  seconds per TCP attempt (and per name lookup)
#   PROBE_NO_NC  1 = behave as if nc were not installed (tests prove the bash /dev/tcp fallback with it)
# Output: @bastion lines. Values that may hold anything are base64 (one line, '-' when empty); a path is the last field.
# Every key and its fields are declared in src/doctor/probe/vocabulary.ts: a line printed here is declared there
# (test/doctor/probe-vocabulary.test.ts reads this script and fails otherwise).
# Network attempts run as background jobs that print one short line each (a single write, so lines never mix);
# everything else is collected first and printed after the jobs finished.

PROBE_VERSION=1
check_vendor_name "$VENDOR"
case $SSH_PORT in ''|*[!0-9]*) die BAD_PORT "invalid sshd port: $SSH_PORT" ;; esac
case $NET_TIMEOUT in ''|*[!0-9]*|0) NET_TIMEOUT=3 ;; esac
set -f   # no globbing of values anywhere below
NL='
'

have() { command -v "$1" >/dev/null 2>&1; }
# stdin -> base64 on one line, '-' when empty
b64() { _b=$(base64 | tr -d '\n'); printf '%s' "${_b:--}"; }
b64s() { printf '%s' "$1" | b64; }
# milliseconds since the epoch (seconds * 1000 where date has no %N)
now_ms() {
  _t=$(date +%s%N 2>/dev/null)
  case $_t in ''|*[!0-9]*) _t=$(($(date +%s) * 1000)) ;; *) _t=${_t%??????} ;; esac
  echo "$_t"
}

# ---- tools -------------------------------------------------------------------------------------------------------
NC_FLAVOR=-
if [ "$PROBE_NO_NC" != 1 ] && have nc; then
  _h=$(nc -h </dev/null 2>&1 | head -n 5)
  case $_h in
    *OpenBSD*) NC_FLAVOR=openbsd ;;
    *Ncat*|*nmap*) NC_FLAVOR=ncat ;;
    *BusyBox*) NC_FLAVOR=busybox ;;
    *'[v1.'*) NC_FLAVOR=traditional ;;
    *) NC_FLAVOR=unknown ;;
  esac
fi
flag() { if have "$1"; then echo 1; else echo 0; fi; }
HAVE_BASH=$(flag bash)
HAVE_TIMEOUT=$(flag timeout)
HAVE_GETENT=$(flag getent)

# ---- network: one background job per database ----------------------------------------------------------------------
# Prints one net line: how it went (tcp, dns, error), the tool's exit status (124: killed by timeout), time, tool,
# addresses and the tool's words. src/doctor/probe/network.ts tells open/refused/timeout/noroute apart.
limit() { if [ "$HAVE_TIMEOUT" = 1 ]; then timeout "$@"; else shift; "$@"; fi; }
net_probe() {
  n_i=$1 n_h=$2 n_p=$3
  n_addrs=-
  if [ "$HAVE_GETENT" = 1 ]; then
    n_t0=$(now_ms)
    n_out=$(limit "$NET_TIMEOUT" getent ahosts "$n_h" </dev/null 2>&1)
    n_rc=$?
    if [ "$n_rc" != 0 ]; then
      case $n_rc in
        2) n_why='name not found' ;;
        124) n_why="no answer within ${NET_TIMEOUT}s" ;;
        *) n_why="exit status $n_rc" ;;
      esac
      say net "$n_i" "$n_h" "$n_p" dns "$n_rc" $(($(now_ms) - n_t0)) getent - "$(b64s "getent ahosts $n_h: $n_why${n_out:+: $n_out}")"
      return
    fi
    n_addrs=$(printf '%s\n' "$n_out" | awk '$2 == "STREAM" && !seen[$1]++ { printf "%s%s", sep, $1; sep = "," }' | cut -c 1-400)
    [ -n "$n_addrs" ] || n_addrs=-
  fi
  n_t0=$(now_ms)
  n_tool=-
  n_out=
  n_rc=
  case $NC_FLAVOR in
    -|busybox|unknown) ;;
    *)
      n_tool=nc-$NC_FLAVOR
      n_dst=$n_h n_opt=-v
      # traditional netcat looks every address up backwards (a slow resolver would eat the timeout): give it the address
      if [ "$NC_FLAVOR" = traditional ] && [ "$n_addrs" != - ]; then n_dst=${n_addrs%%,*} n_opt=-vn; fi
      n_out=$(limit $((NET_TIMEOUT + 2)) nc -z "$n_opt" -w "$NET_TIMEOUT" "$n_dst" "$n_p" </dev/null 2>&1)
      n_rc=$?
      case $n_out in
        *[Ii]nvalid\ option*|*[Uu]nrecognized\ option*|*[Ii]llegal\ option*)
          if [ "$NC_FLAVOR" = ncat ]; then   # ncat before -z existed: connect, send nothing, quit
            n_out=$(limit $((NET_TIMEOUT + 2)) nc -v -w "$NET_TIMEOUT" --send-only "$n_h" "$n_p" </dev/null 2>&1)
            n_rc=$?
          else
            n_tool=- n_rc=
          fi ;;
      esac ;;
  esac
  if [ -z "$n_rc" ]; then
    if [ "$HAVE_BASH" = 1 ] && [ "$HAVE_TIMEOUT" = 1 ]; then
      n_tool=bash
      n_t0=$(now_ms)
      n_out=$(timeout "$NET_TIMEOUT" bash -c 'exec 3<>"/dev/tcp/$1/$2"' bash "$n_h" "$n_p" </dev/null 2>&1)
      n_rc=$?
    else
      n_why='no usable nc (netcat) here'
      [ "$HAVE_BASH" = 1 ] || n_why="$n_why, and no bash for /dev/tcp"
      [ "$HAVE_TIMEOUT" = 1 ] || n_why="$n_why, and no timeout(1) to bound an attempt"
      say net "$n_i" "$n_h" "$n_p" error - - - "$n_addrs" "$(b64s "$n_why")"
      return
    fi
  fi
  n_ms=$(($(now_ms) - n_t0))
  [ "$n_rc" != 124 ] || [ -n "$n_out" ] || n_out="timeout: no answer within ${NET_TIMEOUT}s"
  say net "$n_i" "$n_h" "$n_p" tcp "$n_rc" "$n_ms" "$n_tool" "$n_addrs" "$(printf '%s' "$n_out" | head -c 600 | b64)"
}

NET_COUNT=0
for item in $DBS; do
  h=${item%,*} p=${item##*,}
  case $h in ''|-*|*[!A-Za-z0-9.:_-]*) die BAD_DB "invalid database host: $h" ;; esac
  case $p in ''|*[!0-9]*) die BAD_DB "invalid database port: $p" ;; esac
  net_probe "$NET_COUNT" "$h" "$p" &
  NET_COUNT=$((NET_COUNT + 1))
done

# ---- everything else, collected while the network jobs run --------------------------------------------------------

# stat (following links) of each path that exists: one st line each
stat_paths() { [ $# = 0 ] || stat -L -c '@bastion st %u %g %a %f %s %n' -- "$@" 2>/dev/null; }

# lstat (a symlink as itself) of a path that exists, once per path: one lk line (type, owner, link count; for a
# symlink its text and where it finally leads)
LK_DONE=$NL
lstat_path() {
  case $LK_DONE in *"$NL$1$NL"*) return 0 ;; esac
  LK_DONE="$LK_DONE$1$NL"
  _l=$(stat -c '%f %u %g %h' -- "$1" 2>/dev/null) || return 0
  _txt=- _to=-
  if [ -L "$1" ]; then
    _txt=$(b64s "$(readlink -- "$1" 2>/dev/null)")
    _r=$(readlink -f -- "$1" 2>/dev/null) || _r=$(readlink -m -- "$1" 2>/dev/null) || _r=
    _to=$(b64s "$_r")
  fi
  say lk "$_l" "$_txt" "$_to" "$1"
}

sshd_facts() {
  SSHD=$(command -v sshd 2>/dev/null)
  [ -n "$SSHD" ] || { [ -x /usr/sbin/sshd ] && SSHD=/usr/sbin/sshd; }
  say sshd_binary "${SSHD:--}"
  if [ -n "$SSHD" ]; then
    # sshd -V (OpenSSH >= 9.2 / Debian backports) prints the version; older ones print it in their usage text.
    say sshd_version "$("$SSHD" -V </dev/null 2>&1 | awk '/OpenSSH/ { print; exit }')"
  fi
  have ssh && say ssh_version "$(ssh -V </dev/null 2>&1 | awk '/OpenSSH/ { print; exit }')"

  # the listening sshd: sshd processes whose parent is not an sshd (per-connection sshd processes are its children)
  if have pgrep; then
    all=$(pgrep -x sshd 2>/dev/null)
  else
    all=
    for d in /proc/[0-9]*; do
      read -r c 2>/dev/null <"$d/comm" && [ "$c" = sshd ] && all="$all${NL}${d#/proc/}"
    done
  fi
  set +f
  SSHD_PIDS=
  inodes=
  for p in $all; do
    read -r line 2>/dev/null <"/proc/$p/stat" || continue
    ppid=${line#*) }; ppid=${ppid#* }; ppid=${ppid%% *}
    case "$NL$all$NL" in *"$NL$ppid$NL"*) continue ;; esac
    SSHD_PIDS="$SSHD_PIDS $p"
    say sshd_pid "$p"
    for fd in /proc/"$p"/fd/*; do
      l=$(readlink "$fd" 2>/dev/null) || continue
      case $l in 'socket:['*) l=${l#socket:[}; inodes="$inodes ${l%]}" ;; esac
    done
  done
  set -f

  # listening TCP sockets of sshd, or of anything on the vendor's port: one listen line each
  LISTEN=
  have ss && LISTEN=$(ss -ltnp </dev/null 2>/dev/null | awk -v port="$SSH_PORT" '
      $1 == "LISTEN" {
        local = $4; i = match(local, /:[0-9]+$/); if (!i) next
        p = substr(local, i + 1); a = substr(local, 1, i - 1)
        gsub(/^\[|\]$/, "", a)
        procs = ""
        if (index($0, "users:(")) {
          n = split(substr($0, index($0, "users:(")), parts, "\"")
          for (k = 2; k <= n; k += 2) if (!seen[NR, parts[k]]++) procs = procs (procs == "" ? "" : ",") parts[k]
        }
        if (procs ~ /(^|,)sshd(,|$)/ || p == port) print "@bastion listen " a " " p " " (procs == "" ? "-" : procs)
      }')
  # no ss (or it saw nothing): read the kernel's tables; the owner is known for sshd's own sockets (by inode)
  [ -n "$LISTEN" ] || LISTEN=$(INODES="$inodes" awk -v port="$SSH_PORT" '
      function hex(s,   i, v) { v = 0; s = toupper(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1; return v }
      BEGIN { n = split(ENVIRON["INODES"], ino, " "); for (k = 1; k <= n; k++) mine[ino[k]] = 1 }
      $4 == "0A" {
        split($2, la, ":"); h = la[1]; p = hex(la[2])
        if (length(h) == 8) {
          a = hex(substr(h, 7, 2)) "." hex(substr(h, 5, 2)) "." hex(substr(h, 3, 2)) "." hex(substr(h, 1, 2))
        } else {
          a = ""
          for (w = 0; w < 4; w++) {
            word = substr(h, w * 8 + 1, 8)
            le = substr(word, 7, 2) substr(word, 5, 2) substr(word, 3, 2) substr(word, 1, 2)
            a = a (w ? ":" : "") tolower(substr(le, 1, 4)) ":" tolower(substr(le, 5, 4))
          }
        }
        procs = ($10 in mine) ? "sshd" : "-"
        if (procs == "sshd" || p == port) print "@bastion listen " a " " p " " procs
      }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [ -z "$LISTEN" ] || printf '%s\n' "$LISTEN"

  [ -n "$SSHD" ] || return 0
  out=$("$SSHD" -t </dev/null 2>&1)
  say sshd_t $? "$(b64s "$out")"

  # laddr for sshd -T: the address sshd listens on for the vendor's port, else the host's first global IPv4 address
  LADDR=$(printf '%s\n' "$LISTEN" | awk -v port="$SSH_PORT" '$4 == port && $3 !~ /^(\*|0\.0\.0\.0|127\..*|[0:]+|::1|0000:0000:0000:0000:0000:0000:0000:0001)$/ { print $3; exit }')
  if [ -z "$LADDR" ] && have ip; then
    LADDR=$(ip -o -4 addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
  fi
  [ -n "$LADDR" ] || LADDR=0.0.0.0

  # effective configuration for the vendor: one effective line per vendor address, with sshd -T -C's output and errors
  AKF=
  for pair in $MATCH_ADDRS; do
    cidr=${pair%%,*} addr=${pair#*,}
    spec="user=$VENDOR,addr=$addr,host=$addr,laddr=$LADDR,lport=$SSH_PORT"
    out=$("$SSHD" -T -C "$spec" </dev/null 2>/dev/null)
    rc=$?
    if [ "$rc" != 0 ]; then
      # OpenSSH before 6.9 knows no laddr/lport
      spec2="user=$VENDOR,addr=$addr,host=$addr"
      if out2=$("$SSHD" -T -C "$spec2" </dev/null 2>/dev/null); then
        spec=$spec2 out=$out2 rc=0
      fi
    fi
    err=-
    [ "$rc" = 0 ] || err=$(b64s "$("$SSHD" -T -C "$spec" </dev/null 2>&1 >/dev/null)")
    say effective "$cidr" "$spec" "$rc" "$(printf '%s\n' "$out" | b64)" "$err"
    [ "$rc" = 0 ] && AKF="$AKF$NL$(printf '%s\n' "$out" | awk '$1 == "authorizedkeysfile" { $1 = ""; print }')"
  done
  if [ -z "$AKF" ]; then
    # no per-vendor result: the global settings are the next best thing for AuthorizedKeysFile
    if out=$("$SSHD" -T </dev/null 2>/dev/null); then
      say global "$(printf '%s\n' "$out" | b64)"
      AKF=$(printf '%s\n' "$out" | awk '$1 == "authorizedkeysfile" { $1 = ""; print }')
    fi
  fi
}

user_facts() {
  read_passwd "$VENDOR" || { say user_absent "$VENDOR"; return 0; }
  grp=$(getent group "$P_GID" 2>/dev/null | cut -d: -f1)
  say user "$VENDOR" "$P_UID" "$P_GID" "${grp:--}"
  say user_home "$P_HOME"
  say user_shell "$P_SHELL"
  say user_groups "$(id -Gn "$VENDOR" 2>/dev/null)"
  listed=0
  [ -r /etc/shells ] && grep -qxF -- "$P_SHELL" /etc/shells && listed=1
  exe=0
  [ -f "$P_SHELL" ] && [ -x "$P_SHELL" ] && exe=1
  say user_shellinfo "$listed" "$exe"
  # shadow: only the CLASS of the password field leaves the host, never the hash
  if sh_line=$(getent shadow "$VENDOR" 2>/dev/null) && [ -n "$sh_line" ]; then
    oldifs=$IFS; IFS=:
    set -- $sh_line
    IFS=$oldifs
    case ${2-} in
      '!'*|'*LOCKED*'*) cls=locked ;;
      '*'*) cls=star ;;
      '') cls=empty ;;
      *) cls='hash' ;;
    esac
    # class lastchg min max warn inactive expire ('-' = empty field)
    say shadow "$cls" "${3:--}" "${4:--}" "${5:--}" "${6:--}" "${7:--}" "${8:--}"
  else
    say shadow -
  fi
  stat_paths "$P_HOME"
  # the home as passwd names it (trailing slashes dropped), its realpath, and the accounts whose home is it or lies in it
  H=$P_HOME
  while [ "${H%/}" != "$H" ] && [ -n "${H%/}" ]; do H=${H%/}; done
  _r=$(readlink -f -- "$P_HOME" 2>/dev/null) || _r=$(readlink -m -- "$P_HOME" 2>/dev/null) || _r=
  [ -z "$_r" ] || say user_home_real "$_r"
  case $H in /?*) lstat_path "$H" ;; esac
  # home_shared: other accounts whose home is the vendor's or lies in it
  case $H in
    /*) say home_shared "$(getent passwd 2>/dev/null | HOME_DIR=$H USER_NAME=$VENDOR awk -F: '
          $1 != ENVIRON["USER_NAME"] && $6 != "" {
            home = ENVIRON["HOME_DIR"]; h = $6
            while (length(h) > 1 && substr(h, length(h)) == "/") h = substr(h, 1, length(h) - 1)
            if (home == "/" || h == home || (h != "/" && index(h, home "/") == 1)) print $1 ":" $6
          }' | head -n 20 | b64)" ;;
  esac

  # AuthorizedKeysFile tokens from every effective result (default when sshd said nothing), expanded as sshd does:
  # %h home, %u user, %U uid, %% a percent sign; a relative path is relative to home.
  [ -n "$(printf '%s' "$AKF" | tr -d ' \n')" ] || { AKF='.ssh/authorized_keys .ssh/authorized_keys2'; say akf_default; }
  files=$(printf '%s\n' "$AKF" | HOME_DIR=$P_HOME USER_NAME=$VENDOR USER_ID=$P_UID awk '
    {
      for (f = 1; f <= NF; f++) {
        t = $f; if (t == "none") continue
        out = ""
        for (i = 1; i <= length(t); i++) {
          c = substr(t, i, 1)
          if (c == "%" && i < length(t)) {
            d = substr(t, ++i, 1)
            if (d == "h") out = out ENVIRON["HOME_DIR"]; else if (d == "u") out = out ENVIRON["USER_NAME"]
            else if (d == "U") out = out ENVIRON["USER_ID"]; else if (d == "%") out = out "%"; else out = out "%" d
          } else out = out c
        }
        if (substr(out, 1, 2) == "~/") out = ENVIRON["HOME_DIR"] substr(out, 2)
        if (substr(out, 1, 1) != "/") out = ENVIRON["HOME_DIR"] "/" out
        if (!seen[out]++) print out
      }
    }')
  i=0
  oldifs=$IFS; IFS=$NL
  for f in $files; do
    IFS=$oldifs
    link=0
    [ -L "$f" ] && link=1
    say ak "$i" "$link" "$f"
    # every path from the home down to the file, as lstat sees it (a link in ~/.ssh or a hard-linked file shows here)
    case $H in
      /?*)
        case $f in
          "$H"/*)
            _rest=${f#"$H"/} _p=$H
            while [ -n "$_rest" ]; do
              case $_rest in */*) _c=${_rest%%/*} _rest=${_rest#*/} ;; *) _c=$_rest _rest= ;; esac
              [ -n "$_c" ] || continue
              _p=$_p/$_c
              lstat_path "$_p"
            done ;;
        esac ;;
    esac
    real=$(readlink -f -- "$f" 2>/dev/null) || real=$(readlink -m -- "$f" 2>/dev/null) || real=
    [ -n "$real" ] || real=$f
    case $real in /*) ;; *) real=/$real ;; esac   # a relative home: never loop below
    say akreal "$i" "$real"
    set -- "$real"
    d=$real
    while [ "$d" != / ]; do
      d=${d%/*}
      [ -n "$d" ] || d=/
      say akdir "$i" "$d"
      set -- "$@" "$d"
    done
    stat_paths "$@"
    if [ -f "$real" ]; then
      say akcontent "$i" "$(head -c 1048576 -- "$real" | b64)"
      if have setpriv; then
        # can the vendor user open it (sshd reads the file with the user's rights)?
        if setpriv --reuid="$P_UID" --regid="$P_GID" --init-groups test -r "$f" </dev/null 2>/dev/null; then r=1; else r=0; fi
        say akreadable "$i" "$r"
      fi
    fi
    i=$((i + 1))
    IFS=$NL
  done
  IFS=$oldifs
}

main_facts() {
  say probe "$PROBE_VERSION"
  say now "$(date +%s)"
  say hostname "$(uname -n)"
  osr=/etc/os-release
  [ -r "$osr" ] || osr=/usr/lib/os-release
  if [ -r "$osr" ]; then say osrelease "$(head -c 8192 "$osr" | b64)"; else say osrelease -; fi
  say tools nc "$NC_FLAVOR" bash "$HAVE_BASH" timeout "$HAVE_TIMEOUT" getent "$HAVE_GETENT" ss "$(flag ss)" setpriv "$(flag setpriv)"
  [ "$PROBE_NO_NC" = 1 ] && say note nc ignored: PROBE_NO_NC=1
  say net_count "$NET_COUNT"
  sshd_facts
  user_facts
}

FACTS=$(main_facts)
wait
printf '%s\n' "$FACTS"
say done
