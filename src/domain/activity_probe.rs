//! The activity probe: ONE shell command run in a running workspace that reads
//! /proc (processes with their command lines, sshd's sockets, /proc/net/tcp and
//! tcp6) and, when CPU counts, the container's cgroup CPU counter twice. Pure: the
//! script is text, its output is parsed here into why the workspace counts as
//! alive (shell tabs are not seen inside: the store knows them).
use super::activity::AliveReason;
use std::collections::{BTreeMap, BTreeSet};

/// What the probe looks for, from `[activity]` and the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub ssh: bool,
    pub processes: bool,
    pub cpu: bool,
    pub ports: bool,
    /// Percent of one core above which CPU counts.
    pub cpu_threshold: f64,
    /// sshd's port inside (its connections are ssh sessions, not port use).
    pub ssh_port: u16,
    /// Ports of berth's own (Docker inside's engine): never "in use" by the user.
    pub ignore_ports: Vec<u16>,
}

/// Where berth's timed-exec wrapper keeps its pid (`/tmp/.berth-exec-PID-N`; see
/// `engine::docker_exec`), so the probe knows the wrapper for berth's own.
pub const EXEC_PIDFILE_PREFIX: &str = "/tmp/.berth-exec-";

/// How long the probe waits between its two CPU samples.
pub const CPU_SAMPLE_MS: u64 = 250;

/// The shell command (`sh -c SCRIPT`). Its own processes are told apart by `$$`.
pub fn script(cpu: bool) -> String {
    let mut s = String::from(
        r#"cd /proc || exit 3
echo "@self $$"
echo "@stat"
cat [0-9]*/stat 2>/dev/null
echo "@cmdline"
head -v -c 300 [0-9]*/cmdline 2>/dev/null
echo
echo "@fd"
set -- "$$/fd"
for p in [0-9]*; do
  { read -r s < "$p/stat"; } 2>/dev/null || continue
  case "$s" in *" (sshd) "*) set -- "$@" "$p/fd";; esac
done
[ $# -gt 1 ] && ls -l "$@" 2>/dev/null
echo "@tcp"
cat net/tcp net/tcp6 2>/dev/null
"#,
    );
    if cpu {
        let read =
            "cat uptime /sys/fs/cgroup/cpu.stat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null";
        let secs = CPU_SAMPLE_MS as f64 / 1000.0;
        s.push_str(&format!(
            "echo \"@cpu\"\n{read}\nsleep {secs}\necho \"@cpu\"\n{read}\n"
        ));
    }
    s.push_str("echo \"@end\"\n");
    s
}

/// One process as /proc shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proc {
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    pub state: char,
    /// Arguments joined by spaces (cut at 300 bytes); empty when unreadable.
    pub cmdline: String,
    /// Socket inodes among its open files (read for sshd's processes only).
    pub sockets: Vec<u64>,
}

/// One TCP socket of /proc/net/tcp or tcp6.
#[derive(Debug, Clone, PartialEq)]
pub struct Conn {
    pub local_ip: String,
    pub local_port: u16,
    pub remote_ip: String,
    pub remote_port: u16,
    /// 0x01 established, 0x0A listening.
    pub state: u8,
    pub inode: u64,
}

const ESTABLISHED: u8 = 0x01;
const LISTEN: u8 = 0x0A;

/// A CPU sample: the clock (seconds since boot) and the cgroup's CPU time (ns).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CpuSample {
    pub uptime: f64,
    pub cpu_ns: Option<u64>,
}

/// What the probe saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    /// The probe's own shell (it and its children are not the user's).
    pub self_pid: u32,
    pub procs: Vec<Proc>,
    pub conns: Vec<Conn>,
    pub cpu: Vec<CpuSample>,
    /// The output ended with the end marker (the probe ran to its end).
    pub complete: bool,
}

