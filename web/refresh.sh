#!/usr/bin/env bash
# refresh.sh: refreshes the playground's embedded third-party files, web/playground/vendor/ and
# web/playground/LICENSES.txt, from the npm packages pinned in web/package-lock.json. It installs
# them (npm ci, no install scripts) into a temporary directory, so that web/ never holds a
# node_modules, and runs refresh.mjs on them; commit what changes under web/playground/.
#
# To change a version: edit web/package.json (exact versions only), run
# `npm install --prefix web --package-lock-only --save-exact`, then this script.
# It needs Node 20 or later and the npm registry; the Go build needs neither.
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$web/package.json" "$web/package-lock.json" "$tmp/"
timeout 300 npm ci --prefix "$tmp" --ignore-scripts --no-audit --no-fund
node "$web/refresh.mjs" "$tmp/node_modules"
