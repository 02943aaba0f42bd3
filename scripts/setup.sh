#!/usr/bin/env bash
# One setup command for a fresh Linux machine (Debian/Ubuntu): what the CLI, its tests, the demo and the benchmarks need.
#   - Node.js >= 22 (fetched into .tools/ from the npm registry when the machine's node is older)
#   - Debian packages for the lab hosts: openssh-server, sudo, netcat-openbsd, iproute2, postgresql, and for the
#     booted lab hosts debootstrap and systemd-container (systemd-nspawn)
#     (installed with services held back: the machine's own sshd and PostgreSQL are never enabled or started)
#   - npm ci and the TypeScript build
#   - as root with debootstrap: the booted labs' Debian rootfs, debootstrapped once into the lab cache
#     (/var/tmp/bastion-lab/cache; the first booted-lab test would build it otherwise)
#   - with --bench only: what `npm run bench` compares against and measures with (Debian's ansible, which ships
#     ansible.posix; hyperfine; GNU time)
# Usage: scripts/setup.sh [--no-apt] [--bench]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# gawk: the remote awk programs are tested under gawk (Amazon Linux/RHEL) as well as Debian's mawk.
want=(openssh-server openssh-client sudo netcat-openbsd iproute2 postgresql util-linux gawk debootstrap systemd-container)
apt=1
for arg in "$@"; do
  case $arg in
    --no-apt) apt=0 ;;
    --bench) want+=(ansible hyperfine time) ;;
    *) echo "usage: scripts/setup.sh [--no-apt] [--bench]" >&2; exit 2 ;;
  esac
done
if [ "$apt" = 1 ]; then
  missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "setup: missing Debian packages: ${missing[*]} — run as root or: sudo apt-get install ${missing[*]}" >&2
      exit 1
    fi
    echo "setup: installing ${missing[*]} (services are not started)" >&2
    # policy-rc.d 101 = "action forbidden": package scripts must not start sshd or PostgreSQL on this machine.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    [ "$created_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
    # Installing gawk makes it the machine's `awk`; keep Debian's default (mawk), which lab hosts run as Debian does.
    case " ${missing[*]} " in *" gawk "*) [ -x /usr/bin/mawk ] && update-alternatives --set awk /usr/bin/mawk >&2 || true ;; esac
  fi
fi

nodebin="$("$root/scripts/ensure-node.sh")"
export PATH="$nodebin:$PATH"
echo "setup: node $(node --version) from $nodebin" >&2
npm ci --no-audit --no-fund >&2
npm run build >&2
if [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null && command -v systemd-nspawn >/dev/null; then
  echo "setup: the booted labs' Debian rootfs (debootstrap, once per machine, a few minutes)" >&2
  scripts/node.sh dist/test/lab/cli.js rootfs >&2
fi
echo "setup: done. Run the CLI as ./bin/run.js (or npm link), tests with: npm test" >&2
