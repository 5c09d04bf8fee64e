#!/usr/bin/env bash
# Get a Docker engine and berth's images in place, idempotently. Each step installs the
# Debian packages it needs when run as root; without root it says what to run instead.
#
#   scripts/engine.sh ensure          install docker.io if missing, register gVisor (runsc) when
#                                     Debian has it, start dockerd if none answers (through
#                                     systemd where systemd runs)
#   scripts/engine.sh images BERTH    make the base image if absent (pull, else debootstrap +
#                                     docker import), then build the workspace image and the
#                                     Docker engine image (`create --docker`), the log
#                                     forwarder image (`create --forward-logs`) and the
#                                     proxy image (`--net-profile proxy`) with BERTH
#   scripts/engine.sh up              exit 0 if an engine answers
#   scripts/engine.sh stop            stop dockerd, only if this script started it
#   scripts/engine.sh restart         stop and start dockerd (tests use this; only a dockerd this
#                                     script started, or one managed by systemd)
#   scripts/engine.sh kill|start      the two halves of restart, for tests that watch the gap
#
# Environment: BERTH_BASE_IMAGE   the base image (default debian:bookworm-slim)
#              BERTH_BASE_PULL=0  do not try a registry: make the base with debootstrap
#              BERTH_BASE_LABELS  "k=v k=v": labels put on a base made here
#              BERTH_ENGINE_POOL  a dockerd started here (not through systemd) makes its
#                                 networks in this range, /24 each, instead of Docker's
#                                 default pools (scripts/test.sh sets it)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PIDFILE=/run/berth-dockerd.pid
# Present while a docker.service this script started runs (`stop` stops only that).
SYSTEMD_MARK=/run/berth-dockerd.systemd
LOCK=/run/berth-engine.lock
LOG=/var/log/berth-dockerd.log
BASE_IMAGE=${BERTH_BASE_IMAGE:-debian:bookworm-slim}

need_root() {
  if ! is_root; then
    say "$1 needs root; run: sudo $(cd "$(dirname "$0")" && pwd)/engine.sh $2"
    exit 1
  fi
}

systemd_runs() { [ -d /run/systemd/system ]; }
systemd_unit() { systemd_runs && systemctl cat docker.service >/dev/null 2>&1; }
systemd_managed() { systemd_runs && systemctl is-active --quiet docker 2>/dev/null; }

# A live dockerd whose PID this script wrote (a reused PID is not ours).
we_started_it() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]
}

wait_up() {
  local _
  for _ in $(seq 1 120); do
    if engine_up; then say "dockerd is up"; return 0; fi
    sleep 0.5
  done
  say "dockerd did not answer within 60 s; see ${1:-$LOG}"
  [ -z "${1:-}" ] && tail -n 20 "$LOG" >&2
  exit 1
}

start_dockerd() {
  if engine_up; then return 0; fi
  need_root "starting dockerd" ensure
  if systemd_unit; then
    say "starting docker.service"
    systemctl start docker.service
    touch "$SYSTEMD_MARK"
    wait_up "journalctl -u docker"
    return 0
  fi
  if we_started_it; then
    say "dockerd pid $(cat "$PIDFILE") (started earlier) is still starting"
    wait_up
    return 0
  fi
  say "starting dockerd (log: $LOG)"
  rm -f "$PIDFILE"
  # Its own session, so a Ctrl-C in the terminal that ran this never reaches it; no
  # inherited descriptors (the lock) either.
  local pool=()
  if [ -n "${BERTH_ENGINE_POOL:-}" ]; then
    pool=(--default-address-pool "base=$BERTH_ENGINE_POOL,size=24")
    say "networks from $BERTH_ENGINE_POOL (BERTH_ENGINE_POOL)"
  fi
  setsid nohup dockerd --pidfile "$PIDFILE" "${pool[@]}" >>"$LOG" 2>&1 </dev/null 9>&- &
  wait_up
}

kill_dockerd() {
  if systemd_managed; then
    systemctl stop docker.service docker.socket
    rm -f "$SYSTEMD_MARK"
  elif we_started_it; then
    local pid _; pid=$(cat "$PIDFILE")
    say "stopping dockerd pid $pid"
    kill "$pid"
    # dockerd gives running containers 15 s to stop before it exits.
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
    say "dockerd pid $pid did not exit within 60 s"
    exit 1
  elif engine_up; then
    say "the running dockerd was not started by this script or systemd; not touching it"
    exit 1
  fi
}

stop() {
  if { [ -f "$SYSTEMD_MARK" ] && systemd_managed; } || we_started_it; then need_root "stopping dockerd" stop; fi
  if [ -f "$SYSTEMD_MARK" ] && systemd_managed; then
    kill_dockerd
  elif we_started_it; then
    kill_dockerd
  fi
}

