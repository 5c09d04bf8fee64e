//! A local sshd on 127.0.0.1 standing in for a remote engine host: its own host
//! key, the sandbox's test key authorized for root, and `SetEnv DOCKER_HOST` so
//! `docker system dial-stdio` there reaches a test's extra dockerd. Started and
//! stopped by PID (with its session processes); its directory goes on drop.
//!
//! ssh reads the config of the passwd user's home, never `$HOME`, so the client
//! side is an `ssh` wrapper first on the sandbox's PATH that adds
//! `-F <sandbox HOME>/.ssh/config` (see [`SshdHost::client_env`]).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SshdHost {
    pub port: u16,
    pub dir: PathBuf,
    /// The host's public key line (`ssh-ed25519 AAAA...`).
    pub host_key: String,
    child: Option<Child>,
}

impl SshdHost {
    /// Starts sshd on 127.0.0.1:`port`, letting in `authorized` (a public key
    /// file), its sessions seeing `DOCKER_HOST=docker_host`.
    pub fn start(port: u16, authorized: &Path, docker_host: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-sshd-")
            .tempdir()
            .expect("tempdir")
            .keep();
        let key = dir.join("host_ed25519");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        std::fs::copy(authorized, dir.join("authorized_keys")).expect("authorized keys");
        let _ = std::fs::create_dir_all("/run/sshd");
        let conf = dir.join("sshd_config");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nAllowTcpForwarding yes\nSetEnv DOCKER_HOST={docker_host}\n",
                key.display(),
                dir.join("sshd.pid").display(),
                dir.join("authorized_keys").display(),
            ),
        )
        .unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
            .spawn()
            .expect("/usr/sbin/sshd (install openssh-server: scripts/setup.sh test)");
        let host_key = std::fs::read_to_string(key.with_extension("pub"))
            .unwrap()
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let s = Self {
            port,
            dir,
            host_key,
            child: Some(child),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sshd did not listen on {port}: {}",
                std::fs::read_to_string(s.dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    /// Writes the sandbox's ssh client side under `home`: `~/.ssh/config` with
    /// host `alias` (this sshd, its key known) and host `stranger` (this sshd too,
    /// its key unknown), and the `ssh` wrapper in `home/bin`, which logs its arguments to
    /// [`Self::calls_file`]. Returns the PATH to
    /// give berth.
    pub fn client_env(&self, home: &Path, alias: &str) -> String {
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let known = ssh.join("known_hosts");
        std::fs::write(&known, format!("{alias} {}\n", self.host_key)).unwrap();
        let id = ssh.join("id_ed25519");
        let block = |name: &str, known: &Path| {
            format!(
                "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User root\n  HostKeyAlias {name}\n  \
                 IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n",
                self.port,
                id.display(),
                known.display()
            )
        };
        let config = format!(
            "{}{}Host *\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n",
            block(alias, &known),
            block("stranger", &ssh.join("known_hosts_empty")),
            known.display()
        );
        std::fs::write(ssh.join("config"), config).unwrap();
        let bin = home.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let wrapper = bin.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$*\" >>{}\nexec /usr/bin/ssh -F {} \"$@\"\n",
                Self::calls_file(home).display(),
                ssh.join("config").display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// Where the `ssh` wrapper writes the arguments of every call, one a line.
    pub fn calls_file(home: &Path) -> PathBuf {
        home.join("ssh-calls.log")
    }

    /// The arguments of every `ssh` run through the wrapper so far.
    pub fn calls(home: &Path) -> String {
        std::fs::read_to_string(Self::calls_file(home)).unwrap_or_default()
    }

    /// Every process under sshd (its sessions and their children), by PID.
    pub fn descendants(&self) -> Vec<String> {
        let Some(c) = &self.child else {
            return Vec::new();
        };
        let mut all = Vec::new();
        let mut next = vec![c.id().to_string()];
        while let Some(p) = next.pop() {
            let Ok(o) = Command::new("pgrep").args(["-P", &p]).output() else {
                continue;
            };
            for k in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                all.push(k.to_string());
                next.push(k.to_string());
            }
        }
        all
    }

    /// Waits (up to 30 s) until no session is left: false when one stays (an ssh
    /// master berth left behind keeps its session open for a minute).
    pub fn sessions_end(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.descendants().is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }

    /// sshd's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for SshdHost {
    fn drop(&mut self) {
        // Its sessions are its children and theirs (`sshd: root [priv]`, then
        // `sshd: root@notty` and the command): found before the listener goes,
        // then ended by PID too.
        let under = self.descendants();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for k in under {
            let _ = Command::new("kill").args(["-KILL", &k]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
