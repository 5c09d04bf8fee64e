#!/usr/bin/env bash
# Prints berth's performance figures (benchmarks, not tests). Needs a running engine
# and the workspace image (scripts/test.sh or scripts/run.sh set those up).
#   scripts/bench.sh            everything
#   scripts/bench.sh create     berth create vs docker run, and 30 concurrent creates
#   scripts/bench.sh tui        TUI: first frame with 50 workspaces, idle cost over 60 s
#   scripts/bench.sh dind       create --docker vs create, stop/start, and image load of a host image
#                               (time, berth's max RSS) vs docker save | docker exec -i SIDECAR docker load
#   scripts/bench.sh shell      shell pane: 20 MB cat and keystroke echo, against tmux + docker exec -it
#   scripts/bench.sh cp         berth cp against docker cp: a 200 MB file and a 2,000-file tree, in and out
#   scripts/bench.sh snapshot   snapshot, restore and fork time, and how long the workspace is paused,
#                               for a small home and a 1 GB one
#   scripts/bench.sh profiles-net  create per network profile (open, isolated, offline) vs
#                               docker run -d on the same network setup (ports 3150-3159)
#   scripts/bench.sh walk       TUI idle cost right after launch and after walking 50 rows down and up,
#                               against oxker (OXKER=/path/to/oxker) and optionally an older berth
#                               (BERTH_BEFORE=/path/to/berth), all in the same run
#   scripts/bench.sh proxy      network profile proxy: 200 sequential HTTP requests through the proxy
#                               sidecar vs direct from an open workspace (a server container the bench
#                               starts), and create --net-profile proxy vs open (ports 3160-3169)
#   scripts/bench.sh egress     the egress audit view with 100 000 records: memory and frame time against
#                               the logs pane (same text), and the real TUI's RSS against less
#   scripts/bench.sh daemon     berth daemon's idle CPU and RSS over 60 s with 3 workspaces (health job on,
#                               then off), against an idle tmux server and a sleep in the same windows
#   scripts/bench.sh runtime    runtime health-check cost: berth's probe of each registered runtime
#                               against docker run --rm --runtime R IMAGE true, alternating, same run
#   scripts/bench.sh pool       warm pool: N cold creates and N warm claims of the general profile, same
#                               run (the pool refilled before each claim, not timed), medians and ratio
#                               (ports 3470-3499; N=POOL_RUNS, default 7)
#   scripts/bench.sh activity   activity probes over 50 workspaces: a round of berth status --json with
#                               every signal counted, without CPU, and with nothing counted (no probe),
#                               against a round of docker exec NAME true over the same 50
#   scripts/bench.sh mcp        MCP tool call latency of exec (echo hi) through berth mcp with the official
#                               Python SDK (one session, per call) against `berth exec NAME -- echo hi` (one
#                               process per call), same workspace, same run, medians and ratio
#                               (ports 3800-3829; N=MCP_RUNS, default 20)
#   scripts/bench.sh agent      berth agent run fake --prompt hi: time to the agent's first output line
#                               (warm image) vs berth create + berth exec of the same clone and script
#                               (scripts/agent-times.sh; ports 3860-3869; AGENT_RUNS, default 5)
#   scripts/bench.sh engines    several engines (scripts/engine-times.sh; root; ports 4400-4430): TUI first
#                               frame with three engines against one, berth list over ssh:// against the
#                               same dockerd's socket (docker CLI over both as the peer), and shell-tab echo
#                               on an ssh:// engine's workspace against ssh + docker exec -it
#   scripts/bench.sh vm         VM workspaces (scripts/vm-times.sh; root; ports 4460-4480): create-to-ssh,
#                               memory (qemu RSS), idle CPU over 30 s and guest CPU speed (sha256sum of 200 MB)
#                               against a container workspace of the same image (and the host for CPU speed),
#                               same run, ratios (VM_RUNS, default 3)
# BENCH_BIN=/path/to/berth skips the release build and measures that binary.
# Frame time with 500 workspaces: cargo bench --bench frame
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
RUN="b$(date +%s)"
LABEL="berth.bench-run=$RUN"
command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null
if [ -n "${BENCH_BIN:-}" ]; then
  B=$BENCH_BIN
else
  cargo build --release --quiet
  B=$PWD/target/release/berth
fi
IMG=berth/workspace:latest
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
# cargo and rustup live under the real home.
ORIG_HOME=$HOME
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/config XDG_STATE_HOME=$WORK/state
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/berth"
ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
printf '[ssh]\nport_range = "3000-3199"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$XDG_CONFIG_HOME/berth/config.toml"
TMUX_SOCK="berth-bench-$$"

