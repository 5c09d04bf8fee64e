#!/usr/bin/env bash
# A create per network profile (open, isolated, offline) against `docker run -d` of
# the same image on the same network setup: the default bridge, a bridge with
# inter-container communication off, no network. Called by `scripts/bench.sh
# profiles-net` (which sets HOME and the XDG directories, and cleans up by label).
#   scripts/net-profile-times.sh BERTH RUN        (N=runs per case, default 5)
set -euo pipefail
B=$1
RUN=$2
LABEL="berth.bench-run=$RUN"
IMG=berth/workspace:latest
N=${N:-5}
NET="berth.isolated.$RUN"
DNET="bench-icc-off-$RUN"
# Ports 3150-3159 only; its own isolated network, labelled for the cleanup.
printf '[ssh]\nport_range = "3150-3159"\n[network]\nisolated_network = "%s"\n[labels]\n"berth.bench-run" = "%s"\n' \
  "$NET" "$RUN" > "$XDG_CONFIG_HOME/berth/config.toml"
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

# berth_times PROFILE: N create/delete cycles, the create's seconds each.
berth_times() {
  local out=() t0 t1
  for i in $(seq 1 "$N"); do
    t0=$(now); "$B" create "bench-net-$1-$i" --net-profile "$1" >/dev/null 2>&1; t1=$(now)
    out+=("$(echo "$t1 - $t0" | bc)")
    "$B" delete "bench-net-$1-$i" --yes >/dev/null
  done
  echo "${out[*]}"
}

# docker_times ARGS...: N `docker run -d` with ARGS, seconds each.
docker_times() {
  local out=() t0 t1
  for _ in $(seq 1 "$N"); do
    t0=$(now); docker run -d --label "$LABEL" "$@" "$IMG" >/dev/null; t1=$(now)
    out+=("$(echo "$t1 - $t0" | bc)")
  done
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null
  echo "${out[*]}"
}

row() { # LABEL BERTH_TIMES DOCKER_TIMES
  local bm dm
  bm=$(tr ' ' '\n' <<<"$2" | median); dm=$(tr ' ' '\n' <<<"$3" | median)
  printf '%-34s berth %6.2fs  docker run %5.2fs  ratio %5.2f   [berth: %s]\n' "$1" "$bm" "$dm" "$(echo "scale=2; $bm / $dm" | bc)" "$2"
}

echo "== create per network profile vs docker run -d on the same network ($N runs each, median)"
docker network create --label "$LABEL" -o com.docker.network.bridge.enable_icc=false "$DNET" >/dev/null
row "open (default bridge)" "$(berth_times open)" "$(docker_times)"
# Each cycle's create makes the network and its delete removes it (the last one on it).
row "isolated (network made by create)" "$(berth_times isolated)" "$(docker_times --network "$DNET")"
# With another isolated workspace holding the network, a create only joins it.
"$B" create bench-net-anchor --net-profile isolated >/dev/null 2>&1
row "isolated (network already there)" "$(berth_times isolated)" "$(docker_times --network "$DNET")"
"$B" delete bench-net-anchor --yes >/dev/null
# Offline waits for sshd through the engine (an exec) instead of a port.
row "offline (network none)" "$(berth_times offline)" "$(docker_times --network none)"
docker network rm "$DNET" >/dev/null
