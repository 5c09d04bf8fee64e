//! In-memory machines for the layer's tests: records, homes and run states in a
//! map, no QEMU. A test flips states by hand to see what the layer makes of them.
use super::machines::Machines;
use super::{SshTarget, VmCreate, VmRecord, VmRun, VmSample};
use crate::engine::{Engine, EngineError, EngineResult};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Default)]
struct State {
    vms: BTreeMap<String, (VmRecord, VmRun)>,
    homes: BTreeMap<String, BTreeMap<String, String>>,
    ticks: u64,
    next_id: u64,
}

pub struct FakeMachines {
    state: Mutex<State>,
    dir: PathBuf,
}

impl FakeMachines {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            state: Mutex::new(State::default()),
            dir,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("fake machines lock"))
    }

    /// Sets a VM's run state as if its process started or died.
    pub fn set_run(&self, container: &str, run: VmRun) {
        self.with(|s| {
            if let Some(v) = s.vms.get_mut(container) {
                v.1 = run;
            }
        })
    }
}

fn nf(what: &str) -> EngineError {
    EngineError::NotFound {
        what: what.to_string(),
    }
}

#[async_trait]
impl Machines for FakeMachines {
    async fn list(&self) -> EngineResult<Vec<VmRecord>> {
        Ok(self.with(|s| s.vms.values().map(|v| v.0.clone()).collect()))
    }
    async fn find(&self, container: &str) -> EngineResult<Option<VmRecord>> {
        Ok(self.with(|s| s.vms.get(container).map(|v| v.0.clone())))
    }
    async fn home_exists(&self, volume: &str) -> EngineResult<bool> {
        Ok(self.with(|s| s.homes.contains_key(volume)))
    }
    async fn homes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        Ok(self.with(|s| {
            s.homes
                .iter()
                .filter(|(_, l)| {
                    want.iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
                })
                .map(|(n, _)| n.clone())
                .collect()
        }))
    }
    async fn create(
        &self,
        _docker: &dyn Engine,
        req: VmCreate,
        _progress: Option<mpsc::Sender<String>>,
    ) -> EngineResult<VmRecord> {
        self.with(|s| {
            if s.vms.contains_key(&req.container) {
                return Err(EngineError::Conflict(format!("{} exists", req.container)));
            }
            s.next_id += 1;
            let rec = VmRecord {
                id: format!("{:012x}", 0xabc000 + s.next_id),
                container: req.container.clone(),
                hostname: req.hostname,
                volume: req.volume.clone(),
                image: req.image,
                image_id: "sha256:fake".into(),
                labels: req.labels.clone(),
                env: req.env,
                created: 1_700_000_000,
                ssh_port: req.ssh_port,
                ports: req.ports.iter().map(|p| (p.host, p.container)).collect(),
                bind_address: req.bind_address,
                shape: req.shape,
                authorized_key: req.authorized_key,
                workdir: req.workdir,
                host_key_pub: "ssh-ed25519 AAAA fake".into(),
            };
            s.homes.entry(req.volume).or_insert(req.labels);
            s.vms.insert(req.container, (rec.clone(), VmRun::Stopped));
            Ok(rec)
        })
    }
    async fn start(&self, container: &str) -> EngineResult<()> {
        self.with(|s| match s.vms.get_mut(container) {
            Some(v) => {
                if v.1 == VmRun::Stopped {
                    v.1 = VmRun::Running {
                        pid: 4242,
                        started_at: 1_700_000_100,
                    };
                }
                Ok(())
            }
            None => Err(nf(container)),
        })
    }
    async fn stop(&self, container: &str, _timeout: Duration) -> EngineResult<()> {
        self.with(|s| match s.vms.get_mut(container) {
            Some(v) => {
                v.1 = VmRun::Stopped;
                Ok(())
            }
            None => Err(nf(container)),
        })
    }
    async fn remove(&self, container: &str) -> EngineResult<()> {
        self.with(|s| {
            s.vms
                .remove(container)
                .map(|_| ())
                .ok_or_else(|| nf(container))
        })
    }
    async fn remove_home(&self, volume: &str) -> EngineResult<()> {
        self.with(|s| {
            if s.vms.values().any(|v| v.0.volume == volume) {
                return Err(EngineError::Conflict(format!("{volume} is in use")));
            }
            s.homes.remove(volume).map(|_| ()).ok_or_else(|| nf(volume))
        })
    }
    async fn write_mirror(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()> {
        let rec = self
            .with(|s| s.vms.get(container).map(|v| v.0.clone()))
            .ok_or_else(|| nf(container))?;
        match super::guest_files::mirror_path(&self.machine_dir(&rec), path) {
            Some(file) => super::guest_files::write_mirror(&file, contents, mode),
            None => Ok(()),
        }
    }
    fn run_state(&self, rec: &VmRecord) -> VmRun {
        self.with(|s| s.vms.get(&rec.container).map_or(VmRun::Stopped, |v| v.1))
    }
    fn sample(&self, rec: &VmRecord) -> Option<VmSample> {
        self.with(|s| {
            let running = matches!(s.vms.get(&rec.container), Some((_, VmRun::Running { .. })));
            running.then(|| {
                // 50 ticks a poll: half a core at 100 ticks a second.
                s.ticks += 50;
                VmSample {
                    cpu_ticks: s.ticks,
                    rss_bytes: 300 << 20,
                }
            })
        })
    }
    fn console_path(&self, rec: &VmRecord) -> PathBuf {
        self.machine_dir(rec).join("console.log")
    }
    fn ssh_target(&self, rec: &VmRecord) -> SshTarget {
        SshTarget {
            host: "127.0.0.1".into(),
            port: rec.ssh_port,
            known_hosts: self.machine_dir(rec).join("known_hosts"),
        }
    }
    fn machine_dir(&self, rec: &VmRecord) -> PathBuf {
        self.dir.join("machines").join(&rec.id)
    }
}
