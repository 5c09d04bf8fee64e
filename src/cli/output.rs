//! Rendering for the terminal: progress, tables, workspace details.
use crate::backend::Progress;
use crate::domain::provision::Provision;
use crate::domain::resources::format_memory;
use crate::domain::workspace::{human_duration, Workspace};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

/// Shows progress events: a bar on a terminal, plain lines otherwise (logs, CI).
pub struct ProgressView {
    bar: Option<ProgressBar>,
    quiet: bool,
    last: Mutex<Option<String>>,
    /// Steps finished so far: (label, description, seconds), in order.
    done: Mutex<Vec<StepTime>>,
}

/// One finished step, for `create --json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepTime {
    pub label: String,
    pub description: String,
    pub seconds: f64,
}

impl ProgressView {
    /// `quiet`: machine output (--json) goes to stdout, so progress stays on stderr but terse.
    pub fn new(quiet: bool) -> Self {
        let bar = (std::io::stderr().is_terminal() && !quiet).then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Self {
            bar,
            quiet,
            last: Mutex::new(None),
            done: Mutex::new(Vec::new()),
        }
    }

    /// The steps finished so far, with their durations.
    pub fn steps(&self) -> Vec<StepTime> {
        self.done.lock().map(|d| d.clone()).unwrap_or_default()
    }

    pub fn event(&self, p: Progress) {
        self.record(&p);
        self.show(p);
    }

    fn record(&self, p: &Progress) {
        match p {
            Progress::StepStarted { description, .. } => {
                if let Ok(mut l) = self.last.lock() {
                    *l = Some(description.clone());
                }
            }
            Progress::StepDone { label, took, .. } => {
                let description = self
                    .last
                    .lock()
                    .ok()
                    .and_then(|l| l.clone())
                    .unwrap_or_default();
                if let Ok(mut d) = self.done.lock() {
                    d.push(StepTime {
                        label: label.clone(),
                        description,
                        // Milliseconds are plenty.
                        seconds: (took.as_secs_f64() * 1000.0).round() / 1000.0,
                    });
                }
            }
            _ => {}
        }
    }

