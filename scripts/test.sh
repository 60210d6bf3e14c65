#!/usr/bin/env bash
# Set up and run the whole test suite. As root it installs the Debian packages the tests need
# (clickhouse-server, redis-server, chromium, chromium-driver, docker-compose) when missing.
# Extra arguments go to pytest. With CI=true a test whose component is missing fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need=()
command -v clickhouse-server >/dev/null || need+=(clickhouse-server)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "meetpulse: installing Debian packages: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "meetpulse: missing ${need[*]}; their tests will skip (run as root to install them)" >&2
  fi
fi

bash "$ROOT/scripts/setup.sh" test
export MEETPULSE_REALDATA="${MEETPULSE_REALDATA:-$ROOT/../shared/realdata}"
set +e
"$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider -q -rfEs "$@"
code=$?
set -e
[ "$code" = 5 ] && { echo "meetpulse: no tests ran" >&2; exit 1; }
exit "$code"
