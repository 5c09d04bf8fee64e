#!/bin/busybox sh
# shellcheck shell=dash
# berth's init for VM workspaces (embedded in berth, put in the initramfs as /init).
#
# Stage 1 (busybox, in the initramfs): load the virtio drivers, mount the root
# disk (the VM's qcow2 overlay over the image's read-only base) and the home
# disk, name the machine, set up the network when there is a network device,
# authorize berth's key, mount what a container would have (devpts, /dev/shm,
# tmpfs on /run, /tmp, and /run/berth for passed-through values), copy this
# script to /run and switch to the image's root running it again as stage 2.
#
# Stage 2 (the image's /bin/sh, as PID 1): listen on the control port
# (virtio-serial `berth.ctl`: a `poweroff` line stops the VM cleanly), run the
# image's entrypoint as uid 1000 like the container does (no no_new_privs:
# sudo keeps working), and power off when the entrypoint exits.
#
# Kernel command line: berth.hostname=NAME, berth.authkey=TYPE,BASE64 (berth's
# PUBLIC key). Lines starting `berth-init:` go to the console (the workspace's log).

if [ "${1:-}" != stage2 ]; then
  /bin/busybox --install -s /bin
  mkdir -p /sbin && ln -sf /bin/busybox /sbin/modprobe   # the kernel's request_module() helper
  export PATH=/bin
  mkdir -p /proc /sys /dev /newroot
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  say() { echo "berth-init: $*"; }
  fail() { say "$*; powering off"; sync; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }
  HOST=workspace AUTHKEY='' ROOT=/dev/vda HOME_DEV=/dev/vdb
  for a in $(cat /proc/cmdline); do
    case "$a" in
      berth.hostname=*) HOST=${a#*=} ;;
      berth.authkey=*) AUTHKEY=${a#*=} ;;
    esac
  done
  say "booting $HOST ($(uname -r))"
  for m in virtio_mmio virtio_blk virtio_net virtio_rng virtio_console crc32c ext4; do
    modprobe -q "$m" 2>/dev/null
  done
  i=0
  while { [ ! -b "$ROOT" ] || [ ! -b "$HOME_DEV" ]; } && [ $i -lt 500 ]; do usleep 10000; i=$((i + 1)); done
  mount -t ext4 -o rw,noatime "$ROOT" /newroot || fail "cannot mount the root disk $ROOT"
  mkdir -p /newroot/home/workspace
  # never run without the home disk: what the user writes would land in the root overlay
  mount -t ext4 -o rw,noatime "$HOME_DEV" /newroot/home/workspace || fail "cannot mount the home disk $HOME_DEV"
  hostname "$HOST"
  echo "$HOST" > /newroot/etc/hostname
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$HOST" > /newroot/etc/hosts
  ip link set lo up
  if [ -e /sys/class/net/eth0 ]; then
    # QEMU's user-mode network: the guest is 10.0.2.15, the host 10.0.2.2, DNS 10.0.2.3
    ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
      || say "cannot configure eth0"
    echo "nameserver 10.0.2.3" > /newroot/etc/resolv.conf
  else
    say "no network device"
    : > /newroot/etc/resolv.conf
  fi
  # berth's own key, always authorized (even if the user rewrites ~/.ssh/authorized_keys)
  mkdir -p /newroot/etc/berth
  if [ -n "$AUTHKEY" ]; then
    echo "$AUTHKEY" | tr ',' ' ' > /newroot/etc/berth/vm_authorized_keys
  else
    say "no berth.authkey on the kernel command line"
    : > /newroot/etc/berth/vm_authorized_keys
  fi
  chown 0:0 /newroot/etc/berth/vm_authorized_keys
  chmod 0644 /newroot/etc/berth/vm_authorized_keys
  CFG=/newroot/etc/berth/sshd_config
  KEYS="AuthorizedKeysFile .ssh/authorized_keys /etc/berth/vm_authorized_keys"
  if grep -q '^AuthorizedKeysFile' "$CFG" 2>/dev/null; then
    sed -i "s|^AuthorizedKeysFile.*|$KEYS|" "$CFG"
  else
    echo "$KEYS" >> "$CFG"
  fi
  mount --move /dev /newroot/dev
  mkdir -p /newroot/dev/pts /newroot/dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/dev/shm
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /newroot/run
  mkdir -p /newroot/run/sshd /newroot/run/berth
  mount -t tmpfs -o uid=1000,gid=1000,mode=0700,size=4m,nosuid,nodev,noexec tmpfs /newroot/run/berth
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /newroot/tmp
  cp /init /newroot/run/berth-init.sh
  umount /proc /sys
  exec switch_root /newroot /bin/sh /run/berth-init.sh stage2
fi

# Stage 2: PID 1 in the image's root.
say() { echo "berth-init: $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
CTL=
for n in /sys/class/virtio-ports/*/name; do
  [ "$(cat "$n" 2>/dev/null)" = berth.ctl ] && CTL=/dev/$(basename "$(dirname "$n")")
done
if [ -n "$CTL" ]; then
  # read sees EOF while no host client is attached: poll, act only on an explicit line;
  # the port stays open (fd 3) so a line sent while this sleeps is kept
  (
    while :; do
      if read -r cmd <&3; then [ "$cmd" = poweroff ] && break; else sleep 1; fi
    done 3<"$CTL"
    say "poweroff requested, stopping the workspace"
    kill -TERM -1; sleep 5; kill -KILL -1
  ) &
else
  say "no control port: berth can only stop this VM hard"
fi
say "starting the workspace entrypoint"
cd /home/workspace || cd /
setpriv --reuid=1000 --regid=1000 --init-groups \
  env -i HOME=/home/workspace USER=workspace LOGNAME=workspace SHELL=/bin/bash LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /usr/local/bin/berth-entrypoint &
wait $!
say "entrypoint exited ($?), powering off"
kill -TERM -1; sleep 1; kill -KILL -1
sync
mount -o remount,ro /home/workspace
mount -o remount,ro /
sync
say "disks synced, powered off cleanly"
echo o > /proc/sysrq-trigger
while :; do read -r _ < /dev/console; done  # builtins only: no exec from a disk going away