cleanup() {
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
  if [ -n "${EVPID:-}" ]; then kill "$EVPID" 2>/dev/null || true; fi
  if [ -n "${DAEMON_PID:-}" ]; then kill "$DAEMON_PID" 2>/dev/null || true; fi
  if [ -n "${SLEEP_PID:-}" ]; then kill "$SLEEP_PID" 2>/dev/null || true; fi
  tmux -L "$TMUX_SOCK-d" kill-server 2>/dev/null || true
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker images -q --filter "label=$LABEL" --filter label=dev.berth.role=snapshot | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "label=$LABEL" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  docker network ls -q --filter "label=$LABEL" | xargs -r docker network rm >/dev/null 2>&1 || true
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

# Warm claim vs cold create of the same profile, alternating, in the same run.
bench_pool() {
  local n=${POOL_RUNS:-7} cold=() warm=() i t0 t1
  local cfg=$XDG_CONFIG_HOME/berth/pool.toml
  printf '[ssh]\nport_range = "3470-3499"\n[labels]\n"berth.bench-run" = "%s"\n[pool]\ngeneral = 1\n' "$RUN" > "$cfg"
  local cold_cfg=$XDG_CONFIG_HOME/berth/cold.toml
  printf '[ssh]\nport_range = "3470-3499"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$cold_cfg"
  echo "== warm claim vs cold create (profile general, $n runs each, median)"
  "$B" --config "$cfg" pool refill >/dev/null
  for i in $(seq 1 "$n"); do
    t0=$(now); "$B" --config "$cold_cfg" create "bench-cold$i" >/dev/null 2>&1; t1=$(now)
    cold+=("$(echo "$t1 - $t0" | bc)")
    # Waits for the background refill the last claim started (the pool lock), so a
    # slot is ready; not timed.
    "$B" --config "$cfg" pool refill >/dev/null
    t0=$(now); out=$("$B" --config "$cfg" create "bench-warm$i" 2>&1); t1=$(now)
    grep -q 'claimed warm' <<<"$out" || echo "run $i: not warm" >&2
    warm+=("$(echo "$t1 - $t0" | bc)")
    "$B" --config "$cold_cfg" delete "bench-cold$i" --yes >/dev/null
    "$B" --config "$cfg" delete "bench-warm$i" --yes >/dev/null
  done
  "$B" --config "$cfg" pool refill >/dev/null
  "$B" --config "$cfg" pool drain >/dev/null
  local cm wm
  cm=$(printf '%s\n' "${cold[@]}" | median); wm=$(printf '%s\n' "${warm[@]}" | median)
  echo "cold create (every step):                         median ${cm}s  [${cold[*]}]"
  echo "warm claim (rename + per-claim steps + commit):   median ${wm}s  [${warm[*]}]"
  echo "ratio warm/cold: $(echo "scale=2; $wm / $cm" | bc)"
}

# The create pipeline step by step: env (a passed-through value), git (a host
# .gitconfig), dotfiles (an inline file), the profile, a setup command, post-start.
bench_steps() {
  echo "== berth create, each step (5 runs, median seconds per step)"
  printf '[user]\n\tname = Bench\n' > "$HOME/.gitconfig"
  local i
  for i in 1 2 3 4 5; do
    BENCH_API_KEY=sk-bench-value "$B" create "bench-s$i" --json --dotfile '.bench=1' \
      --setup true --post-start true 2>/dev/null \
      | python3 -c 'import json,sys; [print(s["label"], s["seconds"]) for s in json.load(sys.stdin)["steps"]]'
    "$B" delete "bench-s$i" --yes >/dev/null
  done | python3 -c '
import sys, statistics
order, runs = [], {}
for line in sys.stdin:
    label, secs = line.rsplit(" ", 1)
    if label not in runs:
        order.append(label)
        runs[label] = []
    runs[label].append(float(secs))
total = 0.0
for label in order:
    m = statistics.median(runs[label])
    total += m
    print(f"{label:12} {m:7.3f} s")
print("sum".ljust(12), f"{total:7.3f} s")
'
  rm -f "$HOME/.gitconfig"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Snapshot, restore and fork against the home's size: seconds (wall, this process) and
# the pause berth measures itself (`paused_ms` in --json), 3 runs each, medians.
bench_snapshot() {
  local size label ws i
  json() { python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }
  for size in 1000000 1000000000; do
    label=$( [ "$size" -ge 1000000000 ] && echo "1 GB" || echo "1 MB")
    ws="bench-snap-$size"
    echo "== snapshot, restore, fork with a $label home (3 runs, medians)"
    "$B" create "$ws" >/dev/null 2>&1
    "$B" exec "$ws" -- sh -c "head -c $size /dev/urandom > ~/data" >/dev/null
    local st=() sp=() rt=() ft=() fp=() t0 t1 out
    for i in 1 2 3; do
      t0=$(now); out=$("$B" snapshot "$ws" --as "bench-s$size-$i" --json); t1=$(now)
      st+=("$(echo "$t1 - $t0" | bc)"); sp+=("$(echo "$out" | json 'v["paused_ms"]')")
      t0=$(now); "$B" restore "bench-s$size-$i" "bench-r$size-$i" >/dev/null 2>&1; t1=$(now)
      rt+=("$(echo "$t1 - $t0" | bc)")
      t0=$(now); out=$("$B" fork "$ws" "bench-f$size-$i" --json 2>/dev/null); t1=$(now)
      ft+=("$(echo "$t1 - $t0" | bc)"); fp+=("$(echo "$out" | json 'v["paused_ms"]')")
      "$B" delete "bench-r$size-$i" --yes >/dev/null; "$B" delete "bench-f$size-$i" --yes >/dev/null
      "$B" snapshot rm "bench-s$size-$i" --yes >/dev/null
    done
    echo "snapshot: median $(printf '%s\n' "${st[@]}" | median)s  [${st[*]}]; paused median $(printf '%s\n' "${sp[@]}" | median) ms  [${sp[*]}]"
    echo "restore:  median $(printf '%s\n' "${rt[@]}" | median)s  [${rt[*]}]"
    echo "fork:     median $(printf '%s\n' "${ft[@]}" | median)s  [${ft[*]}]; paused median $(printf '%s\n' "${fp[@]}" | median) ms  [${fp[*]}]"
    "$B" delete "$ws" --yes >/dev/null
  done
}

# The health check of each registered runtime (a probe container: create, start, wait,
# remove), as berth measures it in `berth doctor --json`, against its peer `docker run
# --rm --runtime R IMAGE true` (wall clock, CLI start included), 7 runs each, alternating.
bench_runtime() {
  echo "== runtime health check: berth's probe vs docker run --rm --runtime R $IMG true (7 runs, medians)"
  local rt i t0 t1 bt dt
  for rt in $(docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}'); do
    case "$rt" in io.containerd.*) continue ;; esac
    bt=(); dt=()
    for i in 1 2 3 4 5 6 7; do
      bt+=("$("$B" doctor --json | python3 -c '
import json, re, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["check"] == "runtime " + sys.argv[1]][0]
print(re.search(r"in ([0-9.]+) s", c["detail"]).group(1))' "$rt")")
      t0=$(now); docker run --rm --runtime "$rt" --label "$LABEL" --network none --entrypoint true "$IMG"; t1=$(now)
      dt+=("$(printf '%.2f' "$(echo "$t1 - $t0" | bc)")")
    done
    printf '%-6s berth probe: median %ss  [%s]\n' "$rt" "$(printf '%s\n' "${bt[@]}" | median)" "${bt[*]}"
    printf '%-6s docker run:  median %ss  [%s]\n' "$rt" "$(printf '%s\n' "${dt[@]}" | median)" "${dt[*]}"
  done
  echo "(every 30 s while the TUI runs, one probe per runtime, one after the other)"
}

# Creates 50 workspaces named $1NN (10 at a time), labelled with this run's label.
make_50() {
  for w in 0 1 2 3 4; do
    for i in $(seq 0 9); do "$B" create "$1$w$i" >/dev/null 2>&1 & done
    wait
  done
}

bench_tui() {
  echo "== TUI with 50 workspaces"
  make_50 bench-t
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
  local cat_berth=0 cat_base=0
  for target in berth base; do
    local runs=()
    for i in 1 2 3; do
      tmux -L "$S" send-keys -t "$target" -l "clear; cat /tmp/20mb.txt; echo; echo CAT-DONE-$i"
      tmux -L "$S" send-keys -t "$target" Enter
      runs+=("$(wait_pane "$S" "$target" "(^|│)CAT-DONE-$i" || { tmux -L "$S" capture-pane -p -t "$target" >&2; echo fail; })")
    done
    echo "$target: cat 20 MB: ${runs[*]} s (median $(printf '%s\n' "${runs[@]}" | median))"
    case $target in
      berth) cat_berth=$(printf '%s\n' "${runs[@]}" | median) ;;
      *) cat_base=$(printf '%s\n' "${runs[@]}" | median) ;;
    esac
  done
  echo "throughput ratio berth/tmux+docker-exec: $(echo "scale=2; $cat_berth / $cat_base" | bc)"
  for target in berth base; do
    tmux -L "$S" send-keys -t "$target" -l "clear; echotest"
    sleep 0.3
    echo "$target: keystroke echo, median of 25: $(echo_latency "$S" "$target") ms"
  done
}

