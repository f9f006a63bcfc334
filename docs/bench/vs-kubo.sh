#!/usr/bin/env bash
# Lyceum and Kubo side by side, in one sitting, on this machine: every row
# runs Kubo and Lyceum alternately (the first of the pair swaps each run),
# RUNS times (default 3), on the same files, both through their own CLI and
# daemons on loopback. It prints one Markdown table: the median of each
# side and the ratio of medians, written so that above 1.0 means Lyceum is
# better (faster, or less memory).
#
#   docs/bench/vs-kubo.sh                 # every row
#   docs/bench/vs-kubo.sh add256 bitswap  # some rows
#   RUNS=5 docs/bench/vs-kubo.sh
#
# Rows: add256 add1g addsmall bitswap firstbyte gw256 gwsmall idle, and
# add1gsync (not in the default set): Kubo configured to sync each block,
# for a comparison of two durable adds.
# Kubo comes from docs/bench/kubo.sh (built once per machine) or $KUBO.
# Needs curl and python3. Scratch space is a temporary folder under
# $TMPDIR (default /tmp), removed at the end; it needs about 4 GiB.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${RUNS:-3}
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(add256 add1g addsmall bitswap firstbyte gw256 gwsmall idle)

kubo=${KUBO:-$(docs/bench/kubo.sh)}
work=$(mktemp -d)
lyceum=$work/lyceum
go build -o "$lyceum" ./cmd/lyceum
export IPFS_TELEMETRY=off

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Each timed command starts after a sync: Kubo leaves what it wrote for the
# kernel to write out later, and neither side should pay for the other's.
now() { date +%s.%N; }
start() { sync; now; }
waitfor() { # TEXT LOG: wait up to 60 s for a daemon to say TEXT
  local i
  for i in $(seq 600); do grep -q "$1" "$2" && return 0; sleep 0.1; done
  echo "no '$1' in $2 after 60 s:" >&2; tail -5 "$2" >&2; exit 1
}
elapsed() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }
median() { python3 -c "import sys, statistics; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
# Inputs are synced once made, so that neither side pays for writing them
# out (a sync of the filesystem would).
randfile() { head -c "$2" /dev/urandom >"$1"; sync; }
smalldir() { # DIR COUNT: COUNT files of 1–8 KiB
  mkdir -p "$1"
  python3 - "$1" "$2" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(os.urandom(random.randint(1024, 8192)))
PY
  sync
}

# --- Kubo ------------------------------------------------------------------
kubo_init() { # NAME PORTBASE
  local repo=$work/kubo-$1
  IPFS_PATH=$repo "$kubo" init --profile=test -e >/dev/null
  IPFS_PATH=$repo "$kubo" config --json AutoConf.Enabled false
  IPFS_PATH=$repo "$kubo" config --json Plugins.Plugins.telemetry.Disabled true
  IPFS_PATH=$repo "$kubo" config Routing.Type dhtserver
  IPFS_PATH=$repo "$kubo" config --json Bootstrap '[]'
  IPFS_PATH=$repo "$kubo" config --json Discovery.MDNS.Enabled false
  IPFS_PATH=$repo "$kubo" config Addresses.API "/ip4/127.0.0.1/tcp/$2"
  IPFS_PATH=$repo "$kubo" config Addresses.Gateway "/ip4/127.0.0.1/tcp/$(($2 + 1))"
  IPFS_PATH=$repo "$kubo" config --json Addresses.Swarm "[\"/ip4/127.0.0.1/tcp/$(($2 + 2))\"]"
}
kubo_durable() { # NAME: Kubo's flatfs syncs every block, as Lyceum's add does before it returns
  local repo=$work/kubo-$1 spec
  spec=$(IPFS_PATH=$repo "$kubo" config Datastore.Spec | python3 -c '
import json, sys
spec = json.load(sys.stdin)
def durable(m):
    if m.get("type") == "flatfs":
        m["sync"] = True
    for k in ("child",):
        if k in m:
            durable(m[k])
    for c in m.get("mounts", []):
        durable(c)
durable(spec)
print(json.dumps(spec))')
  IPFS_PATH=$repo "$kubo" config --json Datastore.Spec "$spec"
}
kubo_daemon() { # NAME
  IPFS_PATH=$work/kubo-$1 "$kubo" daemon >"$work/kubo-$1.log" 2>&1 &
  pids+=($!)
  eval "kubo_pid_$1=$!"
  waitfor "Daemon is ready" "$work/kubo-$1.log"
}
kubo_stop() { # NAME
  local v="kubo_pid_$1"
  kill "${!v}" && wait "${!v}" 2>/dev/null || true
}
k() { local name=$1; shift; IPFS_PATH=$work/kubo-$name "$kubo" "$@"; }

# --- Lyceum ----------------------------------------------------------------
lyceum_init() { # NAME PORTBASE
  LYCEUM_PATH=$work/lyceum-$1 "$lyceum" init --profile test >/dev/null
  LYCEUM_PATH=$work/lyceum-$1 "$lyceum" config http.listen "127.0.0.1:$(($2 + 1))" >/dev/null
  LYCEUM_PATH=$work/lyceum-$1 "$lyceum" config swarm.listen "[\"/ip4/127.0.0.1/tcp/$(($2 + 2))\"]" >/dev/null
}
lyceum_daemon() { # NAME
  LYCEUM_PATH=$work/lyceum-$1 "$lyceum" daemon >"$work/lyceum-$1.log" 2>&1 &
  pids+=($!)
  eval "lyceum_pid_$1=$!"
  waitfor "daemon is ready" "$work/lyceum-$1.log"
}
lyceum_stop() { # NAME
  local v="lyceum_pid_$1"
  kill "${!v}" && wait "${!v}" 2>/dev/null || true
}
l() { local name=$1; shift; LYCEUM_PATH=$work/lyceum-$name "$lyceum" "$@"; }

kubo_init a 25000; kubo_init b 25010
lyceum_init a 26000; lyceum_init b 26010
kubo_gw=http://127.0.0.1:25001
lyceum_gw=http://127.0.0.1:26001

# --- rows ------------------------------------------------------------------
# Each row function takes the system (kubo or lyceum) and the run number and
# prints one figure.
declare -A unit better title

title[add256]='`add` 256 MiB, no daemon'; unit[add256]=s; better[add256]=lower
row_add256() {
  local f=$work/in/add256-$2; [ -f "$f" ] || randfile "$f" $((256 << 20))
  local t0 t1; t0=$(start)
  if [ "$1" = kubo ]; then k a add -Q --offline "$f" >/dev/null; else l a add -q "$f" >/dev/null; fi
  t1=$(now); elapsed "$t0" "$t1"
}

title[add1g]='`add` 1 GiB, no daemon'; unit[add1g]=s; better[add1g]=lower
row_add1g() { add1g "$1" ""; }
title[add1gsync]='`add` 1 GiB, no daemon, Kubo with `"sync": true` (durable, as Lyceum)'; unit[add1gsync]=s; better[add1gsync]=lower
row_add1gsync() { add1g "$1" durable; }
add1g() { # SYSTEM DURABLE
  local f=$work/in/add1g; [ -f "$f" ] || randfile "$f" $((1 << 30))
  # The same file each run: each side gets a fresh repo, so nothing is
  # deduplicated, and the scratch space stays at 1 GiB.
  rm -rf "$work/kubo-g" "$work/lyceum-g"
  kubo_init g 25020 2>/dev/null; lyceum_init g 26020
  [ -z "$2" ] || kubo_durable g
  local t0 t1; t0=$(start)
  if [ "$1" = kubo ]; then k g add -Q --offline "$f" >/dev/null; else l g add -q "$f" >/dev/null; fi
  t1=$(now); elapsed "$t0" "$t1"
  rm -rf "$work/kubo-g" "$work/lyceum-g"
}

title[addsmall]='`add` of 10,000 files of 1–8 KiB, no daemon'; unit[addsmall]=s; better[addsmall]=lower
row_addsmall() {
  local d=$work/in/small-$2; [ -d "$d" ] || smalldir "$d" 10000
  local t0 t1; t0=$(start)
  if [ "$1" = kubo ]; then k a add -Q -r --offline "$d" >/dev/null; else l a add -q "$d" >/dev/null; fi
  t1=$(now); elapsed "$t0" "$t1"
}

# Two daemons per system, B connected to A, for the network rows; started
# once, in the main shell, before the rows run.
daemons() {
  kubo_daemon a; kubo_daemon b
  lyceum_daemon a; lyceum_daemon b
  k b swarm connect "/ip4/127.0.0.1/tcp/25002/p2p/$(k a config Identity.PeerID)" >/dev/null
  l b connect "/ip4/127.0.0.1/tcp/26002/p2p/$(l a id --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["peer_id"])')" >/dev/null
}

title[bitswap]='`cat` of 256 MiB on B, added on A, over loopback bitswap'; unit[bitswap]=s; better[bitswap]=lower
row_bitswap() {
  local f=$work/in/net-$1-$2; randfile "$f" $((256 << 20))
  local c t0 t1
  if [ "$1" = kubo ]; then
    c=$(k a add -Q "$f"); t0=$(start); k b cat "$c" >/dev/null; t1=$(now)
  else
    c=$(l a add -q "$f"); t0=$(start); l b cat "$c" >/dev/null; t1=$(now)
  fi
  rm -f "$f"
  elapsed "$t0" "$t1"
}

title[firstbyte]='first byte of a 4 KiB file over bitswap (B'"'"'s gateway, median of 10 files)'; unit[firstbyte]=ms; better[firstbyte]=lower
row_firstbyte() {
  local gw i f c times=()
  [ "$1" = kubo ] && gw=http://127.0.0.1:25011 || gw=http://127.0.0.1:26011
  for i in $(seq 10); do
    f=$work/in/fb-$1-$2-$i; randfile "$f" 4096
    if [ "$1" = kubo ]; then c=$(k a add -Q "$f"); else c=$(l a add -q "$f"); fi
    times+=("$(curl -sf -o /dev/null -w '%{time_starttransfer}' "$gw/ipfs/$c")")
  done
  python3 -c "import sys, statistics; print(1000 * statistics.median(float(x) for x in sys.argv[1:]))" "${times[@]}"
}

title[gw256]='256 MiB through the node'"'"'s own `/ipfs/` gateway'; unit[gw256]=s; better[gw256]=lower
row_gw256() {
  local f=$work/in/gw-$1-$2; randfile "$f" $((256 << 20))
  local c gw t0 t1
  if [ "$1" = kubo ]; then c=$(k a add -Q "$f"); gw=$kubo_gw; else c=$(l a add -q "$f"); gw=$lyceum_gw; fi
  rm -f "$f"
  curl -sf -o /dev/null "$gw/ipfs/$c" # warm the page cache for both alike
  t0=$(start); curl -sf -o /dev/null "$gw/ipfs/$c"; t1=$(now)
  elapsed "$t0" "$t1"
}

title[gwsmall]='1,000 files of 1–8 KiB from a folder, through the gateway, one connection'; unit[gwsmall]=s; better[gwsmall]=lower
row_gwsmall() {
  local d=$work/in/gwsmall; [ -d "$d" ] || smalldir "$d" 1000
  local c gw t0 t1 cfg=$work/curl-$1.cfg
  if [ "$1" = kubo ]; then c=$(k a add -Q -r "$d"); gw=$kubo_gw; else c=$(l a add -q "$d"); gw=$lyceum_gw; fi
  : >"$cfg"
  for f in "$d"/*; do printf 'url = "%s/ipfs/%s/%s"\noutput = "/dev/null"\n' "$gw" "$c" "${f##*/}" >>"$cfg"; done
  t0=$(start); curl -sf -K "$cfg"; t1=$(now)
  elapsed "$t0" "$t1"
}

title[idle]='idle RSS of the daemon, 10 s after it is ready, no peers'; unit[idle]=MiB; better[idle]=lower
row_idle() {
  local pid
  if [ "$1" = kubo ]; then
    rm -rf "$work/kubo-i"; kubo_init i 25030 2>/dev/null; kubo_daemon i; pid=$kubo_pid_i
  else
    rm -rf "$work/lyceum-i"; lyceum_init i 26030; lyceum_daemon i; pid=$lyceum_pid_i
  fi
  sleep 10
  awk '$1=="VmRSS:" {print $2/1024}' "/proc/$pid/status"
  if [ "$1" = kubo ]; then kubo_stop i; else lyceum_stop i; fi
}

mkdir -p "$work/in"
case " ${rows[*]} " in *" bitswap "* | *" firstbyte "* | *" gw256 "* | *" gwsmall "*) daemons ;; esac
echo "Kubo: $("$kubo" version)  Lyceum: $("$lyceum" version | head -1)  runs: $runs"
echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| row | Kubo (median) | Lyceum (median) | Lyceum / Kubo, speed | each run, Kubo / Lyceum |"
echo "|---|---|---|---|---|"
for row in "${rows[@]}"; do
  ks=(); ls=()
  for run in $(seq "$runs"); do
    if [ $((run % 2)) = 1 ]; then order=(kubo lyceum); else order=(lyceum kubo); fi
    for sys in "${order[@]}"; do
      v=$("row_$row" "$sys" "$run")
      if [ "$sys" = kubo ]; then ks+=("$v"); else ls+=("$v"); fi
    done
  done
  km=$(median "${ks[@]}"); lm=$(median "${ls[@]}")
  ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$km" "$lm")
  runs_txt=$(python3 -c "import sys; n = len(sys.argv) // 2; a, b = sys.argv[1:n + 1], sys.argv[n + 1:]; print(', '.join(f'{float(x):.3g}/{float(y):.3g}' for x, y in zip(a, b)))" "${ks[@]}" "${ls[@]}")
  printf '| %s | %.3g %s | %.3g %s | **%s** | %s |\n' "${title[$row]}" "$km" "${unit[$row]}" "$lm" "${unit[$row]}" "$ratio" "$runs_txt"
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
