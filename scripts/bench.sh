#!/usr/bin/env bash
# Prints berth's performance figures (benchmarks, not tests). Needs a running engine
# and the workspace image (scripts/test.sh or scripts/run.sh set those up).
#   scripts/bench.sh            everything
#   scripts/bench.sh create     berth create vs docker run, and 30 concurrent creates
#   scripts/bench.sh tui        TUI: first frame with 50 workspaces, idle cost over 60 s
#   scripts/bench.sh shell      shell pane: 20 MB cat and keystroke echo, against tmux + docker exec -it
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

# Polls a tmux pane until its text matches a regex; prints the seconds it took.
wait_pane() {
  local sock=$1 target=$2 re=$3 t0 t1
  t0=$(now)
  for _ in $(seq 1 6000); do
    if tmux -L "$sock" capture-pane -p -t "$target" | grep -qE "$re"; then t1=$(now); echo "$t1 - $t0" | bc; return 0; fi
    sleep 0.005
  done
  echo "timeout"; return 1
}

# Sends one key and measures until it shows in the pane: median of 25 keystrokes.
echo_latency() {
  local sock=$1 target=$2 ts=() c
  for i in $(seq 1 25); do
    c=$(printf "\\$(printf '%03o' $((97 + i % 26)))")
    t0=$(now)
    tmux -L "$sock" send-keys -t "$target" -l "$c"
    for _ in $(seq 1 2000); do
      tmux -L "$sock" capture-pane -p -t "$target" | grep -q "echo-test-$i$c" && break
      tmux -L "$sock" capture-pane -p -t "$target" | grep -qE "echotest[a-z]*$c" && break
      sleep 0.001
    done
    t1=$(now)
    ts+=("$(echo "($t1 - $t0) * 1000" | bc)")
    tmux -L "$sock" send-keys -t "$target" BSpace
    sleep 0.05
  done
  printf '%s\n' "${ts[@]}" | median
}

bench_shell() {
  echo "== shell pane throughput and echo latency (berth's pane vs a tmux pane running docker exec -it)"
  "$B" create bench-sh >/dev/null 2>&1
  "$B" exec bench-sh -- sh -c 'yes "the quick brown fox jumps over the lazy dog 0123456789" | head -c 20971520 > /tmp/20mb.txt'
  local S="$TMUX_SOCK"
  # berth: outer tmux 160x48 runs berth; a shell tab on bench-sh.
  tmux -L "$S" new-session -d -s berth -x 160 -y 48 "exec env HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm-256color $B"
  sleep 1
  tmux -L "$S" send-keys -t berth / ; tmux -L "$S" send-keys -t berth -l bench-sh; tmux -L "$S" send-keys -t berth Enter; sleep 0.5
  tmux -L "$S" send-keys -t berth Enter
  wait_pane "$S" berth 'workspace@bench-sh' >/dev/null || { tmux -L "$S" capture-pane -p -t berth; exit 1; }
  # baseline: a tmux pane of the same size running docker exec -it.
  tmux -L "$S" new-session -d -s base -x 160 -y 48 "exec docker exec -it -e TERM=xterm-256color workspace-bench-sh bash -l"
  wait_pane "$S" base 'workspace@bench-sh' >/dev/null
  for target in berth base; do
    local runs=()
    for i in 1 2 3; do
      tmux -L "$S" send-keys -t "$target" -l "clear; cat /tmp/20mb.txt; echo; echo CAT-DONE-$i"
      tmux -L "$S" send-keys -t "$target" Enter
      runs+=("$(wait_pane "$S" "$target" "(^|│)CAT-DONE-$i" || { tmux -L "$S" capture-pane -p -t "$target" >&2; echo fail; })")
    done
    echo "$target: cat 20 MB: ${runs[*]} s (median $(printf '%s\n' "${runs[@]}" | median))"
    eval "cat_$target=$(printf '%s\n' "${runs[@]}" | median)"
  done
  echo "throughput ratio berth/tmux+docker-exec: $(echo "scale=2; $cat_berth / $cat_base" | bc)"
  for target in berth base; do
    tmux -L "$S" send-keys -t "$target" -l "clear; echotest"
    sleep 0.3
    echo "$target: keystroke echo, median of 25: $(echo_latency "$S" "$target") ms"
  done
}

case "$what" in
  shell) bench_shell ;;
  create) bench_create ;;
  tui) bench_tui ;;
  all) bench_create; bench_tui; bench_shell; echo "== frame time: cargo bench --bench frame"; cargo bench --quiet --bench frame 2>/dev/null | grep -v '^$' ;;
  *) echo "usage: $0 [create|tui|shell|all]" >&2; exit 2 ;;
esac
