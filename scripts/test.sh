#!/usr/bin/env bash
# berth's whole test suite against a real engine. On a fresh Debian machine, as root,
# it installs docker.io if missing, starts dockerd if none runs (and stops it again
# afterwards only if it started it), makes the images if absent, then runs fmt,
# clippy and every test with the engine required: engine tests never skip here.
set -euo pipefail
cd "$(dirname "$0")/.."

export BERTH_TEST_RUN="r$(date +%s)$$"
export BERTH_REQUIRE_ENGINE=1
export CARGO_TERM_COLOR=never
log() { echo "== test.sh: $*" >&2; }

started_engine=0
if ! scripts/engine.sh up; then
  if [ "$(id -u)" != 0 ]; then
    echo "test.sh: no container engine answers and this is not root. Run it as root (sudo scripts/test.sh) so it can install and start dockerd." >&2
    exit 1
  fi
  started_engine=1
fi
[ "$(id -u)" = 0 ] && scripts/engine.sh ensure
command -v tmux >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; } || true
command -v ssh >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >/dev/null; }

cleanup() {
  local rc=$?
  log "removing every container and volume labelled berth.test-run=$BERTH_TEST_RUN"
  docker ps -aq --filter "label=berth.test-run=$BERTH_TEST_RUN" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "label=berth.test-run=$BERTH_TEST_RUN" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  if [ "$started_engine" = 1 ]; then log "stopping the dockerd this run started"; scripts/engine.sh stop || true; fi
  exit $rc
}
trap cleanup EXIT

log "building"
cargo build --all-targets
log "images"
scripts/engine.sh images target/debug/berth

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

log "tests (engine required)"
cargo test --all-targets
log "dockerd restart test (alone: it restarts the engine)"
cargo test --test engine_restart -- --ignored --test-threads=1