    fn show(&self, p: Progress) {
        match (&self.bar, p) {
            (
                Some(b),
                Progress::StepStarted {
                    index,
                    total,
                    description,
                    ..
                },
            ) => {
                b.set_length(total as u64);
                b.set_position(index as u64 - 1);
                b.set_message(description);
            }
            (Some(b), Progress::StepDone { index, .. }) => b.set_position(index as u64),
            (Some(b), Progress::Output { label, line }) => b.println(format!("  {label} | {line}")),
            (Some(b), Progress::Note(n)) => b.println(format!("note: {n}")),
            (
                None,
                Progress::StepStarted {
                    index,
                    total,
                    description,
                    ..
                },
            ) => {
                if !self.quiet {
                    eprintln!("[{index}/{total}] {description} ...");
                }
            }
            (
                None,
                Progress::StepDone {
                    index, total, took, ..
                },
            ) => {
                if !self.quiet {
                    let d = self
                        .last
                        .lock()
                        .ok()
                        .and_then(|l| l.clone())
                        .unwrap_or_default();
                    eprintln!("[{index}/{total}] {d}: done in {:.1}s", took.as_secs_f64());
                }
            }
            (None, Progress::Output { label, line }) => {
                if !self.quiet {
                    eprintln!("  {label} | {line}");
                }
            }
            (None, Progress::Note(n)) => eprintln!("note: {n}"),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn ago(ts: i64) -> String {
    if ts <= 0 {
        return "-".into();
    }
    format!("{} ago", human_duration(now() - ts))
}

/// The `berth list` table: `ttl` holds each workspace's TTL countdown by name,
/// `sizes` its home volume's size ("?" when unknown).
pub fn table(
    ws: &[Workspace],
    ttl: &std::collections::HashMap<String, String>,
    sizes: &std::collections::BTreeMap<String, u64>,
) -> String {
    table_for(ws, ttl, sizes, false)
}

/// A row's key in the TTL and size maps: the name, or with several engines
/// [`engine_key`] (the same name may be on two engines).
pub fn row_key(w: &Workspace, several: bool) -> String {
    match several {
        true => engine_key(&w.engine, &w.name),
        false => w.name.clone(),
    }
}

/// `ENGINE/NAME`.
pub fn engine_key(engine: &str, name: &str) -> String {
    format!("{engine}/{name}")
}

/// The list; with `several` engines an ENGINE column after NAME, and the maps
/// keyed by [`row_key`]; a PROVIDER column when any of them is a VM.
pub fn table_for(
    ws: &[Workspace],
    ttl: &std::collections::HashMap<String, String>,
    sizes: &std::collections::BTreeMap<String, u64>,
    several: bool,
) -> String {
    let vms = crate::domain::vm_view::any_vm(ws);
    let rows: Vec<Vec<String>> = ws
        .iter()
        .map(|w| {
            let key = row_key(w, several);
            let mut r = vec![w.name.clone()];
            if several {
                r.push(w.engine.clone());
            }
            if vms {
                r.push(crate::domain::vm_view::cell(w));
            }
            r.extend([
                match &w.provision {
                    Provision::Ready => w.state.as_str().to_string(),
                    p => format!("{} at {}", p.word(), p.step_text()),
                },
                ssh_text(w),
                w.net_profile().to_string(),
                w.image.clone(),
                w.uptime_secs(now()).map_or("-".into(), human_duration),
                sizes
                    .get(&key)
                    .map_or("?".into(), |b| crate::domain::limits::human_size(*b)),
                ttl.get(&key).cloned().unwrap_or_else(|| "-".into()),
                w.thread.clone().unwrap_or_else(|| "-".into()),
            ]);
            r
        })
        .collect();
    let mut header: Vec<String> = vec!["NAME".into()];
    if several {
        header.push("ENGINE".into());
    }
    if vms {
        header.push("PROVIDER".into());
    }
    header.extend(
        [
            "STATE", "SSH", "NET", "IMAGE", "UPTIME", "SIZE", "TTL", "THREAD",
        ]
        .map(String::from),
    );
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        cells.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header);
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

/// Where SSH is: the host port, `exec` for an offline workspace (through the
/// engine: `berth ssh-proxy`), `-` for none.
pub fn ssh_text(w: &Workspace) -> String {
    match w.ssh_port {
        Some(p) => p.to_string(),
        None if crate::domain::net_isolation::ssh_through_engine(w.net_profile()) => "exec".into(),
        None => "-".into(),
    }
}

/// JSON for one workspace (stable field names: scripts depend on them). `state` is
/// "incomplete" or "provisioning" until provisioning finished (never "running" for
/// a half-made workspace); the engine's own word is `container_state`.
pub fn workspace_json(w: &Workspace) -> serde_json::Value {
    serde_json::json!({
        "name": w.name,
        // berth's name of the engine it is on (`berth engines`).
        "engine": w.engine,
        "state": w.status_word(),
        "container_state": w.state.as_str(),
        "provision": w.provision,
        "ssh_port": w.ssh_port,
        // open, isolated, proxy or offline (`domain::net_profile`); offline has no
        // ssh_port: ssh goes through the engine.
        "net_profile": w.net_profile(),
        "image": w.image,
        "container": w.container,
        "container_id": w.container_id,
        "volume": w.volume,
        "thread": w.thread,
        "platform": w.platform,
        "profile": w.profile,
        "runtime": w.runtime,
        // container or vm (`--provider`); a VM's accelerator (kvm, tcg), else null.
        "provider": w.provider(),
        "accel": crate::domain::vm_view::accel(w),
        "memory_limit": w.memory_limit,
        "pids_limit": w.pids_limit,
        "cpus_limit": w.cpus_limit,
        "created": w.created,
        "started_at": w.started_at,
        "uptime_secs": w.uptime_secs(now()),
        "labels": w.labels,
        // Docker inside (`create --docker`): its sidecar and the privileges it has.
        "docker": crate::domain::dind::DockerInside::of(w),
        // Log forwarding (`create --forward-logs`): where its logs go.
        "forward_logs": crate::domain::log_forward::Forwarding::of(w),
        // Network profile proxy: the allowlist its proxy enforces (empty: every domain).
        "allow_domains": crate::domain::proxy::allowlist(&w.labels),
    })
}

/// `berth status` for people; `engine_default` is the engine's default runtime
/// (named as such), empty when unknown.
pub fn details(w: &Workspace, engine_default: &str) -> String {
    let mut s = String::new();
    let mut kv = |k: &str, v: String| s.push_str(&format!("{k:<10} {v}\n"));
    kv("name", w.name.clone());
    kv("state", w.status_word().into());
    if let Some(why) = w.provision.explain(&w.name) {
        kv("provision", why);
        kv("engine", format!("container {}", w.state.as_str()));
    }
    kv("ssh port", ssh_text(w));
    let p = w.net_profile();
    kv("network", format!("{p}: {}", p.describe()));
    kv("image", w.image.clone());
    kv("created", ago(w.created));
    kv(
        "uptime",
        w.uptime_secs(now()).map_or("-".into(), human_duration),
    );
    kv(
        "container",
        format!(
            "{} ({})",
            w.container,
            &w.container_id[..w.container_id.len().min(12)]
        ),
    );
    kv(
        "volume",
        if w.volume.is_empty() {
            "-".into()
        } else {
            w.volume.clone()
        },
    );
    if let Some(t) = &w.thread {
        kv("thread", t.clone());
    }
    if let Some(p) = &w.profile {
        kv("profile", p.clone());
    }
    if let Some(p) = &w.platform {
        kv("platform", p.clone());
    }
    kv("provider", crate::domain::vm_view::describe(w));
    if let Some(warn) = crate::domain::vm_view::warning(w) {
        kv("warning", warn.into());
    }
    kv(
        "runtime",
        crate::domain::runtime::describe(w.runtime.as_deref(), engine_default),
    );
    if let Some(e) = crate::domain::proxy::status_line(w) {
        kv("egress", e);
    }
    if let Some(m) = w.memory_limit {
        kv("memory", format_memory(m));
    }
    if let Some(p) = w.pids_limit {
        kv("pids", p.to_string());
    }
    kv(
        "cpus",
        w.cpus_limit.map_or("no limit".into(), |c| c.to_string()),
    );
    s
}

/// `berth status`'s line for Docker inside (with whether its sidecar runs).
pub fn docker_line(d: &crate::domain::dind::DockerInside) -> String {
    format!("{:<10} {}\n", "docker", d.summary())
}

#[cfg(test)]
mod progress_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn finished_steps_are_kept_with_their_durations() {
        let v = ProgressView::new(true);
        let started = |index, label: &str, d: &str| Progress::StepStarted {
            index,
            total: 2,
            label: label.into(),
            description: d.into(),
        };
        let done = |index, label: &str, ms| Progress::StepDone {
            index,
            total: 2,
            label: label.into(),
            took: Duration::from_millis(ms),
        };
        v.event(started(1, "volume", "create the home volume"));
        v.event(Progress::Note("n".into()));
        v.event(done(1, "volume", 1234));
        v.event(started(2, "start", "start the container"));
        v.event(done(2, "start", 5));
        let s = v.steps();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0],
            StepTime {
                label: "volume".into(),
                description: "create the home volume".into(),
                seconds: 1.234
            }
        );
        assert_eq!((s[1].label.as_str(), s[1].seconds), ("start", 0.005));
    }
}
