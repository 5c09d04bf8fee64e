#!/usr/bin/env python3
"""Records a program's terminal output as a byte fixture for berth's screen tests.

    scripts/record-fixture.py OUT ROWS COLS STEPS... -- CMD...

Each STEP is `keys:TEXT` (sent as typed; \\r and \\x1b style escapes allowed), `sleep:SECS`,
`resize:ROWSxCOLS` (TIOCSWINSZ, the program gets SIGWINCH) or `mark:NAME` (writes the
bytes so far to OUT.NAME). All output goes to OUT.
"""
import fcntl, os, pty, select, struct, sys, termios, time

def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

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

def main():
    args = sys.argv[1:]
    sep = args.index("--")
    out_path, rows, cols, steps, cmd = args[0], int(args[1]), int(args[2]), args[3:sep], args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    winsize(fd, rows, cols)
    out = bytearray()
    drain(fd, out, 1.0)
    for step in steps:
        kind, _, val = step.partition(":")
        if kind == "keys":
            os.write(fd, val.encode().decode("unicode_escape").encode("latin-1"))
            drain(fd, out, 0.5)
        elif kind == "sleep":
            drain(fd, out, float(val))
        elif kind == "resize":
            r, c = val.split("x")
            winsize(fd, int(r), int(c))
            drain(fd, out, 0.8)
        elif kind == "mark":
            open(f"{out_path}.{val}", "wb").write(bytes(out))
    drain(fd, out, 1.0)
    open(out_path, "wb").write(bytes(out))
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass

main()
