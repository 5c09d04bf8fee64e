#!/usr/bin/env bash
# Several engines, measured (called by scripts/bench.sh engines with the binary and
# the run's label; needs root, a running dockerd and berth/workspace:latest; ports
# 4400-4430, so it can run beside the test suite). It starts
# two extra dockerds of its own (own data-root, exec-root, socket, bridge, subnet;
# iptables off) and a local sshd on 127.0.0.1:4430 in front of the first, so berth
# reaches it as an ssh:// engine (the remote's `docker system dial-stdio`), then:
#   1. TUI first frame with three engines (default, far = ssh://, two = unix) against
#      one (default only): since launch, from berth's log;
#   2. berth list over ssh:// against the same dockerd's own socket, and the docker CLI
#      over both as the peer (ENGINE_RUNS each, alternating, medians and ratios);
#   3. keystroke echo in a TUI shell tab on a workspace of the ssh:// engine against a
#      tmux pane running ssh + docker exec -it into the same workspace.
# Everything it starts it stops by PID; its directories and bridges are removed.
set -euo pipefail
B=$1
RUN=$2
N=${ENGINE_RUNS:-10}
[ "$(id -u)" = 0 ] || { echo "engine-times.sh: starting extra dockerds and sshd needs root" >&2; exit 1; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { printf '%.2f' "$(echo "scale=3; $1 / $2" | bc)"; }
D=$(mktemp -d /tmp/bet.XXXX)
SSHD_PORT=4430
PIDS=() BRIDGES=()
S="berth-engines-$$"

finish() {
  tmux -L "$S" kill-server 2>/dev/null || true
  "$B" --engine far delete bench-far --yes >/dev/null 2>&1 || true
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; kill -KILL "$p" 2>/dev/null || true; done
  # What those dockerds started (their containerd and shims name the directory).
  pgrep -f "$D" | xargs -r kill -KILL 2>/dev/null || true
  grep -o " ${D}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  for b in "${BRIDGES[@]}"; do ip link del "$b" 2>/dev/null || true; done
  rm -rf "$D"
}
trap finish EXIT

start_dockerd() { # tag net
  local tag=$1 net=$2 dir=$D/$1
  mkdir -p "$dir"; echo '{}' > "$dir/daemon.json"
  ip link add "br-be-$tag" type bridge; BRIDGES+=("br-be-$tag")
  ip addr add "10.$net.0.1/24" dev "br-be-$tag"; ip link set "br-be-$tag" up
  dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/x" \
    --pidfile "$dir/docker.pid" -H "unix://$dir/docker.sock" --bridge "br-be-$tag" \
    --iptables=false --ip-masq=false --ip-forward=false \
    --containerd-namespace "bench-$RUN-$tag" --containerd-plugins-namespace "bench-$RUN-$tag-p" \
    --shutdown-timeout 3 --log-level warn >"$dir/dockerd.log" 2>&1 </dev/null &
  PIDS+=("$!")
  for _ in $(seq 1 300); do docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1 && break; sleep 0.3; done
  docker save berth/workspace:latest | docker -H "unix://$dir/docker.sock" load -q >/dev/null
}

echo "== several engines: starting two extra dockerds and an sshd in front of one"
start_dockerd far 205
start_dockerd two 206
FAR_SOCK=$D/far/docker.sock
# sshd on loopback in front of `far`: `docker system dial-stdio` there reaches far's socket.
mkdir -p "$D/sshd" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$D/sshd/host"
cp "$HOME/.ssh/id_ed25519.pub" "$D/sshd/authorized_keys"
cat > "$D/sshd/config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $D/sshd/host
PidFile $D/sshd/pid
AuthorizedKeysFile $D/sshd/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
SetEnv DOCKER_HOST=unix://$FAR_SOCK
CFG
/usr/sbin/sshd -D -e -f "$D/sshd/config" 2>"$D/sshd/log" &
PIDS+=("$!")
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SSHD_PORT") 2>/dev/null && break; sleep 0.1; done
# ssh reads ~/.ssh/config of the passwd entry, not $HOME: a wrapper names the file.
echo "far-host $(cut -d' ' -f1,2 "$D/sshd/host.pub")" > "$HOME/.ssh/known_hosts"
cat > "$HOME/.ssh/config" <<CFG
Host far-host
  HostName 127.0.0.1
  Port $SSHD_PORT
  User root
  HostKeyAlias far-host
  IdentityFile $HOME/.ssh/id_ed25519
  IdentitiesOnly yes
Host *
  UserKnownHostsFile $HOME/.ssh/known_hosts
  GlobalKnownHostsFile /dev/null
CFG
mkdir -p "$D/bin"
printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$HOME/.ssh/config" > "$D/bin/ssh"
chmod 755 "$D/bin/ssh"
export PATH=$D/bin:$PATH
# Its own ports (4400-4429, none of the test suite's), so it can run beside it.
CFG_FILE=$XDG_CONFIG_HOME/berth/config.toml
ONE=$XDG_CONFIG_HOME/berth/one.toml
printf '[ssh]\nport_range = "4400-4409"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$ONE"
cp "$ONE" "$CFG_FILE"
cat >> "$CFG_FILE" <<CFG
[engines.far]
host = "ssh://far-host"
port_range = "4410-4419"
[engines.two]
host = "unix://$D/two/docker.sock"
port_range = "4420-4429"
[engines.near]
host = "unix://$FAR_SOCK"
port_range = "4410-4419"
CFG

"$B" --engine far create bench-far >/dev/null 2>&1
"$B" create bench-def >/dev/null 2>&1
"$B" --engine two create bench-two >/dev/null 2>&1

first_frame() { # config-file label
  local log=$XDG_STATE_HOME/berth/berth.log line
  rm -f "$log"
  tmux -L "$S" new-session -d -s ff -x 160 -y 48 "exec env PATH=$PATH HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm-256color $B --config $1"
  for _ in $(seq 1 300); do grep -q "$2" "$log" 2>/dev/null && break; sleep 0.05; done
  line=$(grep "$2" "$log" | head -1)
  tmux -L "$S" kill-session -t ff
  sleep 0.5
  echo "$line" | grep -o 'since_launch_ms=[0-9]*' | cut -d= -f2
}
echo "== TUI first frame: three engines (default, far over ssh://, two) against one (default)"
f1=() f3=()
for _ in 1 2 3; do
  f1+=("$(first_frame "$ONE" "first frame listing workspaces")")
  f3+=("$(first_frame "$CFG_FILE" "first frame with every engine heard from")")
done
m1=$(printf '%s\n' "${f1[@]}" | median); m3=$(printf '%s\n' "${f3[@]}" | median)
echo "one engine:    first frame listing workspaces ${m1} ms  [${f1[*]}]"
echo "three engines: first frame with every engine heard from ${m3} ms  [${f3[*]}]"
echo "ratio three/one: $(ratio "$m3" "$m1")"

echo "== list latency: berth over ssh:// against the same dockerd's socket ($N runs each, alternating)"
bs=() bu=() ds=() du=()
for _ in $(seq 1 "$N"); do
  t0=$(now); "$B" --engine far list >/dev/null; t1=$(now); bs+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); "$B" --engine near list >/dev/null; t1=$(now); bu+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); docker -H ssh://far-host ps -a >/dev/null; t1=$(now); ds+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); docker -H "unix://$FAR_SOCK" ps -a >/dev/null; t1=$(now); du+=("$(echo "$t1 - $t0" | bc)")
