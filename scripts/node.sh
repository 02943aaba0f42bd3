#!/usr/bin/env bash
# Run Node.js >= 22 (the machine's, or the one scripts/ensure-node.sh keeps in .tools/): the package's npm scripts use
# it for what Node 20 cannot do (node --test with glob patterns), so `npm test` works whatever node npm itself runs on.
set -euo pipefail
exec "$("$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh")/node" "$@"