# Sum of CPU ticks (user + system, all threads) of the given pids (missing ones count 0).
ticks_of() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(cpu_ticks "$p"))); done; echo "$t"; }
secs() { printf '%.2f' "$(echo "scale=2; $1 / $(getconf CLK_TCK)" | bc)"; }
pct() { printf '%.1f' "$(echo "scale=3; ($1) * 100 / $WINDOW" | bc)"; }

# The engine's share: dockerd, containerd and the shims of this run's containers.
engine_pids() {
  pgrep -xo dockerd; pgrep -xo containerd || true
  docker ps -q --no-trunc --filter "label=$LABEL" | while read -r id; do pgrep -f -- "-id $id" || true; done
}

# Other people's use of the engine during a window (their tests, builds) would be
# counted as induced CPU: every engine event is logged, and a window that saw
# events of objects without this run's label is measured again (up to TRIES).
watch_events() {
  EVLOG=$WORK/events.log
  docker events --format '{{.TimeNano}} {{index .Actor.Attributes "berth.bench-run"}} {{.Type}} {{.Action}}' > "$EVLOG" 2>/dev/null &
  EVPID=$!
}
foreign_events() { awk -v a="$1" -v b="$2" -v run="$RUN" '$1 >= a && $1 <= b && $2 != run' "$EVLOG" | wc -l; }

