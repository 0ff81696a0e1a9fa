#!/usr/bin/env bash
# Creates notebooks/.venv from requirements.txt (once; again only when requirements change)
# and prints the path of its python. Needs python3 with venv and pip (PyPI).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${TAPEDECK_VENV:-$HERE/.venv}"
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  command -v python3 >/dev/null || { echo "setup.sh: python3 is not installed" >&2; exit 1; }
  python3 -m venv "$VENV" || { echo "setup.sh: python3 cannot create a virtualenv (apt-get install python3-venv)" >&2; exit 1; }
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" >&2
  "$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 >/dev/null 2>&1 || true
  echo "$WANT" > "$STAMP"
fi
echo "$VENV/bin/python"
