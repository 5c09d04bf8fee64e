# shellcheck shell=bash
# Helpers shared by the set-up scripts (sourced, not run): messages and Debian packages.
# As root a missing package is installed; otherwise the caller gets one sentence saying
# what to run, and a non-zero status.

say() { echo "${0##*/}: $*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }

engine_up() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# For a user without root when no engine answers: the sentence that says what to do.
no_engine_hint() {
  local out; out=$(timeout 10 docker version 2>&1 || true)
  if [[ $out == *"permission denied"* ]]; then
    echo "dockerd runs but its socket refuses $(id -un); add yourself to the docker group (sudo usermod -aG docker $(id -un), then log in again) or run as root"
  else
    echo "no container engine answers and starting one needs root; run: sudo $1"
  fi
}

# apt_install WHY [--no-install-recommends] PKG...: install Debian packages (apt-get
# update first, once per set-up).
apt_install() {
  local why=$1; shift
  local opts=()
  while [ "${1:-}" != "${1#-}" ]; do opts+=("$1"); shift; done
  if ! is_root; then
    say "$why needs $*, which is not installed; install it with: sudo apt-get install -y ${opts[*]:+${opts[*]} }$*"
    return 1
  fi
  # A fresh machine may have no package lists, or lists older than the mirror's files;
  # cloud machines run unattended-upgrades at boot, so wait for dpkg's lock.
  if [ -z "${BERTH_APT_UPDATED:-}" ]; then
    say "apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq \
      || say "apt-get update failed; installing from the package lists already here"
    export BERTH_APT_UPDATED=1
  fi
  say "installing $* ($why)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${opts[@]}" "$@" >/dev/null; then
    say "apt-get install $* failed (see above)"
    return 1
  fi
}

# need WHY CMD:PKG...: install the packages of the commands that are missing, in one go.
need() {
  local why=$1; shift
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  # shellcheck disable=SC2046 # one word per package; sort -u drops repeats
  apt_install "$why" $(printf '%s\n' "${missing[@]}" | sort -u)
}
