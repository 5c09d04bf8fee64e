#!/usr/bin/env bash
# Runs berth. Gets the engine and the workspace image in place first when they are
# missing (as root it installs and starts them; otherwise it says what to run).
# Arguments go to berth: `scripts/run.sh create dev`, `scripts/run.sh list`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! scripts/engine.sh up; then
  if [ "$(id -u)" = 0 ]; then
    scripts/engine.sh ensure
  else
    echo "run.sh: no container engine answers. Start one with: sudo $(pwd)/scripts/engine.sh ensure" >&2
    exit 1
  fi
fi
cargo build --release --quiet
berth=target/release/berth
if ! "$berth" image present >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    scripts/engine.sh images "$berth"
  else
    echo "run.sh: the workspace image is missing. Make it with: sudo $(pwd)/scripts/engine.sh images $(pwd)/$berth" >&2
    exit 1
  fi
fi
exec "$berth" "$@"
