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
fi

if [ "$mode" = run ]; then
  cargo build --release --quiet
else
  cargo build --all-targets
fi
scripts/engine.sh images "${CARGO_TARGET_DIR:-target}/$profile/berth"
