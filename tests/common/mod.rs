//! Test harness for tests that drive the real `berth` binary against a real engine.
//!
//! Every object a test creates carries `berth.test-run=<run>` and
//! `berth.test-case=<case>` labels (through berth's `[labels]` config) and is removed
//! by label when the sandbox is dropped, pass or fail.
#![allow(dead_code)]

pub mod dockerd;
pub mod fault_proxy;
pub mod podman;
pub mod sshd_host;
pub mod tls_certs;
pub mod vm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Per-run id: from scripts/test.sh (BERTH_TEST_RUN) or made up for this process.
pub fn run_id() -> &'static str {
    static RUN: OnceLock<String> = OnceLock::new();
    RUN.get_or_init(|| {
        std::env::var("BERTH_TEST_RUN")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                format!("r{}", (t ^ u128::from(std::process::id())) % 1_000_000_000)
            })
    })
}

/// Is an engine reachable? If not: fail under CI or as root, else skip loudly.
pub fn engine_or_skip(test: &str) -> bool {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if ci || root || std::env::var("BERTH_REQUIRE_ENGINE").is_ok() {
        panic!("{test}: no container engine reachable, and this run requires one (CI, root or BERTH_REQUIRE_ENGINE). Run `sudo scripts/test.sh`, which starts dockerd.");
    }
    eprintln!("\n!!!!!!!! SKIPPED {test}: no container engine reachable and not root. Engine tests did NOT run. !!!!!!!!\n");
    false
}

/// Workspace `name`'s address (where the test's own servers in other workspaces
/// are reached: those tests make their workspaces `open`, see
/// [`Sandbox::use_profile`], on the default bridge). The first network's, when
/// it is on several.
pub fn container_ip(name: &str) -> String {
    let o = docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
        &format!("workspace-{name}"),
    ]);
    let first = stdout(&o)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    assert!(!first.is_empty(), "workspace {name} has no address");
    first
}

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker CLI")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// An isolated berth user: its own HOME, config (port range, labels), state and SSH key.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub case: String,
    pub range: (u16, u16),
    /// `[network] profile` of its config when set (see [`Sandbox::use_profile`]).
    profile: std::cell::Cell<Option<&'static str>>,
}

impl Sandbox {
    /// `None` when the engine is absent and skipping is allowed.
    pub fn new(case: &str, range: (u16, u16)) -> Option<Self> {
        Self::with_config(case, range, "")
    }

    pub fn with_config(case: &str, range: (u16, u16), extra: &str) -> Option<Self> {
        if !engine_or_skip(case) {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let case_id = format!("{}-{case}", run_id());
        let sb = Sandbox {
            dir,
            case: case_id,
            range,
            profile: std::cell::Cell::new(None),
        };
        std::fs::create_dir_all(sb.config_dir()).unwrap();
        std::fs::create_dir_all(sb.home().join(".ssh")).unwrap();
        sb.write_config(extra);
        let key = sb.home().join(".ssh/id_ed25519");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "berth-test", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen");
        assert!(st.success());
        Some(sb)
    }

    pub fn write_config(&self, extra: &str) {
        // Its own isolated network (carrying its labels, removed by its cleanup), so
        // sandboxes running side by side never share one. A `[network]` table in
        // `extra` gets the line too (TOML allows a table once).
        let mut net = format!("isolated_network = \"{}\"\n", self.isolated_network());
        if let Some(p) = self.profile.get() {
            net.push_str(&format!("profile = \"{p}\"\n"));
        }
        let (own, extra) = match extra.contains("[network]\n") {
            true => (
                String::new(),
                extra.replacen("[network]\n", &format!("[network]\n{net}"), 1),
            ),
            false => (format!("\n[network]\n{net}"), extra.to_string()),
        };
        let text = format!(
            "[ssh]\nport_range = \"{}-{}\"\n{own}\n[labels]\n\"berth.test-run\" = \"{}\"\n\"berth.test-case\" = \"{}\"\n{extra}",
            self.range.0,
            self.range.1,
            run_id(),
            self.case
        );
        std::fs::write(self.config_file(), text).unwrap();
    }

    /// Makes `profile` the network profile of this sandbox's workspaces from now on
    /// (config `[network] profile`, kept by every later `write_config`) and
    /// rewrites the config without extras. For tests whose workspaces talk to each
    /// other (a git server in one, clones in others): `open`, since `isolated`, the
    /// default, keeps workspaces apart.
    pub fn use_profile(&self, profile: &'static str) {
        self.profile.set(Some(profile));
        self.write_config("");
    }

    /// This sandbox's network for `isolated` workspaces (config `[network]
    /// isolated_network`).
    pub fn isolated_network(&self) -> String {
        format!("berth.isolated.{}", self.case)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config/berth")
    }
    pub fn config_file(&self) -> PathBuf {
        self.config_dir().join("config.toml")
    }
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state/berth")
    }
    pub fn key(&self) -> PathBuf {
        self.home().join(".ssh/id_ed25519")
    }

