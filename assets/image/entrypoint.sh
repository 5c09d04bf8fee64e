#!/bin/sh
# Runs as the workspace user on every container start.
set -eu
keydir="$HOME/.berth/ssh"
mkdir -p "$keydir" "$HOME/.ssh"
chmod 700 "$HOME/.berth" "$keydir" "$HOME/.ssh"
# Generated once per workspace and kept in the volume, so clients can pin it.
if [ ! -s "$keydir/ssh_host_ed25519_key" ]; then
  ssh-keygen -q -t ed25519 -N '' -C "berth-workspace" -f "$keydir/ssh_host_ed25519_key"
fi
touch "$HOME/.ssh/authorized_keys"
chmod 600 "$HOME/.ssh/authorized_keys"
exec /usr/sbin/sshd -D -e -f /etc/berth/sshd_config
