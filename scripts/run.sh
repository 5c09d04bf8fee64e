#!/usr/bin/env bash
# Runs berth. Gets the engine, the tools and the images in place first when they are
# missing (scripts/setup.sh: as root it installs and starts them; otherwise it says what
# to run). Arguments go to berth: `scripts/run.sh create dev`, `scripts/run.sh list`.
# berth runs in the caller's directory, so relative paths in arguments work.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" run
exec "${CARGO_TARGET_DIR:-$here/target}/release/berth" "$@"
