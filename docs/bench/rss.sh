#!/usr/bin/env bash
# Measures a daemon's resident memory idle and while it serves and fetches
# 256 MiB over bitswap. Usage: docs/bench/rss.sh (from the repo root).
set -euo pipefail
bin=$(mktemp -d)/lyceum
go build -o "$bin" ./cmd/lyceum
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
rss() { awk -v k="$2" '$1==k":" {print $2/1024 " MiB"}' /proc/"$1"/status; }
LYCEUM_PATH=$work/a "$bin" daemon --profile test >"$work/a.out" 2>&1 & a=$!
LYCEUM_PATH=$work/b "$bin" daemon --profile test >"$work/b.out" 2>&1 & b=$!
until grep -q "daemon is ready" "$work/a.out" "$work/b.out" 2>/dev/null && [ "$(grep -l 'daemon is ready' "$work"/*.out | wc -l)" = 2 ]; do sleep 0.2; done
sleep 10
echo "idle RSS: A $(rss $a VmRSS), B $(rss $b VmRSS)"
head -c $((256<<20)) /dev/urandom >"$work/big"
cid=$(LYCEUM_PATH=$work/a "$bin" add -q "$work/big")
addr=$(LYCEUM_PATH=$work/a "$bin" id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["addrs"][0])')
LYCEUM_PATH=$work/b "$bin" connect "$addr" >/dev/null
start=$(date +%s.%N)
LYCEUM_PATH=$work/b "$bin" get -q "$cid" -o "$work/copy"
end=$(date +%s.%N)
cmp "$work/big" "$work/copy"
echo "fetch 256 MiB through the CLI: $(python3 -c "print(round(256/($end-$start),1))") MiB/s"
echo "peak RSS: A (add, serve) $(rss $a VmHWM), B (fetch) $(rss $b VmHWM)"
