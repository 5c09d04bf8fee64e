#!/usr/bin/env bash
# berth's whole test suite against a real engine. On a fresh Debian machine, as root,
# the set-up (scripts/setup.sh test, the same one scripts/run.sh uses) installs what is
# missing, starts dockerd if none runs and makes the images if absent; then fmt, clippy
# and every test with the engine required: engine tests never skip here. Last, alone,
# the tests that stop dockerd: its restart, then the README commands on a fresh machine
# (tests/fresh_machine.sh). dockerd is stopped at the end only if this run started it;
# every object labelled with this run's id is removed, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

BERTH_TEST_RUN="r$(date +%s)$$"
export BERTH_TEST_RUN
export BERTH_REQUIRE_ENGINE=1
export CARGO_TERM_COLOR=never
log() { echo "== test.sh: $*" >&2; }

# A dockerd this run starts makes its networks in a range of its own, 256 of them:
# with Docker's ~30 default pools, routes other things hold on a shared or long-lived
# host (each overlapping pool is skipped) could leave the tests none. Not where
# daemon.json sets pools itself (dockerd refuses a flag and the file both), nor
# where this host routes the range elsewhere (docker0 and br-* are dockerd's own).
pool=10.123.0.0/16
if grep -qs '"default-address-pools"' /etc/docker/daemon.json; then
  log "daemon.json sets default-address-pools: the engine keeps them"
elif [ "$(ip -4 route show match "$pool" | grep -cv '^default')" != 0 ] \
  || [ "$(ip -4 route show root "$pool" | grep -cvE ' dev (docker0|br-[0-9a-f]{12}) ')" != 0 ]; then
  log "this host routes part of $pool: the engine keeps Docker's default pools"
else
  export BERTH_ENGINE_POOL=$pool
fi
# Only root can start (and so stop) dockerd; for anyone else the set-up says what to run.
started_engine=0 set_up=0
if [ "$(id -u)" = 0 ] && ! scripts/engine.sh up; then started_engine=1; fi

# Bridges a dockerd that is gone left on this host (an earlier run's extra engine,
# killed before the harness could remove them). Each keeps its route, and the
# default engine skips every address pool a route overlaps: ~30 of them and no
# network can be made ("could not find an available, non-overlapping IPv4 address
# pool"). Removed, loudly: only `br-<12 hex>` bridges (libnetwork's names) with
# nothing attached that are not a network of the local engine, and only while no
# other dockerd runs (a dockerd makes a missing bridge of its network again when it
# starts). Bridges are listed before networks, so one made meanwhile is kept.
sweep_orphan_bridges() {
  [ "$(id -u)" = 0 ] || return 0
  [ "$(pgrep -xc dockerd)" = 1 ] || return 0
  local ids b bridges
  bridges=$(ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^br-[0-9a-f]{12}$') || return 0
  ids=$(timeout 10 docker -H unix:///var/run/docker.sock network ls -q --no-trunc) || return 0
  for b in $bridges; do
    grep -q "^${b#br-}" <<<"$ids" && continue
    [ -z "$(ip -o link show master "$b")" ] || continue
    log "removing bridge $b ($(ip -o -4 addr show dev "$b" | awk '{printf "%s%s", s, $4; s=" "}')): no running engine has it; a dockerd that is gone left it"
    ip link del "$b" || true
  done
}

cleanup() {
  local rc=$? label="label=berth.test-run=$BERTH_TEST_RUN" _
  # A stage that stops dockerd may have failed while it was down.
  if [ "$set_up" = 1 ] && ! scripts/engine.sh up; then
    scripts/engine.sh start || true
  fi
  if scripts/engine.sh up; then
    log "removing every container, volume, network and image labelled berth.test-run=$BERTH_TEST_RUN"
    docker ps -aq --filter "$label" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker volume ls -q --filter "$label" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
    docker network ls -q --filter "$label" | xargs -r docker network rm >/dev/null 2>&1 || true
    # Children before parents: each pass removes the images no other image builds on.
    for _ in 1 2 3 4 5; do
      docker images -aq --filter "$label" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
    done
    sweep_orphan_bridges
    # What the next failure to make a network would need to know.
    log "left: $(docker network ls -q | wc -l) networks on the engine; IPv4 routes: $(ip -4 route | awk '{printf "%s%s", s, $1; s=" "}')"
  fi
  if [ "$started_engine" = 1 ]; then log "stopping the dockerd this run started"; scripts/engine.sh stop || true; fi
  exit "$rc"
}
trap cleanup EXIT

log "set-up"
scripts/setup.sh test
set_up=1
sweep_orphan_bridges

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

log "tests (engine required)"
cargo test --all-targets
log "dockerd restart test (alone: it restarts the engine)"
cargo test --test engine_restart -- --ignored --test-threads=1
log "fresh machine: the README commands with and without a running dockerd (alone: it stops the engine)"
tests/fresh_machine.sh