# Measures WINDOW seconds: the TUI's own CPU (pid, or none), the engine's CPU, the
# TUI's RSS and sockets. Sets R_<key>_* for the summary; prints one line.
window() {
  local key=$1 what=$2 pid=$3 e0 e1 o0=0 o1=0 t0 t1 own eng ind rss=0 socks=0 foreign try note=""
  local -a eps; mapfile -t eps < <(engine_pids)
  for try in $(seq 1 "$TRIES"); do
    t0=$(date +%s%N)
    if [ -n "$pid" ]; then o0=$(cpu_ticks "$pid"); fi
    e0=$(ticks_of "${eps[@]}")
    sleep "$WINDOW"
    if [ -n "$pid" ]; then o1=$(cpu_ticks "$pid"); fi
    e1=$(ticks_of "${eps[@]}")
    t1=$(date +%s%N)
    foreign=$(foreign_events "$t0" "$t1")
    if [ "$foreign" = 0 ]; then note=""; break; fi
    note="  [disturbed: $foreign engine events from others]"
    if [ "$try" -lt "$TRIES" ]; then echo "  ($what: $foreign engine events from others in the window; measuring again)"; fi
  done
  own=$(secs $((o1 - o0))); eng=$(secs $((e1 - e0)))
  ind=$(printf '%.2f' "$(echo "e=$eng - ${BASE:-0}; if (e < 0) e=0; e" | bc)")
  if [ -n "$pid" ]; then
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    # shellcheck disable=SC2010 # fd links are numbers; their targets name the sockets
    socks=$(ls -l "/proc/$pid/fd" | grep -c socket || true)
  fi
  eval "R_${key}_cpu=$(echo "scale=2; $own + $ind" | bc) R_${key}_raw=$(echo "scale=2; $own + $eng" | bc) R_${key}_rss=$rss R_${key}_socks=$socks R_${key}_eng=$eng"
  printf '%-40s own CPU %6ss  engine CPU %6ss (%s s above idle)  own+induced %5s%% of a core  RSS %6s kB  sockets %3s%s\n' \
    "$what:" "$own" "$eng" "$ind" "$(pct "$own + $ind")" "$rss" "$socks" "$note"
}

# Runs one TUI in tmux: launch, settle, measure; walk every row down and back up; measure.
walk_one() {
  local key=$1 label=$2 cmd=$3 rows=$4 pid i
  tmux -L "$TMUX_SOCK" new-session -d -s walk -x 160 -y 48 "exec env HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm-256color $cmd"
  pid=$(tmux -L "$TMUX_SOCK" display -p -t walk '#{pane_pid}')
  wait_pane "$TMUX_SOCK" walk 'bench-w00' >/dev/null || { echo "$label did not show the workspaces:"; tmux -L "$TMUX_SOCK" capture-pane -p -t walk; exit 1; }
  sleep 5
  window "${key}_launch" "$label, after launch" "$pid"
  for i in $(seq 2 "$rows"); do tmux -L "$TMUX_SOCK" send-keys -t walk j; sleep 0.25; done
  for i in $(seq 2 "$rows"); do tmux -L "$TMUX_SOCK" send-keys -t walk k; sleep 0.25; done
  sleep 5
  window "${key}_walked" "$label, after the walk" "$pid"
  tmux -L "$TMUX_SOCK" kill-session -t walk
  sleep 3
}

ratio() { if [ "$(echo "$2 > 0" | bc)" = 1 ]; then printf '%.2f' "$(echo "scale=3; $1 / $2" | bc)"; else echo "n/a"; fi; }

bench_walk() {
  WINDOW=${WINDOW:-60} TRIES=${TRIES:-5}
  echo "== idle cost after walking the list: 50 workspaces, ${WINDOW} s windows"
  if [ -z "${OXKER:-}" ] || [ ! -x "$OXKER" ]; then
    echo "!!! OXKER is not set to an oxker binary: oxker is NOT measured. Build oxker (github.com/mrjackwills/oxker, latest release tag) with cargo outside this checkout and run OXKER=/path/to/oxker $0 walk" >&2
  fi
  [ -n "${BERTH_BEFORE:-}" ] || echo "(BERTH_BEFORE unset: only this checkout's berth is measured)"
  make_50 bench-w
  local n; n=$(docker ps -aq | wc -l)
  echo "$("$B" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') workspaces; $n containers in the engine (oxker lists them all)"
  watch_events
  window base "engine idle, no TUI" ""
  # shellcheck disable=SC2154 # set by window
  BASE=$R_base_eng
  echo "(the engine's idle CPU, ${BASE} s, is subtracted below as 'above idle')"
  local keys=()
  if [ -n "${BERTH_BEFORE:-}" ]; then walk_one before "berth before ($(basename "$(dirname "$(dirname "$(dirname "$BERTH_BEFORE")")")"))" "$BERTH_BEFORE" 50; keys+=(before); fi
  walk_one after "berth (this checkout)" "$B" 50; keys+=(after)
  if [ -n "${OXKER:-}" ] && [ -x "$OXKER" ]; then walk_one oxker "oxker $("$OXKER" --version 2>/dev/null | awk '{print $NF}')" "$OXKER" "$n"; keys+=(oxker); fi
  echo "== summary (CPU = own + engine above idle, as % of a core over ${WINDOW} s)"
  local k ph c
  for k in "${keys[@]}"; do
    for ph in launch walked; do
      eval "c=\$R_${k}_${ph}_cpu"
      printf '%-7s %-7s CPU %5s%%  RSS %6s kB  sockets %3s' "$k" "$ph" "$(pct "$c")" "$(eval echo "\$R_${k}_${ph}_rss")" "$(eval echo "\$R_${k}_${ph}_socks")"
      if [[ " ${keys[*]} " == *" oxker "* ]] && [ "$k" != oxker ]; then
        printf '   vs oxker: CPU %sx (counting all engine CPU: %sx)' "$(ratio "$c" "$(eval echo "\$R_oxker_${ph}_cpu")")" \
          "$(ratio "$(eval echo "\$R_${k}_${ph}_raw")" "$(eval echo "\$R_oxker_${ph}_raw")")"
      fi
      echo
    done
  done
}

