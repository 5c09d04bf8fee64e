#!/usr/bin/env bash
# Time from `berth agent run fake REPO --prompt hi` to the agent's first output line
# (warm profile image), against `berth create` (same image, network profile and
# read-only mount) + `berth exec` of the same clone and agent script, alternating in
# the same run; medians and their ratio. Called by scripts/bench.sh agent with the
# binary and the run's label; uses ports 3860-3869. AGENT_RUNS (default 5).
set -euo pipefail
B=$1
RUN=$2
N=${AGENT_RUNS:-5}
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
# Seconds from now until the command prints its first stdout line (then waits for it);
# a first line other than the agent's fails the bench.
first_line() {
  local t0 t1
  t0=$(now)
  { "$@" 2>/dev/null || true; } | {
    IFS= read -r line || true
    t1=$(now)
    cat >/dev/null
    if [ "$line" != "fake-agent: hi" ]; then echo "failed: the first line was '$line': $*" >&2; exit 1; fi
    echo "$t1 - $t0" | bc
  }
}
AGENT='#!/bin/sh
[ "$1" = -p ] && shift
echo "fake-agent: $*"
echo "$*" >> AGENT.md
git add AGENT.md && git commit -q -m "fake: $*"'
ENC=$(printf '%s\n' "$AGENT" | base64 -w0)
cat > "$XDG_CONFIG_HOME/berth/config.toml" <<CFG
[ssh]
port_range = "3860-3869"
[labels]
"berth.bench-run" = "$RUN"
[agents.fake]
profile = "clean"
install = ["echo $ENC | base64 -d > /usr/local/bin/fake-agent && chmod 755 /usr/local/bin/fake-agent"]
command = ["fake-agent"]
prompt = ["fake-agent", "-p"]
CFG
REPO=$(mktemp -d /tmp/berth-bench-repo.XXXXXX)
chmod 755 "$REPO"   # the workspace user reads it through the mount
trap 'rm -rf "$REPO"' EXIT
git -C "$REPO" init -q -b main
git -C "$REPO" config user.name bench
git -C "$REPO" config user.email bench@example.com
git -C "$REPO" commit -q --allow-empty -m init
echo "== agent run --prompt: time to the agent's first output line vs berth create + berth exec ($N runs each, warm image, median)"
# Warm: builds the agent's profile image once (not timed).
"$B" agent run fake "$REPO" --no-push --prompt warm >/dev/null 2>&1
IMAGE=$(docker images --filter label=dev.berth.profile=agent-fake --format '{{.Repository}}:{{.Tag}}' | head -n1)
CLONE='git config --global --add safe.directory /mnt/berth/repo; git config --global --add safe.directory /mnt/berth/repo/.git; git clone -q /mnt/berth/repo r && cd r && git checkout -q -b s && git config user.name bench && git config user.email bench@example.com && exec fake-agent -p hi'
at=() pt=()
for i in $(seq 1 "$N"); do
  at+=("$(first_line "$B" agent run fake "$REPO" --no-push --prompt hi)")
  pt+=("$(first_line sh -c "\"$B\" create bench-agent-$i --image $IMAGE --profile clean --net-profile proxy --mount $REPO:/mnt/berth/repo:ro >/dev/null && exec \"$B\" exec bench-agent-$i -- sh -c '$CLONE'")")
  "$B" delete "bench-agent-$i" --yes >/dev/null 2>&1 || true
done
am=$(printf '%s\n' "${at[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
echo "berth agent run fake --prompt hi (preflight, branch, create, clone, exec):   median ${am}s  [${at[*]}]"
echo "berth create + berth exec (same image, proxy, mount; clone + agent by hand):  median ${pm}s  [${pt[*]}]"
echo "ratio: $(echo "scale=2; $am / $pm" | bc)"
