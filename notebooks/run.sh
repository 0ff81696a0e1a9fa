#!/usr/bin/env bash
# `npm run notebooks`: builds the virtualenv (setup.sh), generates fresh demo data with
# tapedeck itself, and executes every notebook headlessly with papermill; any cell error
# fails the run. Executed copies go to $1 (default data/notebooks/).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/data/notebooks}" && cd "${1:-$ROOT/data/notebooks}" && pwd)"
PY="$(bash "$HERE/setup.sh")"
DEMO="$OUT/demo"
node "$ROOT/src/cli/tapedeck.mjs" demo --minutes "${TAPEDECK_DEMO_MINUTES:-30}" --out "$DEMO" > "$OUT/demo.log"
# A backtest on the same session for backtest.ipynb (low fees, so the arbitrage taker trades).
node "$ROOT/src/cli/tapedeck.mjs" backtest --strategy arb-taker --fees binance=1,coinbase=1 \
  --from "$DEMO/raw" --out "$DEMO/backtest" >> "$OUT/demo.log"
# Each notebook gets only the parameters its `parameters` cell declares.
run() { "$PY" "$HERE/execute.py" "$HERE/$1.ipynb" "$OUT/$1.ipynb" "${@:2}"; echo "executed $1 → $OUT/$1.ipynb"; }
run market_overview out_dir="$DEMO/out"
run raw_log raw_dir="$DEMO/raw" out_dir="$DEMO/out"
run backtest bt_dir="$DEMO/backtest"