# Registers Debian's runsc in /etc/docker/daemon.json; prints "changed" when it wrote it.
register_gvisor() {
  is_root || return 0
  if ! command -v runsc >/dev/null 2>&1; then
    # Where Debian has no runsc (after an update), do not ask apt again on every run.
    if ! apt-cache show runsc >/dev/null 2>&1 && compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
      return 0
    fi
    apt_install "gVisor (optional)" runsc \
      || { say "gVisor (runsc) is not installable here; workspaces run with runc"; return 0; }
  fi
  need "registering runsc in /etc/docker/daemon.json" python3:python3 || exit 1
  python3 - "$(command -v runsc)" <<'PY'
import json, os, sys
path = "/etc/docker/daemon.json"
cfg = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read().strip()
        cfg = json.loads(text) if text else {}
rt = cfg.setdefault("runtimes", {})
want = {"path": sys.argv[1], "runtimeArgs": ["--network=host"]}
if rt.get("runsc") != want:
    rt["runsc"] = want
    os.makedirs("/etc/docker", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
    os.replace(path + ".tmp", path)
    print("changed")
PY
}

# A running dockerd reads a new runtime on SIGHUP (running containers are not disturbed).
reload_engine() {
  if systemd_managed; then
    systemctl reload docker.service
  elif we_started_it; then
    kill -HUP "$(cat "$PIDFILE")"
  else
    say "runsc was registered in /etc/docker/daemon.json; reload the running dockerd (kill -HUP its pid) to use it"
    return 0
  fi
  local _
  for _ in $(seq 1 20); do
    [[ $(docker info --format '{{json .Runtimes}}' 2>/dev/null || true) == *'"runsc"'* ]] && return 0
    sleep 0.5
  done
  say "dockerd did not pick up runsc after a reload; see $LOG"
}

ensure() {
  if engine_up && ! is_root; then return 0; fi
  # The docker CLI always (these scripts and the tests use it); dockerd unless an engine answers.
  if ! command -v docker >/dev/null 2>&1 || { ! engine_up && ! command -v dockerd >/dev/null 2>&1; }; then
    apt_install "the container engine" docker.io || exit 1
    # Under systemd the package starts docker.service itself: this set-up started it.
    if systemd_managed; then touch "$SYSTEMD_MARK"; fi
  fi
  if ! engine_up && ! is_root; then
    say "$(no_engine_hint "$(cd "$(dirname "$0")" && pwd)/engine.sh ensure")"
    exit 1
  fi
  # One set-up at a time (two first runs at once would start two dockerds).
  exec 9>"$LOCK"
  flock 9
  local changed; changed=$(register_gvisor)
  if engine_up; then
    if [ "$changed" = changed ]; then reload_engine; fi
    return 0
  fi
  start_dockerd
}

# Unmounts what a killed debootstrap left mounted under $ROOTFS, then removes it
# without crossing into another file system.
ROOTFS=""
remove_rootfs() {
  [ -n "$ROOTFS" ] || return 0
  findmnt -rno TARGET | grep -F "$ROOTFS/" | sort -r | xargs -r -n1 umount -l || true
  rm -rf --one-file-system "$ROOTFS" || true
  ROOTFS=""
}
trap remove_rootfs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_base BERTH (BERTH only for the message to someone without root).
make_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  if [ "${BERTH_BASE_PULL:-1}" != 0 ]; then
    say "base image $BASE_IMAGE absent; trying to pull it"
    if timeout 60 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
    say "no registry answers"
  fi
  need_root "making the base image $BASE_IMAGE with debootstrap" "images $(realpath "$1")"
  say "making $BASE_IMAGE with debootstrap (about a minute)"
  need "making the base image" debootstrap:debootstrap || exit 1
  local mirror
  # The first Debian mirror apt itself uses (deb lines or deb822 URIs:), never a commented one.
  mirror=$(grep -rhE '^[[:space:]]*(deb[[:space:]]|URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^[:space:]]+' | grep -E '/debian(/|$)' | grep -v security | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  ROOTFS=$(mktemp -d /var/tmp/berth-rootfs.XXXXXX)
  if ! debootstrap --variant=minbase bookworm "$ROOTFS" "$mirror" >/var/log/berth-debootstrap.log 2>&1; then
    say "debootstrap failed; see /var/log/berth-debootstrap.log"
    tail -n 5 /var/log/berth-debootstrap.log >&2
    exit 1
  fi
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  local changes=(--change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' --change 'LABEL dev.berth.role=base')
  local label
  for label in ${BERTH_BASE_LABELS:-}; do changes+=(--change "LABEL $label"); done
  tar -C "$ROOTFS" -c . | docker import "${changes[@]}" \
    -m "berth: debootstrap --variant=minbase bookworm" - "$BASE_IMAGE" >/dev/null
  remove_rootfs
  say "made $BASE_IMAGE"
}

images() {
  local berth=${1:?usage: engine.sh images PATH_TO_BERTH}
  if ! engine_up; then
    if is_root; then
      say "no container engine answers; start one first: $(cd "$(dirname "$0")" && pwd)/engine.sh ensure"
    else
      say "$(no_engine_hint "$(cd "$(dirname "$0")" && pwd)/engine.sh ensure")"
    fi
    exit 1
  fi
  make_base "$berth"
  if ! "$berth" image present >/dev/null 2>&1; then
    "$berth" image build --base "$BASE_IMAGE"
  fi
  if ! "$berth" image present --docker >/dev/null 2>&1; then
    "$berth" image build --docker --base "$BASE_IMAGE"
  fi
  if ! "$berth" image present --logs >/dev/null 2>&1; then
    "$berth" image build --logs --base "$BASE_IMAGE"
  fi
  if ! "$berth" image present --proxy >/dev/null 2>&1; then
    "$berth" image build --proxy --base "$BASE_IMAGE"
  fi
}

case "${1:-}" in
  ensure) ensure ;;
  images) shift; images "$@" ;;
  up) engine_up ;;
  stop) stop ;;
  restart) need_root "restarting dockerd" restart; kill_dockerd; start_dockerd ;;
  kill) need_root "stopping dockerd" kill; kill_dockerd ;;
  start) start_dockerd ;;
  *) echo "usage: $0 ensure|up|images BERTH|stop|restart|kill|start" >&2; exit 2 ;;
esac