/// Parses the probe's output (bytes: command lines hold NULs).
pub fn parse(out: &[u8]) -> Seen {
    let text = String::from_utf8_lossy(out);
    let mut seen = Seen::default();
    let mut procs: BTreeMap<u32, Proc> = BTreeMap::new();
    let mut section = "";
    let mut cmd_pid: Option<u32> = None;
    let mut cmd_text = String::new();
    let mut fd_pid: Option<u32> = None;
    let flush_cmd = |pid: Option<u32>, text: &mut String, procs: &mut BTreeMap<u32, Proc>| {
        if let Some(p) = pid.and_then(|p| procs.get_mut(&p)) {
            p.cmdline = text
                .replace('\0', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
        }
        text.clear();
    };
    for line in text.split('\n') {
        if let Some(rest) = line.strip_prefix("@self ") {
            seen.self_pid = rest.trim().parse().unwrap_or(0);
            continue;
        }
        if matches!(
            line,
            "@stat" | "@cmdline" | "@fd" | "@tcp" | "@cpu" | "@end"
        ) {
            if section == "@cmdline" {
                flush_cmd(cmd_pid.take(), &mut cmd_text, &mut procs);
            }
            section = line;
            match line {
                "@cpu" => seen.cpu.push(CpuSample::default()),
                "@end" => seen.complete = true,
                _ => {}
            }
            continue;
        }
        match section {
            "@stat" => {
                if let Some(p) = parse_stat(line) {
                    procs.insert(p.pid, p);
                }
            }
            "@cmdline" => {
                if let Some(pid) = line
                    .strip_prefix("==> ")
                    .and_then(|r| r.strip_suffix("/cmdline <=="))
                    .and_then(|p| p.parse().ok())
                {
                    flush_cmd(cmd_pid.take(), &mut cmd_text, &mut procs);
                    cmd_pid = Some(pid);
                } else {
                    cmd_text.push_str(line);
                    cmd_text.push(' ');
                }
            }
            "@fd" => {
                if let Some(dir) = line.strip_suffix("/fd:") {
                    fd_pid = dir.parse().ok();
                } else if let (Some(pid), Some(inode)) = (fd_pid, socket_inode(line)) {
                    if let Some(p) = procs.get_mut(&pid) {
                        p.sockets.push(inode);
                    }
                }
            }
            "@tcp" => seen.conns.extend(parse_tcp(line)),
            "@cpu" => {
                if let Some(s) = seen.cpu.last_mut() {
                    read_cpu_line(line, s);
                }
            }
            _ => {}
        }
    }
    if section == "@cmdline" {
        flush_cmd(cmd_pid.take(), &mut cmd_text, &mut procs);
    }
    seen.procs = procs.into_values().collect();
    seen
}

/// `pid (comm) S ppid ...`; the command name may hold spaces and parentheses.
fn parse_stat(line: &str) -> Option<Proc> {
    let open = line.find(" (")?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    let comm = line.get(open + 2..close)?.to_string();
    let mut rest = line[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        comm,
        state,
        ..Default::default()
    })
}

fn socket_inode(ls_line: &str) -> Option<u64> {
    let t = ls_line.rsplit("-> ").next()?;
    t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// A line of /proc/net/tcp or tcp6 (the header and anything else: none).
pub fn parse_tcp(line: &str) -> Option<Conn> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 10 || !f[0].ends_with(':') {
        return None;
    }
    let (local_ip, local_port) = addr(f[1])?;
    let (remote_ip, remote_port) = addr(f[2])?;
    Some(Conn {
        local_ip,
        local_port,
        remote_ip,
        remote_port,
        state: u8::from_str_radix(f[3], 16).ok()?,
        inode: f[9].parse().ok()?,
    })
}

/// `0100007F:1F90` (IPv4, the address in host byte order: little-endian here) or
/// 32 hex digits of IPv6 as four such words.
fn addr(s: &str) -> Option<(String, u16)> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |h: &str| u32::from_str_radix(h, 16).ok().map(u32::swap_bytes);
    let ip = match ip.len() {
        8 => std::net::Ipv4Addr::from(word(ip)?).to_string(),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                let w = word(ip.get(i * 8..i * 8 + 8)?)?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
            }
            let v6 = std::net::Ipv6Addr::from(bytes);
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            }
        }
        _ => return None,
    };
    Some((ip, port))
}

/// /proc/uptime ("123.45 67.8"), cgroup v1 cpuacct.usage (ns) or v2 cpu.stat.
fn read_cpu_line(line: &str, s: &mut CpuSample) {
    let f: Vec<&str> = line.split_whitespace().collect();
    match f.as_slice() {
        ["usage_usec", v] => {
            if let Ok(us) = v.parse::<u64>() {
                s.cpu_ns.get_or_insert(us.saturating_mul(1000));
            }
        }
        [up, _idle] if up.contains('.') => {
            if let Ok(u) = up.parse() {
                s.uptime = u;
            }
        }
        [ns] => {
            if let Ok(n) = ns.parse::<u64>() {
                s.cpu_ns.get_or_insert(n);
            }
        }
        _ => {}
    }
}

impl Seen {
    /// CPU use between the two samples, in percent of one core.
    pub fn cpu_percent(&self) -> Option<f64> {
        let [a, b] = self.cpu.get(..2)? else {
            return None;
        };
        let dt = b.uptime - a.uptime;
        let used = b.cpu_ns?.checked_sub(a.cpu_ns?)? as f64 / 1e9;
        (dt > 0.0).then(|| used / dt * 100.0)
    }

    /// sshd's session processes (`sshd: USER@pts/0`, `sshd: USER@notty`).
    fn sessions(&self) -> Vec<&Proc> {
        self.procs
            .iter()
            .filter(|p| p.comm == "sshd" && session_tty(&p.cmdline).is_some())
            .collect()
    }

