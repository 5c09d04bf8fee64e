#!/usr/bin/env python3
"""Records a program's terminal output as a byte fixture for berth's screen tests.

    scripts/record-fixture.py OUT ROWS COLS STEPS... -- CMD...

Each STEP is `keys:TEXT` (sent as typed; \\r and \\x1b style escapes allowed), `sleep:SECS`,
`resize:ROWSxCOLS` (TIOCSWINSZ, the program gets SIGWINCH), `mark:NAME` (writes the
bytes so far to OUT.NAME) or `screen:NAME` (appends "NAME OFFSET" to OUT.screens: the
screen shown after the first OFFSET bytes). `da:TEXT` (anywhere in the list) answers the
program's device-attributes queries (CSI c, CSI 0 c) with TEXT. All output goes to OUT.
"""
import fcntl, os, pty, select, struct, sys, termios, time

def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

DA_QUERIES = (b"\x1b[c", b"\x1b[0c")
da_answer = None

def drain(fd, out, secs):
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out.extend(data)
        if da_answer is not None and any(q in data for q in DA_QUERIES):
            os.write(fd, da_answer)

def unescape(val):
    return val.encode().decode("unicode_escape").encode("latin-1")

def main():
    global da_answer
    args = sys.argv[1:]
    sep = args.index("--")
    out_path, rows, cols, steps, cmd = args[0], int(args[1]), int(args[2]), args[3:sep], args[sep + 1:]
    for step in steps:
        if step.startswith("da:"):
            da_answer = unescape(step[3:])
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    winsize(fd, rows, cols)
    out = bytearray()
    screens = []
    drain(fd, out, 1.0)
    for step in steps:
        kind, _, val = step.partition(":")
        if kind == "keys":
            os.write(fd, unescape(val))
            drain(fd, out, 0.5)
        elif kind == "sleep":
            drain(fd, out, float(val))
        elif kind == "resize":
            r, c = val.split("x")
            winsize(fd, int(r), int(c))
            drain(fd, out, 0.8)
        elif kind == "mark":
            open(f"{out_path}.{val}", "wb").write(bytes(out))
        elif kind == "screen":
            screens.append(f"{val} {len(out)}\n")
    drain(fd, out, 1.0)
    open(out_path, "wb").write(bytes(out))
    if screens:
        open(f"{out_path}.screens", "w").write("".join(screens))
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass

main()
