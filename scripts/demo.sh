#!/usr/bin/env bash
# Set up and run the embedded demo: dashboard on http://127.0.0.1:8050 (Ctrl-C stops everything).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
exec "$ROOT/.venv/bin/meetpulse" demo "$@"
