"""A real MCP client (the official Python SDK) driving `berth mcp` over stdio.

    client.py BERTH NAME WORKDIR            the conformance run for tests/mcp.rs
    client.py --bench BERTH NAME RUNS       exec latency (echo hi), one number a line

The server gets this process's environment (tests/mcp.rs sets the sandbox's HOME,
XDG directories and PATH). Each check raises with what was expected; the last line
printed on success is a JSON summary the Rust test reads.
"""
import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

try:  # SDK 2.x keeps the types in their own package; 1.x in mcp.types.
    from mcp_types import Implementation
except ImportError:  # pragma: no cover
    from mcp.types import Implementation

CLIENT = Implementation(name="berth-test-client", version="1.0")


def field(obj, snake, camel):
    """A result field under the SDK's name (2.x: snake_case; 1.x: camelCase)."""
    return getattr(obj, snake) if hasattr(obj, snake) else getattr(obj, camel)


def structured(result):
    """The JSON of a tool result (its text content)."""
    text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
    return text if field(result, "is_error", "isError") else json.loads(text)


async def call(session, args, progress=None):
    r = await session.call_tool("containers", args, progress_callback=progress)
    return bool(field(r, "is_error", "isError")), structured(r)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def server(berth):
    return StdioServerParameters(command=berth, args=["mcp"], env=dict(os.environ))