bench_dind() {
  local img=${DIND_IMAGE:-debian:bookworm-slim} sc=workspace-bench-d.docker i t0 t1
  "$B" image present --docker >/dev/null || "$B" image build --docker >/dev/null 2>&1
  echo "== berth create --docker vs create (engine image built; 3 runs each, median)"
  local pt=() dt=()
  for i in 1 2 3; do
    t0=$(now); "$B" create "bench-p$i" >/dev/null 2>&1; t1=$(now); pt+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); "$B" create "bench-d$i" --docker >/dev/null 2>&1; t1=$(now); dt+=("$(echo "$t1 - $t0" | bc)")
    "$B" delete "bench-p$i" --yes >/dev/null; "$B" delete "bench-d$i" --yes >/dev/null
  done
  echo "create:          median $(printf '%s\n' "${pt[@]}" | median)s  [${pt[*]}]"
  echo "create --docker: median $(printf '%s\n' "${dt[@]}" | median)s  [${dt[*]}] (until the inner engine answers)"
  "$B" create bench-d --docker >/dev/null 2>&1
  t0=$(now); "$B" stop bench-d >/dev/null; t1=$(now); echo "stop with Docker inside:  $(echo "$t1 - $t0" | bc)s"
  t0=$(now); "$B" start bench-d >/dev/null 2>&1; t1=$(now); echo "start with Docker inside: $(echo "$t1 - $t0" | bc)s (until the inner engine answers)"
  echo "== berth image load bench-d $img ($(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.0f MB", $1/1e6}'))"
  /usr/bin/time -f "berth image load: %e s, berth's max RSS %M kB" "$B" image load bench-d "$img" 2>&1 >/dev/null | tail -n1
  docker exec "$sc" docker -H tcp://127.0.0.1:2375 rmi "$img" >/dev/null
  t0=$(now); docker save "$img" | docker exec -i "$sc" docker -H tcp://127.0.0.1:2375 load >/dev/null; t1=$(now)
  echo "docker save | docker exec -i $sc docker load: $(echo "$t1 - $t0" | bc)s"
  "$B" delete bench-d --yes >/dev/null
}

# berth cp against docker cp of the same thing, into and out of one workspace:
# a 200 MB file and a tree of 2,000 4 KiB files; 5 runs each, medians and ratios.
bench_cp() {
  echo "== berth cp vs docker cp (5 runs each, median seconds; ratio = berth / docker)"
  "$B" create bench-cp >/dev/null 2>&1
  local C=workspace-bench-cp D=$WORK/cp
  mkdir -p "$D/tree"
  head -c 200M /dev/urandom > "$D/big.bin"
  local i j
  for i in $(seq 1 20); do
    mkdir -p "$D/tree/d$i"
    for j in $(seq 1 100); do head -c 4096 /dev/urandom > "$D/tree/d$i/f$j"; done
  done
  # One case: $1 label, then the berth and docker commands (run with `eval`), and a
  # clean-up between runs.
  cp_case() {
    local label=$1 bcmd=$2 dcmd=$3 clean=$4 bt=() dt=() k t0 t1
    for k in 1 2 3 4 5; do
      eval "$clean"; sync
      t0=$(now); eval "$bcmd" >/dev/null; t1=$(now); bt+=("$(echo "$t1 - $t0" | bc)")
      eval "$clean"; sync
      t0=$(now); eval "$dcmd" >/dev/null 2>&1; t1=$(now); dt+=("$(echo "$t1 - $t0" | bc)")
    done
    local bm dm
    bm=$(printf '%s\n' "${bt[@]}" | median); dm=$(printf '%s\n' "${dt[@]}" | median)
    printf '%-22s berth %7ss  docker %7ss  ratio %s\n' "$label" "$bm" "$dm" "$(echo "scale=2; $bm / $dm" | bc)"
  }
  # What docker cp copies in belongs to root, which has no capabilities inside the
  # workspace: a plain container on the home volume cleans up.
  local rm_in="docker run --rm --label '$LABEL' -v $C:/v debian:bookworm-slim rm -rf /v/in"
  cp_case "200 MB file, in" "\"$B\" cp '$D/big.bin' bench-cp:in" "docker cp '$D/big.bin' $C:/home/workspace/in" "$rm_in"
  cp_case "2,000-file tree, in" "\"$B\" cp '$D/tree' bench-cp:in" "docker cp '$D/tree' $C:/home/workspace/in" "$rm_in"
  "$B" cp "$D/big.bin" bench-cp:big.bin >/dev/null
  "$B" cp "$D/tree" bench-cp:tree >/dev/null
  cp_case "200 MB file, out" "\"$B\" cp bench-cp:big.bin '$D/out'" "docker cp $C:/home/workspace/big.bin '$D/out'" "rm -rf '$D/out'"
  cp_case "2,000-file tree, out" "\"$B\" cp bench-cp:tree '$D/out'" "docker cp $C:/home/workspace/tree '$D/out'" "rm -rf '$D/out'"
  "$B" delete bench-cp --yes >/dev/null
  rm -rf "$D"
}

