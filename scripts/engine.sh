#!/usr/bin/env bash
# Get a Docker engine and berth's images in place, idempotently.
#
#   scripts/engine.sh ensure          install docker.io if missing, start dockerd if none runs,
#                                     register gVisor (runsc) if installed
#   scripts/engine.sh images BERTH    make the Debian base image if absent (pull, else debootstrap +
#                                     docker import), then build the workspace image with BERTH
#   scripts/engine.sh up              exit 0 if an engine answers
#   scripts/engine.sh stop            stop dockerd, only if this script started it (by its PID)
#   scripts/engine.sh restart         stop and start dockerd (tests use this; only a dockerd this
#                                     script started, or one managed by systemd)
#   scripts/engine.sh kill|start      the two halves of restart, for tests that watch the gap
set -euo pipefail

PIDFILE=/run/berth-dockerd.pid
LOG=/var/log/berth-dockerd.log
BASE_IMAGE=${BERTH_BASE_IMAGE:-debian:bookworm-slim}

say() { echo "engine.sh: $*" >&2; }

engine_up() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    say "this step needs root: $*"
    exit 1
  fi
}

install_engine() {
  if command -v dockerd >/dev/null 2>&1; then return; fi
  need_root "install docker.io (apt-get install docker.io)"
  say "installing docker.io from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
}

register_gvisor() {
  # gVisor is optional; register it when Debian's runsc is installable/installed.
  command -v runsc >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null 2>&1 || true
  command -v runsc >/dev/null 2>&1 || return 0
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
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
PY
}

start_dockerd() {
  need_root "start dockerd"
  say "starting dockerd (log: $LOG)"
  rm -f "$PIDFILE"
  nohup dockerd --pidfile "$PIDFILE" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    if engine_up; then say "dockerd is up"; return 0; fi
    sleep 0.5
  done
  say "dockerd did not come up in 30 s; see $LOG"
  tail -n 20 "$LOG" >&2 || true
  exit 1
}

we_started_it() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

systemd_managed() {
  [ -d /run/systemd/system ] && systemctl is-active --quiet docker 2>/dev/null
}

kill_dockerd() {
  if systemd_managed; then
    systemctl stop docker docker.socket
  elif we_started_it; then
    local pid; pid=$(cat "$PIDFILE")
    say "stopping dockerd pid $pid"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  else
    say "dockerd was not started by this script or systemd; not touching it"
    exit 1
  fi
}

start_again() {
  if [ -d /run/systemd/system ] && systemctl cat docker >/dev/null 2>&1; then
    systemctl start docker
  else
    start_dockerd
  fi
}

ensure() {
  install_engine
  command -v debootstrap >/dev/null 2>&1 || { need_root "install debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  if [ "$(id -u)" = 0 ]; then register_gvisor; fi
  if engine_up; then
    # Pick up a runtime registered just now without disturbing running containers.
    if we_started_it; then kill -HUP "$(cat "$PIDFILE")" 2>/dev/null || true; fi
    return 0
  fi
  start_dockerd
}

make_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  say "base image $BASE_IMAGE absent; trying to pull it"
  if timeout 60 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  say "no registry reachable; making $BASE_IMAGE with debootstrap (about 30 s)"
  need_root "debootstrap"
  local mirror
  # The first Debian mirror apt itself uses (deb lines or deb822 URIs:), never a commented one.
  mirror=$(grep -rhE '^[[:space:]]*(deb[[:space:]]|URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  local root; root=$(mktemp -d /var/tmp/berth-rootfs.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/var/log/berth-debootstrap.log 2>&1 \
    || { say "debootstrap failed; see /var/log/berth-debootstrap.log"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
    -m "berth: debootstrap --variant=minbase bookworm" - "$BASE_IMAGE" >/dev/null
  say "made $BASE_IMAGE"
}

images() {
  local berth=${1:?usage: engine.sh images PATH_TO_BERTH}
  make_base
  if "$berth" image present >/dev/null 2>&1; then return 0; fi
  "$berth" image build
}

case "${1:-}" in
  ensure) ensure ;;
  images) shift; images "$@" ;;
  up) engine_up ;;
  stop) if we_started_it; then kill_dockerd; fi ;;
  restart) kill_dockerd; start_again ;;
  kill) kill_dockerd ;;
  start) start_again ;;
  *) echo "usage: $0 ensure|up|images BERTH|stop|restart|kill|start" >&2; exit 2 ;;
esac
