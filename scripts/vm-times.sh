#!/usr/bin/env bash
# VM workspaces (--provider vm, QEMU microVM; TCG where the host has no VMX/SVM)
# measured against container workspaces of the same image, in the same run (called
# by scripts/bench.sh vm with the binary and the run's label; root; a running
# dockerd, qemu and berth/workspace:latest; ports 4460-4480, so it can run beside
# the test suite):
#   1. create-to-ssh: berth create until `berth ssh NAME -- true` answers, VM against
#      container (VM_RUNS each, alternating, medians and ratio); the first VM create,
#      which makes the kernel, initramfs and base disk when missing, is reported apart;
#   2. memory: the VM's QEMU RSS against the container's memory use (docker stats),
#      both idle, after the same settle time;
#   3. idle CPU over 30 s, both in the same window: QEMU's utime+stime against the
#      container's cgroup CPU time;
#   4. guest CPU speed: `head -c 200000000 /dev/zero | sha256sum` timed inside the VM,
#      inside the container and on the host (bash's time, inside each).
# The VM assets are shared with the tests' cache ($BERTH_VM_CACHE, default
# ~/.cache/berth-test/vm-cache of the caller). Every workspace is deleted through
# berth; any QEMU left under this run's state directory is killed by its pid.
set -euo pipefail
B=$1
RUN=$2
N=${VM_RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "vm-times.sh: needs root (QEMU's user networking and the engine)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "vm-times.sh: qemu-system-x86_64 is missing; run scripts/setup.sh test as root" >&2; exit 1; }
export XDG_CACHE_HOME=${BERTH_VM_CACHE:-$HOME/.cache/berth-test/vm-cache}
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { if [ "$(echo "$2 > 0" | bc)" = 1 ]; then printf '%.2f' "$(echo "scale=3; $1 / $2" | bc)"; else echo "n/a (peer 0)"; fi; }
mkdir -p "$XDG_STATE_HOME"
CFG=$XDG_CONFIG_HOME/berth/vm-bench.toml
printf '[ssh]\nport_range = "4460-4480"\n[labels]\n"berth.bench-run" = "%s"\n' "$RUN" > "$CFG"
b() { "$B" --config "$CFG" "$@"; }
MACHINES=$XDG_STATE_HOME/berth/vm/machines
NAMES=()

qemu_pid() { # machine dir -> pid of its live qemu (its command line names the dir)
  local p; p=$(cat "$1/qemu.pid" 2>/dev/null) || return 1
  tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q -- "$1" && echo "$p"
}
vm_pid_of() { # workspace name -> its qemu pid
  local d
  for d in "$MACHINES"/*/; do
    d=${d%/}
    grep -q "\"workspace-$1\"" "$d/record.json" 2>/dev/null && qemu_pid "$d" && return 0
  done
  return 1
}
finish() {
  local n d p
  for n in "${NAMES[@]}"; do b delete "$n" --yes >/dev/null 2>&1 || true; done
  for d in "$MACHINES"/*/; do
    [ -d "$d" ] || continue
    p=$(qemu_pid "${d%/}") || continue
    echo "vm-times.sh: qemu $p outlived delete; killing it" >&2
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap finish EXIT

# Called in $(...), a subshell: the caller records the name in NAMES (for finish).
create_to_ssh() { # name args... -> seconds until ssh answers
  local name=$1; shift
  local t0 t1; t0=$(now)
  b create "$name" "$@" >/dev/null 2>"$XDG_STATE_HOME/create-$name.err" \
    || { echo "create $name failed:" >&2; cat "$XDG_STATE_HOME/create-$name.err" >&2; return 1; }
  b ssh "$name" -- true
  t1=$(now)
  echo "$t1 - $t0" | bc
}
VM_ARGS=(--provider vm --net-profile open --disk 2g)
CT_ARGS=(--net-profile open)

echo "== VM workspaces against container workspaces (same image, same run)"
NAMES+=(bench-vm0)
t=$(create_to_ssh bench-vm0 "${VM_ARGS[@]}")
echo "first VM create (assets made if missing in $XDG_CACHE_HOME): ${t}s"
b delete bench-vm0 --yes >/dev/null

echo "== create-to-ssh ($N runs each, alternating, medians)"
vt=() ct=()
for i in $(seq 1 "$N"); do
  NAMES+=("bench-vm$i" "bench-ct$i")
  vt+=("$(create_to_ssh "bench-vm$i" "${VM_ARGS[@]}")")
  ct+=("$(create_to_ssh "bench-ct$i" "${CT_ARGS[@]}")")
  if [ "$i" -lt "$N" ]; then
    b delete "bench-vm$i" --yes >/dev/null; b delete "bench-ct$i" --yes >/dev/null
  fi
done
vm_m=$(printf '%s\n' "${vt[@]}" | median); ct_m=$(printf '%s\n' "${ct[@]}" | median)
echo "VM:        median ${vm_m}s  [${vt[*]}]"
echo "container: median ${ct_m}s  [${ct[*]}]"
echo "ratio VM/container: $(ratio "$vm_m" "$ct_m")"

# The last pair stays up for the rest: idle, same settle time.
V=bench-vm$N C=bench-ct$N
vpid=$(vm_pid_of "$V") || { echo "no qemu for $V" >&2; exit 1; }
cpid=$(docker inspect -f '{{.State.Pid}}' "workspace-$C")
sleep 15
b list --json | python3 -c '
import json, sys
w = [w for w in json.load(sys.stdin) if w["name"] == sys.argv[1]][0]
m = w.get("memory_limit")
print("VM: accel", w["labels"].get("dev.berth.vm-accel", "?"), "| guest memory",
      f"{m >> 20} MiB" if m else "default", "| runtime", w.get("runtime"))' "$V"

echo "== memory, idle (15 s after create)"
vm_kb=$(awk '/VmRSS/{print $2}' "/proc/$vpid/status")
ct_b=$(docker stats --no-stream --format '{{.MemUsage}}' "workspace-$C" | awk '{print $1}' | python3 -c '
import re, sys
m = re.match(r"([0-9.]+)([KMG]i?B|B)", sys.stdin.read().strip())
u = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30, "kB": 1000, "MB": 10**6, "GB": 10**9}
print(int(float(m.group(1)) * u[m.group(2)]))')
ct_kb=$((ct_b / 1024))
echo "VM (qemu RSS):                                  ${vm_kb} kB"
echo "container (docker stats, page cache excluded): ${ct_kb} kB"
echo "ratio VM/container: $(ratio "$vm_kb" "$ct_kb")"

# CPU time of the container's cgroup, in ns (cgroup v1 cpuacct or v2 cpu.stat).
ct_cpu_ns() {
  local line path
  line=$(grep -E '^[0-9]+:(cpu,cpuacct|cpuacct,cpu|cpuacct):' "/proc/$cpid/cgroup" | head -1 || true)
  if [ -n "$line" ]; then
    path=${line#*:*:}
    for root in /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct; do
      [ -r "$root$path/cpuacct.usage" ] && { cat "$root$path/cpuacct.usage"; return; }
    done
  fi
  path=$(grep -m1 '^0::' "/proc/$cpid/cgroup" | cut -d: -f3)
  awk '/^usage_usec/{print $2 * 1000}' "/sys/fs/cgroup$path/cpu.stat"
}
vm_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$vpid/stat"; }

echo "== idle CPU over 30 s (same window)"
v0=$(vm_cpu_ms); c0=$(ct_cpu_ns)
sleep 30
v1=$(vm_cpu_ms); c1=$(ct_cpu_ns)
vm_ms=$(echo "$v1 - $v0" | bc); ct_ms=$(echo "scale=1; ($c1 - $c0) / 1000000" | bc)
echo "VM (qemu utime+stime): ${vm_ms} ms = $(echo "scale=2; $vm_ms / 300" | bc)% of a core"
echo "container (cgroup):    ${ct_ms} ms = $(echo "scale=2; $ct_ms / 300" | bc)% of a core"
echo "ratio VM/container: $(ratio "$vm_ms" "$ct_ms")"

echo "== guest CPU speed: head -c 200000000 /dev/zero | sha256sum, timed inside each"
CMD='TIMEFORMAT=%R; time (head -c 200000000 /dev/zero | sha256sum >/dev/null)'
ht=$(bash -c "$CMD" 2>&1 | tail -1)
vs=$(b exec "$V" -- bash -c "$CMD" 2>&1 | tail -1)
cs=$(b exec "$C" -- bash -c "$CMD" 2>&1 | tail -1)
# The guest's clock under TCG is checked against the host's: the same run timed from outside.
t0=$(now); b exec "$V" -- bash -c "$CMD" >/dev/null 2>&1; t1=$(now)
echo "host:      ${ht}s"
echo "VM:        ${vs}s (its own clock; from the host, with exec's own cost: $(echo "$t1 - $t0" | bc)s)"
echo "container: ${cs}s"
echo "ratio VM/host: $(ratio "$vs" "$ht"); container/host: $(ratio "$cs" "$ht")"