    /// A workspace name unique to this run and case.
    pub fn name(&self, suffix: &str) -> String {
        let n = format!("t{}-{suffix}", self.case.replace('_', "-"));
        assert!(n.len() <= 63, "test name too long: {n}");
        n
    }

    /// `berth ARGS` as this sandbox's user, with a timeout.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("timeout");
        c.arg("300").arg(env!("CARGO_BIN_EXE_berth")).args(args);
        self.env(&mut c);
        c.stdin(Stdio::null());
        c
    }

    /// A controlled environment: the runner's own may hold variables berth passes
    /// through (`*_TOKEN`, `HTTPS_PROXY`, ...) or reads (`GH_TOKEN`, `GH_CONFIG_DIR`),
    /// so berth gets only [`KEPT_ENV`] from it, plus this sandbox's HOME and XDG
    /// directories. Tests add what they need after this.
    pub fn env(&self, c: &mut Command) {
        c.env_clear().envs(kept_env());
        c.env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            // VM assets (kernel, initramfs, base disks) made once per machine.
            .env("XDG_CACHE_HOME", vm::cache_home())
            .env("NO_COLOR", "1");
    }

    /// A shell command that runs berth's TUI as this sandbox's user in a terminal, then
    /// prints its exit status and whether canonical mode is back (terminal restored).
    /// Its environment is controlled like [`Sandbox::env`]'s.
    pub fn tui_command(&self) -> String {
        // The terminal's shell inherits this process's environment (through tmux):
        // drop what berth must not see, keep what a test sets in front of this.
        let dropped: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| !KEPT_ENV.contains(&k.as_str()))
            .map(|k| format!("-u '{k}'"))
            .collect();
        format!(
            "env {} HOME={} XDG_CONFIG_HOME={} XDG_STATE_HOME={} XDG_CACHE_HOME={} TERM=xterm-256color {}; echo \"berth-exit=$?\"; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 300",
            dropped.join(" "),
            self.home().display(),
            self.dir.path().join("config").display(),
            self.dir.path().join("state").display(),
            vm::cache_home().display(),
            env!("CARGO_BIN_EXE_berth")
        )
    }

    pub fn berth(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run berth")
    }

    /// Runs berth and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.berth(args);
        assert!(
            o.status.success(),
            "berth {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            o.status,
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.ok(args);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("berth {args:?}: not JSON ({e}): {out}"))
    }

    /// `berth create NAME --ssh-key <sandbox key> EXTRA...`.
    pub fn create(&self, name: &str, extra: &[&str]) -> Output {
        let key = format!("{}.pub", self.key().display());
        let mut args = vec!["create", name, "--ssh-key", key.as_str()];
        args.extend_from_slice(extra);
        self.berth(&args)
    }

    pub fn create_ok(&self, name: &str, extra: &[&str]) -> serde_json::Value {
        let mut e = vec!["--json"];
        e.extend_from_slice(extra);
        let o = self.create(name, &e);
        assert!(o.status.success(), "create {name} failed:\n{}", stderr(&o));
        serde_json::from_slice(&o.stdout).expect("create --json output")
    }

    pub fn container_exists(&self, name: &str) -> bool {
        docker(&["container", "inspect", &format!("workspace-{name}")])
            .status
            .success()
    }

    pub fn volume_exists(&self, name: &str) -> bool {
        docker(&["volume", "inspect", &format!("workspace-{name}")])
            .status
            .success()
    }

    /// Objects carrying this case's label.
    pub fn labelled(&self, kind: &str) -> Vec<String> {
        let filter = format!("label=berth.test-case={}", self.case);
        let o = match kind {
            "container" => docker(&["ps", "-aq", "--filter", &filter]),
            _ => docker(&["volume", "ls", "-q", "--filter", &filter]),
        };
        stdout(&o).lines().map(String::from).collect()
    }
}

