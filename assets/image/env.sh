# shellcheck shell=sh
# berth: the workspace's environment: the profile's, the public one (--env), then
# the values passed through from the host (on the /run/berth tmpfs; delivered again
# on every start). Sourced by login shells, bash, `berth exec` and ssh commands.
for __berth_env in /etc/berth/profile.env /etc/berth/env /run/berth/env; do
  # shellcheck source=/dev/null
  if [ -r "$__berth_env" ]; then . "$__berth_env"; fi
done
unset __berth_env
