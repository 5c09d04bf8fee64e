//! `berth doctor`: checks with a fix command for each failure.
use crate::backend::platform::engine_platform;
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::platform::{install_hint, Arch, Emulation, Platform};
use crate::domain::ports::free_count;
use crate::engine::docker::{endpoint_from_env, DockerEngine};
use crate::engine::{Engine, EngineError};
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

pub(super) fn check(
    check: impl Into<String>,
    status: Status,
    detail: impl Into<String>,
    fix: Option<&str>,
) -> Check {
    Check {
        check: check.into(),
        status,
        detail: detail.into(),
        fix: fix.map(String::from),
    }
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}

/// Free bytes on the filesystem holding `path` (df, so no unsafe statvfs here).
pub(super) async fn free_bytes(path: &str) -> Option<u64> {
    let out = tokio::process::Command::new("df")
        .args(["-Pk", path])
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let kb: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

pub async fn checks(paths: &Paths, config: &Config) -> Vec<Check> {
    let mut v = Vec::new();
    // The default engine (as today: unreachable fails); the others after, each
    // a section of its own (`doctor_engines`).
    let set = match super::engine_set_async(config).await {
        Ok(s) => Some(s),
        Err(e) => {
            v.push(check(
                "engines",
                Status::Fail,
                format!("{e:#}"),
                Some("berth engines  # lists the engines berth knows"),
            ));
            None
        }
    };
    let def = set.as_ref().and_then(|s| s.def(s.default_name()).cloned());
    let endpoint = def
        .as_ref()
        .map(|d| d.host.url())
        .unwrap_or_else(endpoint_from_env);
    let local = endpoint.starts_with("unix://");
    let installed = tokio::task::spawn_blocking(|| {
        ["dockerd", "docker", "podman"]
            .into_iter()
            .find(|b| on_path(b))
    })
    .await
    .ok()
    .flatten();
    v.push(match (installed, local) {
        (Some(b), _) => check("engine installed", Status::Ok, format!("{b} found"), None),
        (None, false) => check(
            "engine installed",
            Status::Ok,
            format!("remote engine {endpoint}"),
            None,
        ),
        (None, true) => check(
            "engine installed",
            Status::Fail,
            "no dockerd, docker or podman on PATH",
            Some("sudo apt-get install docker.io"),
        ),
    });
    let connected = match &def {
        Some(d) => DockerEngine::connect_def(d).await,
        None => DockerEngine::connect_to(&endpoint).await,
    };
    let engine: Option<Arc<dyn Engine>> = match connected {
        Ok(e) => Some(Arc::new(e)),
        Err(e) => {
            let fix = match &e {
                EngineError::PermissionDenied { .. } => {
                    "sudo usermod -aG docker $USER  # then log in again"
                }
                _ => "sudo systemctl start docker  # or: sudo scripts/engine.sh ensure",
            };
            let name = if matches!(e, EngineError::PermissionDenied { .. }) {
                "permissions"
            } else {
                "daemon reachable"
            };
            v.push(check(name, Status::Fail, e.to_string(), Some(fix)));
            None
        }
    };
    let info = match &engine {
        Some(e) => match e.info().await {
            Ok(i) => {
                v.push(check(
                    "daemon reachable",
                    Status::Ok,
                    format!("{} (engine {}, API {})", endpoint, i.version, i.api_version),
                    None,
                ));
                v.push(check(
                    "permissions",
                    Status::Ok,
                    format!("can use {endpoint}"),
                    None,
                ));
                Some(i)
            }
            Err(err) => {
                v.push(check(
                    "daemon reachable",
                    Status::Fail,
                    err.to_string(),
                    Some("sudo systemctl start docker"),
                ));
                None
            }
        },
        None => None,
    };
    let root_dir = info.as_ref().map(|i| i.root_dir.clone());
    let disk_path = match root_dir {
        Some(d) if tokio::fs::try_exists(&d).await.unwrap_or(false) => Some(d),
        _ => None,
    };
    let disk_path = disk_path.unwrap_or_else(|| {
        paths
            .state_dir
            .parent()
            .unwrap_or(&paths.home)
            .display()
            .to_string()
    });
    v.push(match free_bytes(&disk_path).await {
        Some(b) if b < 2 << 30 => check(
            "disk space",
            Status::Fail,
            format!(
                "{:.1} GiB free on {disk_path}",
                b as f64 / (1u64 << 30) as f64
            ),
            Some("docker system prune  # removes stopped containers and unused images"),
        ),
        Some(b) if b < 10 << 30 => check(
            "disk space",
            Status::Warn,
            format!(
                "{:.1} GiB free on {disk_path}",
                b as f64 / (1u64 << 30) as f64
            ),
            Some("docker system prune"),
        ),
        Some(b) => check(
            "disk space",
            Status::Ok,
            format!(
                "{:.0} GiB free on {disk_path}",
                b as f64 / (1u64 << 30) as f64
            ),
            None,
        ),
        None => check(
            "disk space",
            Status::Warn,
            format!("cannot measure free space on {disk_path}"),
            None,
        ),
    });
    if let (Some(e), Some(_)) = (&engine, &info) {
        let range = def
            .as_ref()
            .map_or(config.port_range, |d| d.ports(config.port_range));
        v.extend(engine_checks(e.clone(), paths, config, range, local).await);
    }
    if let Some(set) = &set {
        v.extend(super::doctor_engines::others(set, paths, config).await);
    }
    v.push(super::doctor_state::check(paths.state_dir.clone()).await);
    // `--provider vm` on this machine: warnings only (containers still work).
    v.extend(super::doctor_vm::checks(paths).await);
    v.push(super::daemon::doctor_check(paths).await);
    v.push(check(
        "config",
        Status::Ok,
        format!("{} parsed", paths.config_file.display()),
        None,
    ));
    v
}

/// What doctor checks on a reachable engine: the image, free ports in its
/// `range` (the bind probe only when `local`), runtimes, limits, platforms and
/// the isolated network.
pub(super) async fn engine_checks(
    e: Arc<dyn Engine>,
    paths: &Paths,
    config: &Config,
    range: crate::domain::ports::PortRange,
    local: bool,
) -> Vec<Check> {
    let mut v = Vec::new();
    let e = &e;
    v.push(match e.image_present(&config.image).await {
            Ok(true) => check("image present", Status::Ok, config.image.clone(), None),
            Ok(false) => check(
                "image present",
                Status::Fail,
                format!("{} is not in the engine", config.image),
                Some("berth image build  # without a registry: sudo scripts/engine.sh images target/release/berth"),
            ),
            Err(err) => check("image present", Status::Fail, err.to_string(), None),
        });
    match e.list_workspaces().await {
        Ok(ws) => {
            let taken = ws.iter().filter_map(|w| w.ssh_port).collect();
            let free = free_count(range, &taken, |p| {
                local && std::net::TcpListener::bind((config.bind_address, p)).is_err()
            });
            let detail = format!("{free} of {} ports free in {range}", range.len());
            let fix = Some("widen `ssh.port_range` in the config file (berth config path)");
            v.push(match free {
                0 => check("free ports", Status::Fail, detail, fix),
                1..=4 => check("free ports", Status::Warn, detail, fix),
                _ => check("free ports", Status::Ok, detail, None),
            });
        }
        Err(err) => v.push(check("free ports", Status::Fail, err.to_string(), None)),
    }
    // Each registered runtime through a probe container (`domain::runtime`).
    let ctx = Ctx::new(e.clone(), config.clone(), paths.clone());
    // Built from this berth's definition (preflight's image_integrity). A
    // warning here: a stale image still runs workspaces (create only warns);
    // `berth preflight` refuses it for agent sessions.
    let c = crate::backend::preflight_image::check(&ctx, &config.image, None).await;
    let status = if c.passed { Status::Ok } else { Status::Warn };
    v.push(check(
        "image integrity",
        status,
        c.detail,
        c.guidance.as_deref(),
    ));
    v.extend(super::runtime::doctor_checks(&ctx).await);
    // podman: what it is, its init, what it lacks (`init` as the engine's
    // definition in the config says; by its name, else by its endpoint).
    if let Ok(info) = e.info().await {
        let defs = &config.engines.defs;
        let init = defs
            .get(&e.name())
            .or_else(|| defs.values().find(|d| d.host.url() == e.endpoint()))
            .and_then(|d| d.init);
        v.extend(super::doctor_podman::checks(&ctx, &info, init).await);
    }
    // Alerts: a workspace's home past [limits] disk_alert, all of them past
    // alert_threshold_pct of the host.
    v.extend(super::limits::doctor_checks(&ctx).await);
    v.push(platforms(e.as_ref()).await);
    v.push(isolated_network(e.as_ref(), config).await);
    v
}

/// The engine's own platform and, for each other one berth supports, whether an
/// emulator where the engine runs makes it usable (`--platform`).
/// berth's network for `isolated` workspaces: ours with ICC off, or absent (made
/// by the first isolated create); a network of that name berth may not use fails.
async fn isolated_network(e: &dyn Engine, config: &Config) -> Check {
    let name = &config.network.isolated_network;
    let h = crate::backend::net_isolated::health(e, name).await;
    let fix =
        format!("docker network rm {name}  # or set [network] isolated_network to another name");
    let status = if h.ok() { Status::Ok } else { Status::Fail };
    let fix = (!h.ok()).then_some(fix.as_str());
    check("isolated network", status, h.text(), fix)
}

async fn platforms(e: &dyn Engine) -> Check {
    let (native, text) = match engine_platform(e).await {
        Ok(n) => n,
        Err(err) => return check("platforms", Status::Fail, err, None),
    };
    let mut parts = vec![format!("{text} native")];
    let mut missing = None;
    for arch in Arch::ALL {
        if native == Some(Platform::new(arch)) {
            continue;
        }
        let em = match e.emulation(arch).await {
            Ok(em) => em,
            Err(err) => return check("platforms", Status::Fail, err.to_string(), None),
        };
        parts.push(format!("linux/{arch}: {}", em.describe(arch)));
        if !matches!(em, Emulation::Ready(_) | Emulation::Unknown) {
            missing.get_or_insert(arch);
        }
    }
    let detail = parts.join("; ");
    match missing {
        None => check("platforms", Status::Ok, detail, None),
        Some(arch) => Check {
            check: "platforms".into(),
            status: Status::Warn,
            detail: format!("{detail} (optional: only --platform linux/{arch} needs one)"),
            fix: Some(install_hint(arch).replace('`', "")),
        },
    }
}

pub async fn run(paths: Paths, config: Config, json: bool) -> Result<i32> {
    let v = checks(&paths, &config).await;
    let failed = v.iter().any(|c| c.status == Status::Fail);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "ok": !failed, "checks": v }))?
        );
    } else {
        for c in &v {
            let mark = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "warn",
                Status::Fail => "FAIL",
            };
            println!("[{mark}] {:<16} {}", c.check, c.detail);
            if let (Some(fix), true) = (&c.fix, c.status != Status::Ok) {
                println!("       fix: {fix}");
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
