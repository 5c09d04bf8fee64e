#!/bin/sh
# berth's Docker engine sidecar, run as root on every start: makes the cgroup
# hierarchies the inner engine needs writable, then runs dockerd on
# localhost:2375 of the workspace's network namespace. berth gives the sidecar a
# tmpfs on /run, so what a killed engine leaves there (pid files, sockets, runc's
# state) is gone on the next start; the data volume holds only /var/lib/docker.
# Arguments: extra dockerd flags (berth passes --shutdown-timeout, and
# --registry-mirror URL when one is configured).
set -eu

say() { echo "berth-dockerd: $*" >&2; }

if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  # cgroup v2 (a private namespace): writable, this shell moved out of the root
  # group so the controllers can be handed down to the groups dockerd makes.
  mount -o remount,rw /sys/fs/cgroup 2>/dev/null || say "cannot remount /sys/fs/cgroup read-write"
  mkdir -p /sys/fs/cgroup/init
  while read -r pid; do
    echo "$pid" > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :
  done < /sys/fs/cgroup/cgroup.procs
  for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || say "cannot enable cgroup controller $c"
  done
else
  # cgroup v1: the engine gave this container read-only hierarchies; a fresh
  # tmpfs over them with each hierarchy the host uses mounted read-write at its
  # own name (the host may keep cpu and cpuacct apart), and systemd's named one.
  mount -t tmpfs -o mode=0755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
  for c in $(awk 'NR > 1 && $2 != 0 && $4 == 1 { print $1 }' /proc/cgroups); do
    mkdir -p "/sys/fs/cgroup/$c"
    mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" || say "cannot mount cgroup controller $c"
  done
  mkdir -p /sys/fs/cgroup/systemd
  mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd \
    || say "cannot mount the name=systemd cgroup hierarchy"
fi

exec dockerd --host tcp://127.0.0.1:2375 --default-cgroupns-mode private "$@"