/// What berth keeps of the test runner's environment (see [`Sandbox::env`]): how to
/// find programs and the engine, and the switches of the test run itself.
pub const KEPT_ENV: &[&str] = &[
    "PATH",
    "DOCKER_HOST",
    "LANG",
    "TMPDIR",
    "CI",
    "BERTH_REQUIRE_ENGINE",
    "BERTH_TEST_RUN",
    "BERTH_LOG",
    "RUST_BACKTRACE",
    "LLVM_PROFILE_FILE",
];

pub fn kept_env() -> impl Iterator<Item = (String, String)> {
    KEPT_ENV
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
}

/// Removes every container, image, volume and network with `label`.
pub fn remove_labelled(label: &str) {
    let filter = format!("label={label}");
    let ids = stdout(&docker(&["ps", "-aq", "--filter", &filter]));
    let ids: Vec<&str> = ids.lines().collect();
    if !ids.is_empty() {
        let mut a = vec!["rm", "-f"];
        a.extend(ids);
        docker(&a);
    }
    // Snapshot images, once no container of the run uses them (profile images stay:
    // other cases of the run may share them).
    let images = stdout(&docker(&[
        "images",
        "-aq",
        "--filter",
        &filter,
        "--filter",
        "label=dev.berth.role=snapshot",
    ]));
    let mut images: Vec<&str> = images.lines().collect();
    images.sort_unstable();
    images.dedup();
    if !images.is_empty() {
        let mut a = vec!["rmi", "-f"];
        a.extend(images);
        docker(&a);
    }
    // Images a test built itself (`berth.test-image`), by every tag they have.
    let own = stdout(&docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        &filter,
        "--filter",
        "label=berth.test-image",
    ]));
    let own: Vec<&str> = own.lines().filter(|t| !t.contains("<none>")).collect();
    if !own.is_empty() {
        let mut a = vec!["rmi", "-f"];
        a.extend(own);
        docker(&a);
    }
    let vols = stdout(&docker(&["volume", "ls", "-q", "--filter", &filter]));
    let vols: Vec<&str> = vols.lines().collect();
    if !vols.is_empty() {
        let mut a = vec!["volume", "rm", "-f"];
        a.extend(vols);
        docker(&a);
    }
    let nets = stdout(&docker(&["network", "ls", "-q", "--filter", &filter]));
    let nets: Vec<&str> = nets.lines().collect();
    if !nets.is_empty() {
        let mut a = vec!["network", "rm"];
        a.extend(nets);
        docker(&a);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // VMs first (deleted through berth, then any QEMU left killed by its pid):
        // they are not the engine's, so no label finds them.
        vm::cleanup(self);
        remove_labelled(&format!("berth.test-case={}", self.case));
    }
}

/// Asserts berth refused with exit code 1 and a message containing `want`.
pub fn assert_refused(o: &Output, want: &str) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "expected a refusal with {want:?}:\n{err}"
    );
    assert!(err.contains(want), "wanted {want:?} in:\n{err}");
}

/// Runs `ssh` with the given args (host key checking stays strict).
pub fn ssh(args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("60")
        .arg("ssh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ssh")
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
