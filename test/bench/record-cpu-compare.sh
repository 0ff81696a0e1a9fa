#!/usr/bin/env bash
# The recorder's CPU per event, two (or more) trees side by side against one simulator:
#   bash test/bench/record-cpu-compare.sh RATE SECONDS ROUNDS TREE [TREE…]
# e.g. a worktree of the commit before a change against this one (each tree needs its
# node_modules, a symlink to this one's will do). Each round records `simulate --rate RATE`
# (binance + coinbase, BTC-USD and ETH-USD) for SECONDS with each tree in turn, alternating,
# under /usr/bin/time, and prints the events recorded, user + sys CPU per event and peak RSS.
# CPU per event is steadier than rates on a shared machine; the rounds alternate so that the
# machine's drift falls on every tree alike. Each tree first runs `--help` once, so that its
# CLI bundle (built on first use) is not counted.
set -euo pipefail
RATE=$1; SECS=$2; ROUNDS=$3; shift 3
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
SIM=""
trap 'if [ -n "$SIM" ]; then kill -INT "$SIM" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
fail() { echo "record-cpu-compare: $1" >&2; [ -f "$2" ] && cat "$2" >&2; exit 1; }
for t in "$@"; do node "$t/src/cli/tapedeck.mjs" --help > /dev/null || fail "$t: tapedeck --help failed" /dev/null; done
node "$HERE/src/cli/tapedeck.mjs" simulate --port 0 --rate "$RATE" --seed 7 > "$WORK/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 50); do grep -q 'coinbase: ws://' "$WORK/sim.log" && break; sleep 0.2; done
grep -q 'coinbase: ws://' "$WORK/sim.log" || fail "the simulator did not start" "$WORK/sim.log"
B=$(grep -o 'binance: ws://[^ ]*' "$WORK/sim.log" | head -1 | cut -d' ' -f2)
C=$(grep -o 'coinbase: ws://[^ ]*' "$WORK/sim.log" | head -1 | cut -d' ' -f2)
for r in $(seq "$ROUNDS"); do
  for t in "$@"; do
    OUT="$WORK/rec"
    rm -rf "$OUT" && mkdir -p "$OUT"
    /usr/bin/time -f "%U %S %M" -o "$OUT/time" node "$t/src/cli/tapedeck.mjs" record --exchanges binance,coinbase --symbols BTC-USD,ETH-USD \
      --out "$OUT/out" --duration "${SECS}s" --endpoint "binance=$B" --endpoint "coinbase=$C" --no-metrics > "$OUT/log" 2>&1 \
      || fail "$t: record failed" "$OUT/log"
    EV=$(grep -o 'recorded [0-9]* events' "$OUT/log" | grep -o '[0-9]*') || fail "$t: record said no event count" "$OUT/log"
    read -r U S M < "$OUT/time"
    python3 -c 'import sys; t, r, ev, u, s, m = sys.argv[1:]; ev, cpu = int(ev), float(u) + float(s)
print(f"{t}, round {r}: {ev} events, {cpu / ev * 1e6:.2f} us of CPU an event ({cpu:.2f} s), peak RSS {int(m) / 1024:.0f} MiB")' "$t" "$r" "$EV" "$U" "$S" "$M"
  done
done