# Network profile proxy: what the proxy costs a request and a create. A server
# container (socat answering "hello") on a network of the bench's own as srv.bench
# and on the default bridge; the proxy workspace reaches it through its sidecar
# (joined to that network), the open one directly on the bridge. Each request's
# time_total as curl measures it (its own start-up left out), 200 in a row.
bench_proxy() {
  local n=200 i t0 t1 img net=bench-proxy-$RUN srv=bench-proxy-srv-$RUN ip
  printf '[ssh]\nport_range = "3160-3169"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$XDG_CONFIG_HOME/berth/config.toml"
  "$B" image present --proxy >/dev/null || "$B" image build --proxy >/dev/null 2>&1
  img=$("$B" image present --proxy --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["image"])')
  echo "== berth create --net-profile proxy vs --net-profile open (proxy image built; 3 runs each, median)"
  local ot=() pt=()
  for i in 1 2 3; do
    t0=$(now); "$B" create "bench-o$i" --net-profile open >/dev/null 2>&1; t1=$(now); ot+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now); "$B" create "bench-x$i" --net-profile proxy >/dev/null 2>&1; t1=$(now); pt+=("$(echo "$t1 - $t0" | bc)")
    "$B" delete "bench-o$i" --yes >/dev/null; "$B" delete "bench-x$i" --yes >/dev/null
  done
  local om pm
  om=$(printf '%s\n' "${ot[@]}" | median); pm=$(printf '%s\n' "${pt[@]}" | median)
  echo "create --net-profile open:  median ${om}s  [${ot[*]}]"
  echo "create --net-profile proxy: median ${pm}s  [${pt[*]}] (internal network, proxy sidecar started, sshd answering through it)"
  echo "ratio: $(echo "scale=2; $pm / $om" | bc)"

  echo "== $n sequential HTTP requests: through the proxy vs direct (curl's time_total, median and p95, ms)"
  docker network create --label "$LABEL" "$net" >/dev/null
  # The server: answers each request (read up to its blank line) with "hello".
  printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n' > "$WORK/resp"
  cat > "$WORK/srv.sh" <<'EOS'
while read -r l; do [ "$l" = "$(printf '\r')" ] && break; done
cat /bench/resp
EOS
  docker run -d --label "$LABEL" --name "$srv" --network "$net" --network-alias srv.bench \
    -v "$WORK/srv.sh:/bench/srv.sh:ro" -v "$WORK/resp:/bench/resp:ro" --entrypoint socat "$img" \
    TCP-LISTEN:8080,fork,reuseaddr "SYSTEM:bash /bench/srv.sh" >/dev/null
  docker network connect bridge "$srv"
  ip=$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' "$srv")
  "$B" create bench-open --net-profile open >/dev/null 2>&1
  "$B" create bench-proxy --net-profile proxy >/dev/null 2>&1
  docker network connect "$net" workspace-bench-proxy.proxy
  local loop='for i in $(seq 1 '$n'); do curl -s -o /dev/null -w "%{time_total}\n" "$0"; done'
  # One warm-up each (DNS, the proxy's first connection).
  "$B" exec bench-open -- sh -c "$loop" "http://$ip:8080/" >/dev/null
  "$B" exec bench-proxy -- sh -c "$loop" http://srv.bench:8080/ >/dev/null
  stats() { sort -n | awk '{a[NR]=$1*1000} END {printf "median %.2f  p95 %.2f", a[int((NR+1)/2)], a[int(NR*0.95)]}'; }
  t0=$(now); local d p
  d=$("$B" exec bench-open -- sh -c "$loop" "http://$ip:8080/" | stats); t1=$(now)
  echo "direct (open workspace -> server):       $d  ($n requests in $(echo "$t1 - $t0" | bc)s wall)"
  t0=$(now)
  p=$("$B" exec bench-proxy -- sh -c "$loop" http://srv.bench:8080/ | stats); t1=$(now)
  echo "through the proxy (proxy -> Squid -> srv): $p  ($n requests in $(echo "$t1 - $t0" | bc)s wall)"
  local logged
  logged=$(docker logs workspace-bench-proxy.proxy 2>/dev/null | grep -c '^berth-egress ' || true)
  echo "audit lines in the sidecar's output: $logged (2 x $n requests made)"
  "$B" delete bench-open --yes >/dev/null; "$B" delete bench-proxy --yes >/dev/null
  docker rm -f "$srv" >/dev/null; docker network rm "$net" >/dev/null
}

# One activity round over 50 workspaces (sequential, one berth process each) with
# every signal, without CPU (no 0.25 s sample), and with nothing counted (berth
# status without any probe: the difference is the probe's cost), against one
# `docker exec NAME true` round over the same 50.
bench_activity() {
  local n=50 i t0 t1 cfg=$XDG_CONFIG_HOME/berth/config.toml
  echo "== activity probes over $n workspaces (sequential rounds, same run)"
  for i in $(seq -w 1 $n); do
    docker run -d --name "workspace-bench-a$i" --label "$LABEL" \
      --label dev.berth.role=workspace --label "dev.berth.name=bench-a$i" \
      --cap-drop ALL --security-opt no-new-privileges "$IMG" >/dev/null
  done
  sleep 2
  local base; base=$(cat "$cfg")
  round() { t0=$(now); for i in $(seq -w 1 $n); do "$@" "bench-a$i"; done; t1=$(now); echo "$t1 - $t0" | bc; }
  status() { "$B" status "$1" --json >/dev/null; }
  dexec() { docker exec "workspace-$1" true; }
  local all nocpu none dx
  printf '%s\n[activity]\ncount = ["ssh", "shells", "processes", "cpu", "ports"]\n' "$base" > "$cfg"
  all=$(round status)
  printf '%s\n[activity]\ncount = ["ssh", "shells", "processes", "ports"]\n' "$base" > "$cfg"
  nocpu=$(round status)
  printf '%s\n[activity]\ncount = []\n' "$base" > "$cfg"
  none=$(round status)
  echo "$base" > "$cfg"
  dx=$(round dexec)
  echo "berth status --json, every signal:       ${all}s for $n"
  echo "berth status --json, all but CPU:        ${nocpu}s for $n"
  echo "berth status --json, nothing counted:    ${none}s for $n (no probe)"
  echo "docker exec NAME true:                   ${dx}s for $n"
  echo "probe cost (all but CPU - none) / docker exec round: $(ratio "$(echo "$nocpu - $none" | bc)" "$dx")"
  echo "probe cost (every signal - none) / docker exec round: $(ratio "$(echo "$all - $none" | bc)" "$dx")"
  docker ps -aq --filter "label=$LABEL" | xargs -r docker rm -f >/dev/null
}

