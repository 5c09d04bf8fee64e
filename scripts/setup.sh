#!/usr/bin/env bash
# The set-up both README commands share, idempotent and quick when everything is in place:
# the tools, a running engine, berth built, the base and the workspace images.
#
#   scripts/setup.sh run    for scripts/run.sh: builds target/release/berth
#   scripts/setup.sh test   for scripts/test.sh: builds every target (debug), tmux for the e2e tests
#
# As root it installs and starts what is missing; otherwise it says in one sentence what
# to run. Everything it prints goes to stderr (stdout stays berth's).
set -euo pipefail
cd "$(dirname "$0")/.."
exec >&2
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

mode=${1:-}
case "$mode" in
  run) profile=release; caller=run.sh ;;
  test) profile=debug; caller=test.sh ;;
  *) echo "usage: scripts/setup.sh run|test" >&2; exit 2 ;;
esac

if ! is_root && ! engine_up; then
  say "$(no_engine_hint "$(pwd)/scripts/$caller")"
  exit 1
fi

# Rust comes from rustup (Debian's cargo is too old for berth's dependencies).
if ! command -v cargo >/dev/null 2>&1; then
  say "cargo is not on PATH; install Rust from https://rustup.rs (under sudo keep your PATH: sudo env \"PATH=\$PATH\" scripts/$caller)"
  exit 1
fi
# cc: SQLite is compiled in; ssh: berth ssh and the TUI's shells (ssh-keygen for keys).
tools=(cc:gcc ssh:openssh-client ssh-keygen:openssh-client)
[ "$mode" = test ] && tools+=(tmux:tmux)
need "building and running berth" "${tools[@]}"

scripts/engine.sh ensure

# VM workspaces (tests/vm.rs, tests/tui_vm.rs, scripts/bench.sh vm): QEMU's microvm
# machine; berth builds the guest's initramfs from a static busybox and the kernel's
# modules (cpio, depmod), its disks with mkfs.ext4 -d and qemu-img, and downloads
# Debian's cloud kernel with apt-get download (so the package lists must know it).
# qemu-system-x86 goes in by itself, first: apt must be free to replace a qemu-utils
# of another release (a backport installed from a .deb) that conflicts with it; named
# in the same command, that qemu-utils is held and apt fails with "held broken
# packages". The rest follow in one command, without recommends (no GUI).
vm_tools() {
  local why="the VM provider tests (tests/vm.rs)"
  command -v qemu-system-x86_64 >/dev/null 2>&1 \
    || apt_install "$why" --no-install-recommends qemu-system-x86 || return 0
  local missing=() pair
  for pair in qemu-img:qemu-utils cpio:cpio depmod:kmod modprobe:kmod mkfs.ext4:e2fsprogs; do
    PATH=$PATH:/usr/sbin:/sbin command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  # The initramfs needs a static busybox (busybox-static replaces Debian's dynamic one).
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
  if [ "${#missing[@]}" -gt 0 ]; then
    # shellcheck disable=SC2046 # one word per package; sort -u drops repeats
    apt_install "$why" --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) || return 0
  fi
  if ! apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1; then
    if is_root; then
      say "apt-get update (the package lists do not know linux-image-cloud-amd64, the VMs' kernel)"
      apt-get -o DPkg::Lock::Timeout=300 update -qq || say "apt-get update failed; VM workspaces cannot fetch their kernel"
    else
      say "the package lists do not know linux-image-cloud-amd64 (the VMs' kernel); run: sudo apt-get update"
    fi
  fi
}

# The official MCP Python SDK for tests/mcp.rs (its own venv, made once); a fresh
# Debian has neither python3 nor its venv module (ensurepip ships in python3-venv).
if [ "$mode" = test ]; then
  need "the MCP client test (tests/mcp.rs)" python3:python3
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || apt_install "the MCP client test's virtualenv (tests/mcp.rs)" python3-venv
  scripts/mcp-venv.sh >/dev/null
  # tests/engines_remote.rs runs its own sshd on loopback (the ssh:// engine).
  # Debian's package would start its service on port 22: policy-rc.d forbids that
  # during the install, and the service stays disabled and stopped afterwards.
  # The policy file is removed on every way out (an interrupted install too).
  if [ ! -x /usr/sbin/sshd ] && is_root; then
    prc=/usr/sbin/policy-rc.d
    if [ ! -e "$prc" ]; then
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
      trap 'exit 1' INT TERM
      printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 755 "$prc"
    fi
    apt_install "the ssh:// engine test (tests/engines_remote.rs)" openssh-server \
      || say "openssh-server did not install; tests/engines_remote.rs will fail saying so"
    [ -z "$(trap -p EXIT)" ] || { rm -f "$prc"; trap - EXIT INT TERM; }
    # Installed by this run: it stays off (a machine's own sshd is never touched).
    for unit in ssh.service ssh.socket; do systemctl disable --now "$unit" >/dev/null 2>&1 || true; done
  elif [ ! -x /usr/sbin/sshd ]; then
    say "the ssh:// engine test needs /usr/sbin/sshd: as root, run scripts/setup.sh test (it installs openssh-server without starting it)"
  fi
  # podman as an engine (tests/podman.rs starts its own rootful service): podman,
  # its init (catatonit), runc (crun fails on hybrid cgroups), conmon, CNI plugins.
  need "the podman engine test (tests/podman.rs)" podman:podman catatonit:catatonit runc:runc conmon:conmon
  [ -x /usr/lib/cni/bridge ] \
    || apt_install "the podman engine test's networks (tests/podman.rs)" containernetworking-plugins
  vm_tools
fi

if [ "$mode" = run ]; then
  cargo build --release --quiet
else
  cargo build --all-targets
fi
scripts/engine.sh images "${CARGO_TARGET_DIR:-target}/$profile/berth"
