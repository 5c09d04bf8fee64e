#!/usr/bin/env bash
# Prints berth's performance figures (benchmarks, not tests). Needs a running engine
# and the workspace image (scripts/test.sh or scripts/run.sh set those up).
#   scripts/bench.sh            everything
#   scripts/bench.sh create     berth create vs docker run, and 30 concurrent creates
#   scripts/bench.sh tui        TUI: first frame with 50 workspaces, idle cost over 60 s
# Frame time with 500 workspaces: cargo bench --bench frame
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
RUN="b$(date +%s)"
LABEL="berth.bench-run=$RUN"
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null
cargo build --release --quiet
B=$PWD/target/release/berth
IMG=berth/workspace:latest
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_STATE_HOME=$WORK/state
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/berth"
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
printf '[ssh]\nport_range = "3000-3199"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$XDG_CONFIG_HOME/berth/config.toml"
TMUX_SOCK="berth-bench-$$"

cleanup() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "label=$LABEL" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

bench_create() {
  echo "== berth create vs docker run -d (same image, 7 runs each, median)"
  local bt=() dt=()
  for i in $(seq 1 7); do
    t0=$(now); "$B" create "bench-c$i" >/dev/null 2>&1; t1=$(now)
    bt+=("$(echo "$t1 - $t0" | bc)")
    "$B" delete "bench-c$i" --yes >/dev/null
    t0=$(now); docker run -d --label "$LABEL" "$IMG" >/dev/null; t1=$(now)
    dt+=("$(echo "$t1 - $t0" | bc)")
  done
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null
  bm=$(printf '%s\n' "${bt[@]}" | median); dm=$(printf '%s\n' "${dt[@]}" | median)
  echo "berth create (volume, port, container, keys, sshd answering, host key pinned): median ${bm}s  [${bt[*]}]"
  echo "docker run -d (container started, nothing waited for):                      median ${dm}s  [${dt[*]}]"
  echo "ratio: $(echo "scale=2; $bm / $dm" | bc)"

  echo "== 30 concurrent creates, 30 berth processes"
  t0=$(now)
  for i in $(seq -w 1 30); do "$B" create "bench-p$i" >/dev/null 2>&1 & done
  wait
  t1=$(now)
  n=$("$B" list --json | python3 -c 'import json,sys; print(len({w["ssh_port"] for w in json.load(sys.stdin) if w["name"].startswith("bench-p")}))')
  echo "30 concurrent creates: $(echo "$t1 - $t0" | bc)s wall, $n distinct ports"
  for i in $(seq -w 1 30); do "$B" delete "bench-p$i" --yes >/dev/null & done
  wait
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

bench_tui() {
  echo "== TUI with 50 workspaces"
  for w in 0 1 2 3 4; do
    for i in $(seq 0 9); do "$B" create "bench-t$w$i" >/dev/null 2>&1 & done
    wait
  done
  echo "$("$B" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') workspaces present"
  local hz; hz=$(getconf CLK_TCK)
  rm -f "$XDG_STATE_HOME/berth/berth.log"
  tmux -L "$TMUX_SOCK" new-session -d -s b -x 160 -y 48 "exec env HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm-256color $B"
  local pid; pid=$(tmux -L "$TMUX_SOCK" display -p -t b '#{pane_pid}')
  for _ in $(seq 1 100); do grep -q "first frame listing workspaces" "$XDG_STATE_HOME/berth/berth.log" 2>/dev/null && break; sleep 0.1; done
  grep "first frame listing workspaces" "$XDG_STATE_HOME/berth/berth.log" | sed 's/.*INFO [^ ]*: /first frame: /'
  sleep 5
  local d; d=$(pgrep -xo dockerd); local c; c=$(pgrep -xo containerd || true)
  b0=$(cpu_ticks "$pid"); d0=$(cpu_ticks "$d"); c0=$( [ -n "$c" ] && cpu_ticks "$c" || echo 0)
  sleep 60
  b1=$(cpu_ticks "$pid"); d1=$(cpu_ticks "$d"); c1=$( [ -n "$c" ] && cpu_ticks "$c" || echo 0)
  echo "idle 60 s, 50 workspaces, TUI open: berth CPU $(echo "scale=2; ($b1-$b0)/$hz" | bc)s; dockerd CPU $(echo "scale=2; ($d1-$d0)/$hz" | bc)s; containerd CPU $(echo "scale=2; ($c1-$c0)/$hz" | bc)s"
  echo "berth resident memory: $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")"
  tmux -L "$TMUX_SOCK" send-keys -t b q
  # Baseline: the engine's own idle CPU with the same 50 workspaces and no berth.
  sleep 2
  d0=$(cpu_ticks "$d"); c0=$( [ -n "$c" ] && cpu_ticks "$c" || echo 0)
  sleep 60
  d1=$(cpu_ticks "$d"); c1=$( [ -n "$c" ] && cpu_ticks "$c" || echo 0)
  echo "baseline 60 s without berth: dockerd CPU $(echo "scale=2; ($d1-$d0)/$hz" | bc)s; containerd CPU $(echo "scale=2; ($c1-$c0)/$hz" | bc)s"
}

case "$what" in
  create) bench_create ;;
  tui) bench_tui ;;
  all) bench_create; bench_tui; echo "== frame time: cargo bench --bench frame"; cargo bench --quiet --bench frame 2>/dev/null | grep -v '^$' ;;
  *) echo "usage: $0 [create|tui|all]" >&2; exit 2 ;;
esac