    /// The probe's own processes: its shell and what it started.
    fn is_probe(&self, p: &Proc) -> bool {
        self.self_pid != 0 && (p.pid == self.self_pid || p.ppid == self.self_pid)
    }

    /// berth's timed-exec wrapper (`sh -c 'echo $$ > /tmp/.berth-exec-…'`): the
    /// shell that waits for a command berth runs with a timeout, the probe among
    /// them. Not a process of the user's (what it runs is judged by itself).
    fn is_exec_wrapper(p: &Proc) -> bool {
        p.comm == "sh" && p.cmdline.contains(EXEC_PIDFILE_PREFIX)
    }

    /// ssh sessions: "pts/0 from 172.17.0.1:40022" (the peer when sshd's socket
    /// is seen; a session through the engine has no TCP peer).
    pub fn ssh_sessions(&self, ssh_port: u16) -> Vec<String> {
        self.sessions()
            .into_iter()
            .map(|s| {
                let tty = session_tty(&s.cmdline).unwrap_or("?");
                let peer = self.conns.iter().find(|c| {
                    c.state == ESTABLISHED
                        && c.local_port == ssh_port
                        && s.sockets.contains(&c.inode)
                });
                match peer {
                    Some(c) => format!("{tty} from {}:{}", c.remote_ip, c.remote_port),
                    None => tty.to_string(),
                }
            })
            .collect()
    }

    /// Processes beyond the baseline: not init (pid 1), not sshd (its listener and
    /// its sessions), not the command or login shell an ssh session runs (the
    /// session counts as ssh), not the probe, not a zombie. "1234 sleep 1000".
    pub fn user_processes(&self) -> Vec<String> {
        let sessions: BTreeSet<u32> = self.sessions().iter().map(|p| p.pid).collect();
        self.procs
            .iter()
            .filter(|p| {
                p.pid != 1
                    && p.comm != "sshd"
                    && p.state != 'Z'
                    && !sessions.contains(&p.ppid)
                    && !self.is_probe(p)
                    && !Self::is_exec_wrapper(p)
            })
            .map(|p| {
                let what = if p.cmdline.is_empty() {
                    format!("[{}]", p.comm)
                } else {
                    cut(&p.cmdline, 60)
                };
                format!("{} {what}", p.pid)
            })
            .collect()
    }

    /// Ports a process inside listens on with established connections to them
    /// (servers in use), other than sshd's and berth's own.
    pub fn ports_in_use(&self, rules: &Rules) -> Vec<u16> {
        let listening: BTreeSet<u16> = self
            .conns
            .iter()
            .filter(|c| c.state == LISTEN && c.local_ip != "127.0.0.11")
            .map(|c| c.local_port)
            .collect();
        let used: BTreeSet<u16> = self
            .conns
            .iter()
            .filter(|c| {
                c.state == ESTABLISHED
                    && listening.contains(&c.local_port)
                    && c.local_port != rules.ssh_port
                    && !rules.ignore_ports.contains(&c.local_port)
            })
            .map(|c| c.local_port)
            .collect();
        used.into_iter().collect()
    }

    /// Why the workspace counts as alive, by what `rules` count (shell tabs aside).
    pub fn reasons(&self, rules: &Rules) -> Vec<AliveReason> {
        let mut out = Vec::new();
        if rules.ssh {
            let sessions = self.ssh_sessions(rules.ssh_port);
            if !sessions.is_empty() {
                out.push(AliveReason::SshSessions { sessions });
            }
        }
        if rules.processes {
            let processes = self.user_processes();
            if !processes.is_empty() {
                out.push(AliveReason::Processes { processes });
            }
        }
        if rules.cpu {
            if let Some(percent) = self.cpu_percent().filter(|p| *p > rules.cpu_threshold) {
                out.push(AliveReason::Cpu {
                    percent: (percent * 10.0).round() / 10.0,
                    threshold: rules.cpu_threshold,
                });
            }
        }
        if rules.ports {
            let ports = self.ports_in_use(rules);
            if !ports.is_empty() {
                out.push(AliveReason::Ports { ports });
            }
        }
        out
    }
}

/// `sshd: workspace@pts/0` -> `pts/0`; `sshd: workspace@notty` -> `notty`.
fn session_tty(title: &str) -> Option<&str> {
    let rest = title.strip_prefix("sshd: ")?;
    let (_user, tty) = rest.split_once('@')?;
    let tty = tty.split_whitespace().next()?;
    (!tty.is_empty()).then_some(tty)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut c: String = s.chars().take(max - 1).collect();
    c.push('…');
    c
}

#[cfg(test)]
#[path = "activity_probe_tests.rs"]
mod tests;