bench_egress() {
  echo "== egress audit view with 100 000 records against the logs pane with the same 100 000 lines (cargo bench --bench egress)"
  HOME=$ORIG_HOME cargo bench --quiet --bench egress 2>/dev/null | grep -v '^$'
  echo "== the real TUI with 100 000 records in its audit view (RSS) against less on the same text"
  local n=bench-egress W=workspace-bench-egress
  docker run -d --init --name "$W" --label "$LABEL" --label dev.berth.role=workspace --label dev.berth.name=$n \
    --label dev.berth.net-profile=proxy debian:bookworm-slim sleep infinity >/dev/null
  docker run -d --init --name "$W.proxy" --label "$LABEL" --label dev.berth.role=sidecar --label dev.berth.name=$n \
    --label dev.berth.sidecar=proxy debian:bookworm-slim sleep infinity >/dev/null
  # 100 000 audit lines (one in 7 denied) into the fake proxy's log, as Squid writes them.
  docker exec "$W.proxy" sh -c 'awk "BEGIN{for(i=0;i<100000;i++){d=(i%7==0); printf \"berth-egress %d.%03d GET api%d.example.com 80 %d %d %s http://api%d.example.com/v1/items/%d\\n\", 1764100000+int(i/100), i%1000, i%50, d?403:200, 200+i, d?\"TCP_DENIED\":\"TCP_MISS\", i%50, i}}" > /proc/1/fd/1'
  # The engine copies a container's output to its log a little after it is written.
  local k; for k in $(seq 1 100); do
    docker logs "$W.proxy" > "$WORK/audit.txt" 2>&1
    [ "$(wc -l < "$WORK/audit.txt")" -ge 100000 ] && break; sleep 0.2
  done
  echo "audit text: $(wc -l < "$WORK/audit.txt") lines, $(du -k "$WORK/audit.txt" | cut -f1) kB"
  local T="tmux -L $TMUX_SOCK"
  waitfor() { local i; for i in $(seq 1 600); do $T capture-pane -p -t "$1" | grep -q -- "$2" && return 0; sleep 0.2; done; echo "timed out waiting for $2" >&2; return 1; }
  rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
  $T new-session -d -s eg -x 120 -y 40 "exec $B"
  local bp; bp=$($T display -p -t eg '#{pane_pid}')
  waitfor eg "REQ/DENIED"; waitfor eg "100000/14286"
  sleep 2; local base; base=$(rss "$bp")
  $T send-keys -t eg E
  waitfor eg "100000 requests, 14286 denied"
  sleep 2; local open; open=$(rss "$bp")
  $T new-session -d -s less -x 120 -y 40 "exec less $WORK/audit.txt"
  local lp; lp=$($T display -p -t less '#{pane_pid}')
  sleep 1; $T send-keys -t less G; waitfor less "items/99999"
  sleep 1; local lr; lr=$(rss "$lp")
  echo "berth TUI RSS: list with live counters ${base} kB; audit view open on 100 000 records ${open} kB (+$((open - base)) kB)"
  echo "less on the same 100 000 lines, at the end: ${lr} kB"
  echo "ratio: audit view's added memory / less: $(echo "scale=2; ($open - $base) / $lr" | bc); whole berth TUI / less: $(echo "scale=2; $open / $lr" | bc)"
  $T kill-session -t eg 2>/dev/null || true; $T kill-session -t less 2>/dev/null || true
  docker rm -f "$W.proxy" "$W" >/dev/null
}

