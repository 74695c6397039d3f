#!/usr/bin/env bash
# refresh-app.sh: copies the board's one third-party dependency, graphql-ws's browser client, into
# web/app/vendor/graphql-ws/ as npm ships it (dist/client.js and the one module it imports, and the
# licence), from clients/node_modules: the version clients/package-lock.json pins, the one the
# clients' tests run. Run `npm ci --prefix clients` first; commit what changes under web/app/vendor/.
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg=$web/../clients/node_modules/graphql-ws
want=$(node -p "require('$web/../clients/package.json').dependencies['graphql-ws']")
have=$(node -p "require('$pkg/package.json').version")
if [[ $have != "$want" ]]; then
	echo "clients/node_modules holds graphql-ws $have, clients/package.json pins $want: run npm ci --prefix clients" >&2
	exit 1
fi
# client.js imports one shared module, whose name carries a hash: copy exactly the modules it names.
deps=$(grep -o "from '\./[A-Za-z0-9_-]*\.js'" "$pkg/dist/client.js" | sed "s/from '\.\///; s/'//" | sort -u)
out=$web/app/vendor/graphql-ws
rm -rf "$out"
mkdir -p "$out"
cp "$pkg/dist/client.js" "$out/client.js"
for d in $deps; do
	cp "$pkg/dist/$d" "$out/$d"
done
cp "$pkg/LICENSE.md" "$out/LICENSE.txt"
printf 'graphql-ws %s: %s\n' "$have" "$(cd "$out" && ls | tr '\n' ' ')"
