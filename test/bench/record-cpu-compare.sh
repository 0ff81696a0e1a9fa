#!/usr/bin/env bash
# The recorder's CPU per event, two (or more) trees side by side against one simulator:
#   bash test/bench/record-cpu-compare.sh RATE SECONDS ROUNDS TREE [TREE…]
# e.g. a worktree of the commit before a change against this one (each tree needs its
# node_modules, a symlink to this one's will do). Each round records `simulate --rate RATE`
# (binance + coinbase, BTC-USD and ETH-USD) for SECONDS with each tree in turn, alternating,
# under /usr/bin/time, and prints the events recorded, user + sys CPU per event and peak RSS.
# CPU per event is steadier than rates on a shared machine; the rounds alternate so that the
# machine's drift falls on every tree alike.
set -euo pipefail
RATE=$1; SECS=$2; ROUNDS=$3; shift 3
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'kill -INT $SIM 2>/dev/null || true; rm -rf "$WORK"' EXIT
node "$HERE/src/cli/tapedeck.mjs" simulate --port 0 --rate "$RATE" --seed 7 > "$WORK/sim.log" 2>&1 &
SIM=$!
for _ in $(seq 50); do grep -q 'coinbase: ws://' "$WORK/sim.log" && break; sleep 0.2; done
B=$(grep -o 'binance: ws://[^ ]*' "$WORK/sim.log" | head -1 | cut -d' ' -f2)
C=$(grep -o 'coinbase: ws://[^ ]*' "$WORK/sim.log" | head -1 | cut -d' ' -f2)
for r in $(seq "$ROUNDS"); do
  for t in "$@"; do
    OUT="$WORK/rec"
    rm -rf "$OUT" && mkdir -p "$OUT"
    /usr/bin/time -f "%U %S %M" -o "$OUT/time" node "$t/src/cli/tapedeck.mjs" record --exchanges binance,coinbase --symbols BTC-USD,ETH-USD \
      --out "$OUT/out" --duration "${SECS}s" --endpoint "binance=$B" --endpoint "coinbase=$C" --no-metrics > "$OUT/log" 2>&1
    EV=$(grep -o 'recorded [0-9]* events' "$OUT/log" | grep -o '[0-9]*')
    read -r U S M < "$OUT/time"
    python3 -c "print(f'$t, round $r: $EV events, {($U + $S) / $EV * 1e6:.2f} us of CPU an event ({$U + $S:.2f} s), peak RSS {$M / 1024:.0f} MiB')"
  done
done
