#!/usr/bin/env bash
# Measures purpose profiles: the cold build of each profile's image, then a create
# with the image cached, against `docker run -d` of the same image.
#
#   scripts/profile-times.sh BERTH [PROFILE...]   (default: general python node rust go clean)
#
# Runs in a scratch HOME/config/state with its own port range (BERTH_TIMES_PORTS,
# default 2977-2978) and labels everything it makes with berth.test-run=times-<pid>;
# removes it all at the end, profile images included (so the next run is cold again).
# Prints one line per profile: name, cold build s, create s (cached), docker run s.
set -euo pipefail
berth=$(realpath "${1:?usage: profile-times.sh BERTH [PROFILE...]}")
shift
profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(general python node rust go clean)
run="times-$$"
dir=$(mktemp -d)
ports=${BERTH_TIMES_PORTS:-2977-2978}
mkdir -p "$dir/config/berth" "$dir/home/.ssh" "$dir/state"
printf '[ssh]\nport_range = "%s"\n[labels]\n"berth.test-run" = "%s"\n' "$ports" "$run" >"$dir/config/berth/config.toml"
ssh-keygen -q -t ed25519 -N '' -f "$dir/home/.ssh/id_ed25519"
b() { env HOME="$dir/home" XDG_CONFIG_HOME="$dir/config" XDG_STATE_HOME="$dir/state" "$berth" "$@"; }
cleanup() {
  docker ps -aq --filter "label=berth.test-run=$run" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "label=berth.test-run=$run" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  for _ in 1 2 3; do
    docker images -aq --filter "label=berth.test-run=$run" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
printf '%-8s %10s %10s %10s\n' profile "build s" "create s" "run -d s"
for p in "${profiles[@]}"; do
  t0=$(now)
  out=$(b image build --profile "$p" --json 2>/dev/null)
  t1=$(now)
  image=$(printf '%s' "$out" | sed -n 's/.*"image":"\([^"]*\)".*/\1/p')
  name="times-$p-$$"
  t2=$(now)
  b create "$name" --profile "$p" --ssh-key "$dir/home/.ssh/id_ed25519.pub" >/dev/null 2>&1
  t3=$(now)
  b delete "$name" --yes >/dev/null 2>&1
  t4=$(now)
  cid=$(docker run -d --label "berth.test-run=$run" "$image")
  t5=$(now)
  docker rm -f "$cid" >/dev/null
  printf '%-8s %10.1f %10.1f %10.2f\n' "$p" "$(secs "$t0" "$t1")" "$(secs "$t2" "$t3")" "$(secs "$t4" "$t5")"
done
