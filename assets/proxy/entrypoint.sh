#!/bin/bash
# berth's egress proxy sidecar, run as the unprivileged user `proxy` with every
# capability dropped. Its configuration comes from the environment (berth sets it;
# none of it is secret):
#   BERTH_ALLOW_DOMAINS  space-separated domains Squid lets through (a leading dot
#                        takes the subdomains too); empty: every domain. Each one
#                        is checked again here, so no value can add Squid directives.
#   BERTH_SSH_TARGET     HOST:PORT of the workspace's sshd on the internal network;
#                        socat forwards the sidecar's port 2222 (which berth
#                        publishes on the host) to it.
#   BERTH_LOGFORMAT      Squid's logformat line for the audit (berth's
#                        domain::egress::SQUID_LOGFORMAT).
#   BERTH_SAFE_PORTS     ports requests and CONNECT tunnels may go to (default
#                        80, 443 and 1025-65535).
# Squid writes one audit line per request (denied ones too) to standard output;
# its own messages go to standard error. Either process ending ends the sidecar
# (its restart policy brings it back).
set -euo pipefail

say() { echo "berth-proxy: $*" >&2; }

domains=()
for d in ${BERTH_ALLOW_DOMAINS:-}; do
  if ! [[ "$d" =~ ^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$ ]]; then
    say "refusing allowlist entry '$d': not a domain"
    exit 64
  fi
  domains+=("$d")
done
logformat=${BERTH_LOGFORMAT:-}
if [[ "$logformat" != "logformat berth "* || "$logformat" == *$'\n'* ]]; then
  say "BERTH_LOGFORMAT must be one 'logformat berth ...' line"
  exit 64
fi

ports=${BERTH_SAFE_PORTS:-80 443 1025-65535}
if ! [[ "$ports" =~ ^[0-9]+(-[0-9]+)?(\ [0-9]+(-[0-9]+)?)*$ ]]; then
  say "BERTH_SAFE_PORTS must be port numbers and ranges separated by spaces"
  exit 64
fi

conf=/tmp/squid.conf
{
  echo "# written by berth-proxy at start"
  echo "http_port 3128"
  echo "pid_filename none"
  echo "cache_log stdio:/dev/stderr"
  echo "cache_store_log none"
  echo "logfile_rotate 0"
  echo "$logformat"
  echo "access_log stdio:/dev/stdout berth"
  echo "cache deny all"
  echo "cache_mem 0 MB"
  echo "memory_pools off"
  echo "pinger_enable off"
  echo "positive_dns_ttl 1 minute"
  echo "coredump_dir /tmp"
  echo "via off"
  echo "forwarded_for delete"
  echo "httpd_suppress_version_string on"
  echo "shutdown_lifetime 1 seconds"
  echo "acl Safe_ports port $ports"
  echo "acl CONNECT method CONNECT"
  echo "http_access deny !Safe_ports"
  echo "http_access deny CONNECT !Safe_ports"
  if [ "${#domains[@]}" -gt 0 ]; then
    echo "acl berth_allowed dstdomain ${domains[*]}"
    echo "http_access allow berth_allowed"
    echo "http_access deny all"
  else
    echo "http_access allow all"
  fi
} > "$conf"

if [ "${#domains[@]}" -gt 0 ]; then
  say "allowing only: ${domains[*]}"
else
  say "allowing every domain (each request is logged)"
fi

target=${BERTH_SSH_TARGET:-}
if [ -n "$target" ] && ! [[ "$target" =~ ^[a-z0-9][a-z0-9.-]*:[0-9]+$ ]]; then
  say "BERTH_SSH_TARGET must be HOST:PORT"
  exit 64
fi

pids=()
if [ -n "$target" ]; then
  socat TCP-LISTEN:2222,fork,reuseaddr "TCP:$target" &
  pids+=($!)
fi
squid -N -f "$conf" &
pids+=($!)
trap 'kill -TERM "${pids[@]}" 2>/dev/null || :' TERM INT
set +e
wait -n "${pids[@]}"
status=$?
kill -TERM "${pids[@]}" 2>/dev/null
wait
exit "$status"
