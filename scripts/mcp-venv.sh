#!/usr/bin/env bash
# The official MCP Python SDK for tests/mcp.rs and `scripts/bench.sh mcp`, in its own
# virtualenv, made once (idempotent: quick when it is there). Prints the venv's python.
#   BERTH_MCP_VENV   where (default $HOME/.cache/berth-test/mcp-venv)
# Works on a fresh machine as root with CI=true: python3 with pip is all it needs
# (without the venv module it installs the SDK with pip --target instead).
set -euo pipefail
MCP_SDK="mcp==2.3.0"
dir=${BERTH_MCP_VENV:-$HOME/.cache/berth-test/mcp-venv}
marker="$dir/.installed-${MCP_SDK//[^a-zA-Z0-9.]/_}"
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9
if [ ! -e "$marker" ]; then
  rm -rf "$dir"
  if python3 -m venv "$dir" >&2 2>/dev/null; then
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$MCP_SDK" >&2
  else
    echo "mcp-venv: no venv module; installing $MCP_SDK with pip --target" >&2
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    python3 -m pip install --quiet --disable-pip-version-check --target "$dir/lib" "$MCP_SDK" >&2
    printf '#!/bin/sh\nPYTHONPATH="%s/lib${PYTHONPATH:+:$PYTHONPATH}" exec python3 "$@"\n' "$dir" > "$dir/bin/python"
    chmod +x "$dir/bin/python"
  fi
  "$dir/bin/python" -c 'import mcp.client.stdio' >&2
  touch "$marker"
fi
echo "$dir/bin/python"
