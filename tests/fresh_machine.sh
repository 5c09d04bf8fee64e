#!/usr/bin/env bash
# The README's two commands on a machine with no images, with dockerd running and with
# none running; every exit code checked. scripts/test.sh runs it last and alone (it stops
# dockerd) and leaves dockerd running, as it found it.
#
# Only throwaway images: the base berth-fresh-$RUN/debian:bookworm and the workspace image
# berth-fresh-$RUN/workspace:latest, both labelled berth.test-run=$RUN; they are removed at
# the end, pass or fail (here, and by test.sh's cleanup). No registry is asked
# (BERTH_BASE_PULL=0): the base comes from debootstrap, as on a machine without one.
#
#   BERTH_TEST_RUN=r1 tests/fresh_machine.sh      (as root; scripts/test.sh sets the id)
set -euo pipefail
cd "$(dirname "$0")/.."

run=${BERTH_TEST_RUN:?set BERTH_TEST_RUN (scripts/test.sh does)}
label="berth.test-run=$run"
base="berth-fresh-$run/debian:bookworm"
image="berth-fresh-$run/workspace:latest"
summary=()

say() { echo "== fresh_machine: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then fail "needs root: it stops and starts dockerd"; fi

remove_images() {
  local _
  for _ in 1 2 3 4 5; do
    docker images -aq --filter "label=$label" 2>/dev/null | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  done
}

tmp=$(mktemp -d)
cleanup() {
  local rc=$?
  scripts/engine.sh up || scripts/engine.sh start || true
  remove_images
  rm -rf "$tmp"
  if [ "${#summary[@]}" -gt 0 ]; then printf '== fresh_machine:   %s\n' "${summary[@]}" >&2; fi
  exit "$rc"
}
trap cleanup EXIT

# berth as a user whose config names the throwaway image, labels what berth makes and
# keeps its state here.
cat >"$tmp/config.toml" <<EOF
image = "$image"

[ssh]
port_range = "2820-2824"

[labels]
"berth.test-run" = "$run"
"berth.test-case" = "$run-fresh"
EOF
export BERTH_CONFIG="$tmp/config.toml" XDG_STATE_HOME="$tmp/state" XDG_CONFIG_HOME="$tmp/config"
export BERTH_BASE_IMAGE="$base" BERTH_BASE_PULL=0 BERTH_BASE_LABELS="$label"

# step WHAT CMD...: runs CMD (stdout to $tmp/out), fails unless it exits 0, records the time.
step() {
  local what=$1; shift
  local t0 rc=0; t0=$(date +%s)
  say "$what: $*"
  "$@" >"$tmp/out" || rc=$?
  local line; line=$(printf '%-62s exit %s in %4s s' "$what" "$rc" "$(($(date +%s) - t0))")
  summary+=("$line")
  [ "$rc" = 0 ] || fail "$what: $* exited $rc"
}

labelled() {
  [ "$(docker image inspect -f '{{index .Config.Labels "berth.test-run"}}' "$1" 2>/dev/null)" = "$run" ]
}
images_made() {
  labelled "$base" || fail "$base is absent or lacks the label $label"
  labelled "$image" || fail "$image is absent or lacks the label $label"
  # The workspace image is built on this base, not on the shared one.
  local b i
  b=$(docker image inspect -f '{{index .RootFS.Layers 0}}' "$base")
  i=$(docker image inspect -f '{{index .RootFS.Layers 0}}' "$image")
  [ "$b" = "$i" ] || fail "$image is not built on $base"
}
nothing_here() {
  if docker image inspect "$base" >/dev/null 2>&1 || docker image inspect "$image" >/dev/null 2>&1; then
    fail "$base or $image exists before the set-up"
  fi
}
stop_engine() {
  step "stop dockerd" scripts/engine.sh kill
  if scripts/engine.sh up; then fail "dockerd still answers after engine.sh kill"; fi
}
engine_answers() { scripts/engine.sh up || fail "$1 left no engine answering"; }

# The shared images (whatever is there) must come out untouched.
shared_ids() { docker image inspect -f '{{.Id}}' debian:bookworm-slim berth/workspace:latest 2>/dev/null || true; }

version="berth $(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1) (commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown))"

# 1. dockerd running, no images: test.sh's set-up makes the base and the workspace image.
engine_answers "the suite"
nothing_here
shared_before=$(shared_ids)
step "test.sh's set-up, dockerd running, no images" scripts/setup.sh test
images_made

# 2. dockerd running: run.sh (its release build, then berth).
step "run.sh --version, dockerd running" scripts/run.sh --version
[ "$(cat "$tmp/out")" = "$version" ] || fail "run.sh --version printed '$(cat "$tmp/out")', not '$version' (set-up output belongs on stderr)"
step "run.sh list, dockerd running" scripts/run.sh list
step "run.sh doctor, dockerd running" scripts/run.sh doctor

# 3. No dockerd, no images: run.sh starts dockerd and makes both images again.
remove_images
nothing_here
stop_engine
step "run.sh list, no dockerd, no images" scripts/run.sh list
engine_answers "run.sh"
images_made

# 4. No dockerd: test.sh's set-up starts it.
stop_engine
step "test.sh's set-up, no dockerd" scripts/setup.sh test
engine_answers "test.sh's set-up"
[ "$(shared_ids)" = "$shared_before" ] || fail "the shared images changed"
say "passed"
