#!/usr/bin/env bash
# Prints the path of a Kubo v0.43.0 `ipfs` binary, building it from its Go
# module the first time (15–20 minutes on 2 cores; later runs find it in
# the cache). Used by docs/bench/vs-kubo.sh and by .ci/run for the interop
# tests (ipfs/kubo_test.go).
#
#   docs/bench/kubo.sh [DEST_DIR]   # default: $HOME/.cache/lyceum-peers/bin
#
# `go install github.com/ipfs/kubo/cmd/ipfs@…` does not work with this
# proxy (Kubo's go.mod has replace directives); building a writable copy of
# the module does.
set -euo pipefail
version=${KUBO_VERSION:-v0.43.0}
dest=${1:-${KUBO_DIR:-$HOME/.cache/lyceum-peers/bin}}
if [ -x "$dest/ipfs" ] && "$dest/ipfs" version 2>/dev/null | grep -q "${version#v}"; then
  echo "$dest/ipfs"; exit 0
fi
mkdir -p "$dest"
src=$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/ipfs/kubo@$version" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["Dir"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
echo "building Kubo $version into $dest (once per machine)…" >&2
(cd "$work" && GOFLAGS=-mod=mod go build -trimpath -o "$dest/ipfs.tmp" ./cmd/ipfs)
mv "$dest/ipfs.tmp" "$dest/ipfs"
"$dest/ipfs" version >&2
echo "$dest/ipfs"
