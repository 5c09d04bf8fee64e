//! `berth create`'s flags (a struct of its own: it has many).
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Workspace name (lowercase letters, digits, '-'); a readable one is made up when omitted.
    pub name: Option<String>,
    /// Image to run (default: `image` from the config); the profile builds on it.
    #[arg(long)]
    pub image: Option<String>,
    /// Purpose profile: general, python, node, rust, go, clean, try-repo, or your own
    /// (default: `profile` from the config).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Repository to clone into /home/workspace/repo.
    #[arg(long, value_name = "URL")]
    pub clone: Option<String>,
    /// Thread id: reuse this thread's workspace if it already has one.
    #[arg(long, value_name = "ID")]
    pub thread: Option<String>,
    /// Variable in the container's config, like `docker run -e` (repeatable; public:
    /// `docker inspect` shows it).
    #[arg(long = "env", short = 'e', value_name = "K=V")]
    pub env: Vec<String>,
    /// Host variables passed through as secrets (on a tmpfs, never on disk): auto
    /// (names matching `[env] patterns`), all (all but PATH, HOME, SHELL, USER, PWD,
    /// TERM, LANG, LC_*, XDG_*, SSH_*, DOCKER_*, BERTH_* and the like, and host paths
    /// such as VIRTUAL_ENV, GOPATH, SSL_CERT_FILE, GIT_DIR), none, or NAME,NAME.
    #[arg(long, value_name = "MODE")]
    pub env_passthrough: Option<String>,
    /// Do not copy ~/.gitconfig, ~/.gitconfig.local and ~/.ssh/known_hosts.
    #[arg(long)]
    pub no_forward_git: bool,
    /// Do not forward the GitHub CLI's token (GH_TOKEN and git's credential helper).
    #[arg(long)]
    pub no_forward_gh: bool,
    /// Make the host's ssh-agent available inside (keys never enter the workspace):
    /// through berth's relay during the create and `berth exec`, and ssh's agent
    /// forwarding in `berth ssh`, shell tabs and `ssh berth-NAME`. Without an agent,
    /// the host's ~/.ssh is bound read-only at ~/.ssh-host (with a warning).
    #[arg(long)]
    pub forward_ssh: bool,
    /// Dotfiles repository, cloned after credentials are in place.
    #[arg(long, value_name = "URL")]
    pub dotfiles: Option<String>,
    /// Branch of the dotfiles repository (default: its default branch).
    #[arg(long, value_name = "BRANCH")]
    pub dotfiles_branch: Option<String>,
    /// Where the dotfiles repository is cloned (default ~/.dotfiles).
    #[arg(long, value_name = "DIR")]
    pub dotfiles_target: Option<String>,
    /// Install script in the dotfiles repository (default: install.sh, setup.sh,
    /// bootstrap.sh, script/setup, a Makefile, else symlink the dotfiles at its top,
    /// moving what they replace aside as NAME.berth-backup).
    #[arg(long, value_name = "SCRIPT")]
    pub dotfiles_script: Option<String>,
    /// A file written into the home (repeatable), e.g. `.vimrc=set nu`.
    #[arg(long = "dotfile", value_name = "PATH=CONTENT")]
    pub dotfile: Vec<String>,
    /// A host directory copied into the home as is (modes and links inside it kept;
    /// a link leading out of it is refused), after the repository, before --dotfile.
    #[arg(long, value_name = "DIR")]
    pub dotfiles_dir: Option<PathBuf>,
    /// No dotfiles, whatever the config says.
    #[arg(long, conflicts_with_all = ["dotfiles", "dotfile", "dotfiles_dir"])]
    pub no_dotfiles: bool,
    /// Command run after the profile's setup (`/bin/sh -lc`, as the workspace user; repeatable, in order).
    #[arg(long, value_name = "CMD")]
    pub setup: Vec<String>,
    /// Script run with `/bin/sh -lc` last (default: `post_start` from the config).
    #[arg(long, value_name = "CMD")]
    pub post_start: Option<String>,
    /// Host directory bind-mounted inside (repeatable).
    #[arg(long = "mount", value_name = "HOST:PATH[:ro]")]
    pub mounts: Vec<String>,
    /// The current directory at /home/workspace/src.
    #[arg(long)]
    pub mount_cwd: bool,
    /// Container port published on the bind address (repeatable).
    #[arg(long = "port", value_name = "HOST:CONTAINER")]
    pub ports: Vec<String>,
    /// CPU limit in cores (default: `[resources] cpus`).
    #[arg(long, value_name = "N")]
    pub cpus: Option<f64>,
    /// Memory limit, e.g. 2g (default: `[resources] memory`).
    #[arg(long, value_name = "M")]
    pub memory: Option<String>,
    /// Default directory for exec, ssh and shells.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Public key to authorize besides berth's own (default: every ~/.ssh/*.pub).
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// Named network to join (repeatable; `berth net create NAME` makes one): the
    /// workspaces on it reach each other by their workspace names.
    #[arg(long = "network", value_name = "NAME")]
    pub networks: Vec<String>,
    /// Its own Docker engine (DOCKER_HOST=tcp://localhost:2375 inside), in a sidecar
    /// that runs PRIVILEGED (capabilities ALL but SYS_RESOURCE, seccomp and AppArmor
    /// unconfined); its data in the volume workspace-NAME.docker. The workspace
    /// itself stays unprivileged.
    #[arg(long)]
    pub docker: bool,
    /// Network profile: open (the engine's default bridge), isolated (no workspace
    /// reaches another; the internet does), proxy (only through berth's logging
    /// proxy; `berth egress NAME`), offline (only lo: no port is published, ssh and
    /// shells go through the engine; Docker inside, --docker, is offline too; no
    /// --port, --network, services or `net connect`). Default: `[network] profile`.
    #[arg(long, value_name = "PROFILE")]
    pub net_profile: Option<String>,
    /// For --net-profile proxy: a domain its proxy lets through (repeatable, added
    /// to `[network] allow_domains`; .example.com takes subdomains too). Without
    /// any, every domain is let through and logged.
    #[arg(long = "allow-domain", value_name = "DOMAIN")]
    pub allow_domains: Vec<String>,
    /// Ship the workspace's logs and its sidecars' to a file on the host
    /// (file:/abs/path or /abs/path: lines appended, each tagged with its source and
    /// time) or a syslog endpoint (syslog+udp://HOST[:PORT], syslog+tcp://HOST[:PORT];
    /// port 514, RFC 5424), through a forwarder sidecar. Default: `[logs] forward`;
    /// "" forwards nothing.
    #[arg(long, value_name = "TARGET")]
    pub forward_logs: Option<String>,
    /// A global secret (`berth secret set NAME`) it gets as the file
    /// /run/berth/secrets/NAME (repeatable; names only, never values). Secrets set
    /// with `--workspace` for this name come without asking.
    #[arg(long = "secret", value_name = "NAME")]
    pub secrets: Vec<String>,
    /// Container runtime: runc, runsc (gVisor) or another the engine has registered
    /// (`berth doctor` lists them). Default: `runtime` in the config, else the
    /// engine's default. One not registered, or failing its health check, is refused.
    #[arg(long, value_name = "NAME")]
    pub runtime: Option<String>,
    /// Platform: linux/amd64 or linux/arm64 (default: the engine's own). Another
    /// than the engine's needs an emulator registered where it runs (binfmt_misc)
    /// and an image for it (`berth image build --platform`).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Provider: container (on the engine) or vm (a QEMU microVM with its own
    /// kernel, made on this machine; its network profile open or offline). Default:
    /// the profile's `provider`, else `provider` in the config. Never a fallback
    /// from one to the other.
    #[arg(long, value_name = "container|vm")]
    pub provider: Option<String>,
    /// For --provider vm: the accelerator: kvm (hardware, needs VMX/SVM and
    /// /dev/kvm), tcg (QEMU's emulation: a separate kernel, several times slower),
    /// or auto (kvm where it can run, else tcg, said with a warning).
    #[arg(long, value_name = "auto|kvm|tcg")]
    pub accel: Option<String>,
    /// For --provider vm: the size of its home disk, e.g. 20g or 512m (default 10g).
    #[arg(long, value_name = "SIZE")]
    pub disk: Option<String>,
    /// How long it lives unused: 8h, 3d, 1d12h or never (default: `[lifetime] ttl`);
    /// the cleanup job deletes it once that long passed since its last use.
    /// `berth ttl NAME DURATION` changes it later.
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// The workspace and each step with its duration, as JSON.
    #[arg(long)]
    pub json: bool,
}