done
mbs=$(printf '%s\n' "${bs[@]}" | median); mbu=$(printf '%s\n' "${bu[@]}" | median)
mds=$(printf '%s\n' "${ds[@]}" | median); mdu=$(printf '%s\n' "${du[@]}" | median)
echo "berth --engine far list (ssh://):   median ${mbs}s"
echo "berth --engine near list (socket):  median ${mbu}s   ratio ssh/socket $(ratio "$mbs" "$mbu")"
echo "docker -H ssh:// ps -a:             median ${mds}s"
echo "docker -H unix:// ps -a:            median ${mdu}s   ratio ssh/socket $(ratio "$mds" "$mdu")"
echo "berth over ssh:// against docker over ssh://: $(ratio "$mbs" "$mds")"

echo "== shell-tab echo on a workspace of the ssh:// engine against ssh + docker exec -it"
wait_pane() {
  for _ in $(seq 1 3000); do tmux -L "$S" capture-pane -p -t "$1" | grep -qE "$2" && return 0; sleep 0.01; done
  tmux -L "$S" capture-pane -p -t "$1" >&2; return 1
}
echo_latency() {
  local ts=() c i t0 t1
  for i in $(seq 1 25); do
    c=$(printf "\\$(printf '%03o' $((97 + i % 26)))")
    t0=$(now)
    tmux -L "$S" send-keys -t "$1" -l "$c"
    for _ in $(seq 1 2000); do
      tmux -L "$S" capture-pane -p -t "$1" | grep -qE "echotest[a-z]*$c" && break
      sleep 0.001
    done
    t1=$(now)
    ts+=("$(echo "($t1 - $t0) * 1000" | bc)")
    tmux -L "$S" send-keys -t "$1" BSpace
    sleep 0.05
  done
  printf '%s\n' "${ts[@]}" | median
}
tmux -L "$S" new-session -d -s berth -x 160 -y 48 "exec env PATH=$PATH HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_STATE_HOME=$XDG_STATE_HOME TERM=xterm-256color $B --engine far"
sleep 2
tmux -L "$S" send-keys -t berth / ; tmux -L "$S" send-keys -t berth -l bench-far; tmux -L "$S" send-keys -t berth Enter; sleep 0.5
tmux -L "$S" send-keys -t berth Enter
wait_pane berth 'workspace@bench-far'
tmux -L "$S" new-session -d -s base -x 160 -y 48 "exec ssh -tt far-host docker exec -it -e TERM=xterm-256color workspace-bench-far bash -l"
wait_pane base 'workspace@bench-far'
for t in berth base; do
  tmux -L "$S" send-keys -t "$t" -l "clear; echotest"
  sleep 0.3
  case $t in
    berth) eb=$(echo_latency berth) ;;
    *) ex=$(echo_latency base) ;;
  esac
done
echo "berth shell tab (ssh through the engine host's sshd to the workspace): median ${eb} ms"
echo "ssh far-host + docker exec -it:                                       median ${ex} ms"
echo "ratio berth/ssh+docker-exec: $(ratio "$eb" "$ex")"
"$B" delete bench-def --yes >/dev/null
"$B" --engine two delete bench-two --yes >/dev/null