async def conformance(berth, name, work):
    summary = {}
    async with stdio_client(server(berth)) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, client_info=CLIENT) as s:
            init = await s.initialize()
            info = field(init, "server_info", "serverInfo")
            expect(info.name == "berth", f"serverInfo: {info}")
            summary["server"] = f"{info.name} {info.version}"
            tools = (await s.list_tools()).tools
            expect([t.name for t in tools] == ["containers"], f"tools: {tools}")
            ops = field(tools[0], "input_schema", "inputSchema")["properties"]["operation"]["enum"]
            for op in ["preflight", "create", "exec", "copy_in", "copy_out", "snapshot",
                       "restore", "destroy_all", "exec_interactive_hint"]:
                expect(op in ops, f"operation {op} missing from {ops}")

            err, pre = await call(s, {"operation": "preflight"})
            expect(not err and pre["ready"] is True and pre["runtime"] == "docker", f"preflight: {pre}")
            expect(all({"name", "passed", "detail"} <= set(c) for c in pre["checks"]), f"checks: {pre}")

            progress = []

            async def on_progress(p, total, message):
                progress.append(message)

            err, made = await call(s, {"operation": "create", "name": name,
                                       "env": {"MCP_TEST": "from-env"}}, on_progress)
            expect(not err, f"create failed: {made}")
            expect(made["success"] is True and made["container"] == name, f"create: {made}")
            rep = made["provisioning_report"]
            expect(all({"name", "status", "detail"} <= set(e) for e in rep), f"report: {rep}")
            expect(any(e["status"] == "success" for e in rep), f"report: {rep}")
            expect(len(progress) >= 3, f"progress notifications for create: {progress}")
            summary["create_progress"] = len(progress)

            # A VM asked for with a network profile a VM cannot have: refused, the
            # reason said, nothing made.
            err, r = await call(s, {"operation": "create", "name": f"{name}-vm", "provider": "vm",
                                    "net_profile": "isolated"})
            expect(err and "needs --net-profile open or offline" in r, f"vm isolated: {r}")

            err, r = await call(s, {"operation": "exec", "container": name,
                                    "command": "echo out; echo err >&2; echo $MCP_TEST; whoami"})
            expect(not err and r["returncode"] == 0 and r["timed_out"] is False, f"exec: {r}")
            expect(r["stdout"] == "out\nfrom-env\nworkspace\n" and r["stderr"] == "err\n", f"exec: {r}")
            err, r = await call(s, {"operation": "exec", "container": name, "command": "exit 7"})
            expect(not err and r["returncode"] == 7, f"exit 7: {r}")
            err, r = await call(s, {"operation": "exec", "container": name,
                                    "command": "echo started; sleep 30", "timeout": 2})
            expect(not err and r["timed_out"] is True and "started" in r["stdout"], f"timeout: {r}")
            err, r = await call(s, {"operation": "exec", "container": name, "command": "id",
                                    "as_root": True})
            expect(err and "as_root=true is refused" in r, f"as_root: {r}")
            err, r = await call(s, {"operation": "exec", "container": name, "comand": "x"})
            expect(err and "does not take comand" in r, f"unknown parameter: {r}")
            err, r = await call(s, {"operation": "exec", "container": "no-such-ws", "command": "true"})
            expect(err and "no workspace named no-such-ws" in r, f"missing workspace: {r}")
            err, h = await call(s, {"operation": "exec_interactive_hint", "container": name})
            expect(not err and h["command"] == f"berth ssh {name}" and h["shell"], f"hint: {h}")

            src = os.path.join(work, "in.txt")
            with open(src, "w") as f:
                f.write("hello from the host\n")
            err, r = await call(s, {"operation": "copy_in", "container": name, "host_path": src,
                                    "container_path": "/home/workspace/in.txt"})
            expect(not err and r["success"], f"copy_in: {r}")
            err, r = await call(s, {"operation": "exec", "container": name,
                                    "command": "cat ~/in.txt; echo made-inside > ~/out.txt"})
            expect(r["stdout"] == "hello from the host\n", f"copied file: {r}")
            dst = os.path.join(work, "out.txt")
            err, r = await call(s, {"operation": "copy_out", "container": name,
                                    "container_path": "/home/workspace/out.txt", "host_path": dst})
            expect(not err and open(dst).read() == "made-inside\n", f"copy_out: {r}")

            snap_progress = []

            async def on_snap(p, total, message):
                snap_progress.append(message)

            err, r = await call(s, {"operation": "snapshot", "container": name,
                                    "name": f"{name}-snap"}, on_snap)
            expect(not err and r["snapshot"] == f"{name}-snap", f"snapshot: {r}")
            expect(snap_progress, "no progress for snapshot")
            restored = f"{name}-r"
            err, r = await call(s, {"operation": "restore", "snapshot": f"{name}-snap",
                                    "name": restored})
            expect(not err and r["container"] == restored, f"restore: {r}")
            err, r = await call(s, {"operation": "exec", "container": restored,
                                    "command": "cat ~/in.txt ~/out.txt"})
            expect(r["stdout"] == "hello from the host\nmade-inside\n", f"restored files: {r}")

            err, r = await call(s, {"operation": "destroy_all"})
            expect(err and "confirm=true" in r and "Nothing was removed" in r, f"unconfirmed: {r}")
            err, lst = await call(s, {"operation": "list"})
            names = sorted(w["name"] for w in lst["containers"])
            expect(name in names and restored in names, f"after refusal: {names}")
            err, r = await call(s, {"operation": "destroy_all", "confirm": True}, on_progress)
            expect(not err and sorted(r["destroyed"]) == sorted([name, restored]), f"destroy_all: {r}")
            err, lst = await call(s, {"operation": "list"})
            # Only this run's: list shows every workspace on the engine (another
            # berth's too), destroy_all only those of this config's [labels].
            left = [w["name"] for w in lst["containers"] if w["name"] in (name, restored)]
            expect(left == [], f"after destroy_all: {left}")
            await s.send_ping()
    print(json.dumps(summary))


async def bench(berth, name, runs):
    async with stdio_client(server(berth)) as streams:
        async with ClientSession(streams[0], streams[1], client_info=CLIENT) as s:
            await s.initialize()
            for _ in range(runs):
                t0 = time.monotonic()
                err, r = await call(s, {"operation": "exec", "container": name, "command": "echo hi"})
                t1 = time.monotonic()
                expect(not err and r["stdout"] == "hi\n", f"exec: {r}")
                print(f"{t1 - t0:.4f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--bench":
        asyncio.run(bench(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        asyncio.run(conformance(sys.argv[1], sys.argv[2], sys.argv[3]))