impl CreateArgs {
    /// The request for the backend; relative host paths are made absolute here.
    pub fn request(&self) -> anyhow::Result<crate::backend::create::CreateSpec> {
        use crate::backend::create::{CreateSpec, DotfilesRequest};
        let cwd = std::env::current_dir()?;
        let abs = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                cwd.join(p)
            }
        };
        let mounts = self
            .mounts
            .iter()
            .map(|m| match m.split_once(':') {
                Some((h, rest)) if !h.starts_with('/') && !h.is_empty() => {
                    format!("{}:{rest}", abs(&PathBuf::from(h)).display())
                }
                _ => m.clone(),
            })
            .collect();
        let flag = |off: bool| off.then_some(false);
        Ok(CreateSpec {
            name: self.name.clone().unwrap_or_default(),
            image: self.image.clone(),
            clone_url: self.clone.clone(),
            thread: self.thread.clone(),
            post_start: self.post_start.clone(),
            platform: self.platform.clone(),
            profile: self.profile.clone(),
            env: self.env.clone(),
            env_passthrough: self.env_passthrough.clone(),
            forward_git: flag(self.no_forward_git),
            forward_gh: flag(self.no_forward_gh),
            forward_ssh: self.forward_ssh.then_some(true),
            dotfiles: DotfilesRequest {
                url: self.dotfiles.clone(),
                branch: self.dotfiles_branch.clone(),
                target: self.dotfiles_target.clone(),
                script: self.dotfiles_script.clone(),
                files: self.dotfile.clone(),
                dir: self.dotfiles_dir.as_ref().map(abs),
                skip: self.no_dotfiles,
            },
            setup: self.setup.clone(),
            mounts,
            mount_cwd: self.mount_cwd.then_some(cwd.clone()),
            ports: self.ports.clone(),
            cpus: self.cpus,
            memory: self.memory.clone(),
            workdir: self.workdir.clone(),
            networks: self.networks.clone(),
            docker: self.docker,
            net_profile: self.net_profile.clone(),
            allow_domains: self.allow_domains.clone(),
            forward_logs: self.forward_logs.clone(),
            secret_files: self.secrets.clone(),
            runtime: self.runtime.clone(),
            ttl: self.ttl.clone(),
            provider: self.provider.clone(),
            accel: self.accel.clone(),
            disk: self.disk.clone(),
        })
    }
}