# berth daemon idle: its own CPU time and RSS from /proc over 60 s, next to peers
# measured in the same window (an idle tmux server, a sleep), and the engine's CPU.
daemon_window() {
  local label=$1 hz; hz=$(getconf CLK_TCK)
  "$B" daemon 2>"$WORK/daemon.err" & local dp=$!; DAEMON_PID=$dp
  sleep 5
  local d; d=$(pgrep -xo dockerd)
  local tp; tp=$(tmux -L "$TMUX_SOCK-d" display -p '#{pid}')
  local b0 t0 s0 e0; b0=$(cpu_ticks "$dp"); t0=$(cpu_ticks "$tp"); s0=$(cpu_ticks "$SLEEP_PID"); e0=$(cpu_ticks "$d")
  sleep 60
  local b1 t1 s1 e1; b1=$(cpu_ticks "$dp"); t1=$(cpu_ticks "$tp"); s1=$(cpu_ticks "$SLEEP_PID"); e1=$(cpu_ticks "$d")
  local brss trss; brss=$(awk '/VmRSS/ {print $2}' "/proc/$dp/status"); trss=$(awk '/VmRSS/ {print $2}' "/proc/$tp/status")
  kill -TERM "$dp"; wait "$dp" || true
  echo "$label: berth daemon CPU $(secs $((b1-b0)))s, RSS ${brss} kB | tmux server CPU $(secs $((t1-t0)))s, RSS ${trss} kB | sleep CPU $(secs $((s1-s0)))s | dockerd CPU $(secs $((e1-e0)))s"
  echo "$label: daemon/tmux RSS ratio $(ratio "$brss" "$trss")"
}

bench_daemon() {
  echo "== berth daemon idle for 60 s with 3 workspaces (CPU time and RSS from /proc)"
  printf '[ssh]\nport_range = "3690-3699"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$XDG_CONFIG_HOME/berth/config.toml"
  for i in 1 2 3; do "$B" create "bench-d$i" --ssh-key "$HOME/.ssh/id_ed25519.pub" >/dev/null 2>&1; done
  tmux -L "$TMUX_SOCK-d" new-session -d -s idle "sleep 3600"
  sleep 3600 & SLEEP_PID=$!
  daemon_window "health every 30 s"
  printf '[jobs]\nhealth_interval = "never"\n' >> "$XDG_CONFIG_HOME/berth/config.toml"
  daemon_window "health off"
  kill "$SLEEP_PID"; tmux -L "$TMUX_SOCK-d" kill-server
}

# MCP: the exec call's latency in a running session (what an agent waits for) against
# a `berth exec` process (what a script waits for), alternating blocks, same workspace.
bench_mcp() {
  local n=${MCP_RUNS:-20} cli=() mcp=() i t0 t1 py
  local cfg=$XDG_CONFIG_HOME/berth/mcp.toml
  printf '[ssh]\nport_range = "3800-3829"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$cfg"
  py=$(BERTH_MCP_VENV=${BERTH_MCP_VENV:-$ORIG_HOME/.cache/berth-test/mcp-venv} scripts/mcp-venv.sh)
  echo "== MCP exec (echo hi) vs berth exec -- echo hi ($n runs each in 2 alternating blocks, median)"
  "$B" --config "$cfg" create bench-mcp >/dev/null 2>&1
  for _ in 1 2; do
    for i in $(seq 1 $((n / 2))); do
      t0=$(now); "$B" --config "$cfg" exec bench-mcp -- echo hi >/dev/null; t1=$(now)
      cli+=("$(echo "$t1 - $t0" | bc)")
    done
    # The server reads the same config as the CLI (BERTH_CONFIG).
    mapfile -t -O "${#mcp[@]}" mcp < <(BERTH_CONFIG=$cfg "$py" tests/mcp/client.py --bench "$B" bench-mcp $((n / 2)))
  done
  "$B" --config "$cfg" delete bench-mcp --yes >/dev/null
  local cm mm
  cm=$(printf '%s\n' "${cli[@]}" | median); mm=$(printf '%s\n' "${mcp[@]}" | median)
  echo "berth exec NAME -- echo hi (a process each):       median ${cm}s  [${cli[*]}]"
  echo "MCP containers(operation=exec) (one session):      median ${mm}s  [${mcp[*]}]"
  echo "ratio MCP/berth exec: $(ratio "$mm" "$cm")"
}

case "$what" in
  mcp) bench_mcp ;;
  daemon) bench_daemon ;;
  dind) bench_dind ;;
  proxy) bench_proxy ;;
  cp) bench_cp ;;
  shell) bench_shell ;;
  create) bench_create ;;
  tui) bench_tui ;;
  walk) bench_walk ;;
  # Profiles: each profile image's cold build, then a create with it cached, against
  # `docker run -d` of the same image (scripts/profile-times.sh).
  profiles) "$(dirname "$0")/profile-times.sh" "$B" ;;
  # Network profiles: a create per profile vs docker run -d on the same network setup.
  profiles-net) "$(dirname "$0")/net-profile-times.sh" "$B" "$RUN" ;;
  steps) bench_steps ;;
  snapshot) bench_snapshot ;;
  egress) bench_egress ;;
  runtime) bench_runtime ;;
  pool) bench_pool ;;
  activity) bench_activity ;;
  agent) "$(dirname "$0")/agent-times.sh" "$B" "$RUN" ;;
  engines) "$(dirname "$0")/engine-times.sh" "$B" "$RUN" ;;
  # The VM assets are shared with the tests' cache under the real home.
  vm) BERTH_VM_CACHE=${BERTH_VM_CACHE:-$ORIG_HOME/.cache/berth-test/vm-cache} "$(dirname "$0")/vm-times.sh" "$B" "$RUN" ;;
  all) bench_create; bench_tui; bench_shell; echo "== frame time: cargo bench --bench frame"; cargo bench --quiet --bench frame 2>/dev/null | grep -v '^$' ;;
  *) echo "usage: $0 [create|mcp|tui|shell|walk|profiles|profiles-net|steps|dind|cp|snapshot|proxy|egress|runtime|daemon|agent|engines|vm|all]" >&2; exit 2 ;;
esac
