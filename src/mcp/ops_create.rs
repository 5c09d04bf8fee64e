//! `create`: the seed's parameters mapped onto berth's `CreateSpec` (the same
//! spec `berth create`'s flags make), then berth's create with its steps as the
//! `provisioning_report`.
use super::params::{Args, ToolResult};
use super::progress::ReportEntry;
use super::Call;
use crate::backend::create::{create, workspace_spec, CreateOutcome, CreateRequest, CreateSpec};
use serde_json::{json, Value};
use std::path::Path;

/// Where `mount_cwd` puts the server's working directory (the seed's path).
pub const CWD_MOUNT: &str = "/workspace";

/// The seed's create parameters as berth's spec; `cwd` is the server's working
/// directory (for `mount_cwd` and relative host paths). Parameters berth cannot
/// honour are refused with the reason.
pub fn create_spec(a: &Args, cwd: &Path) -> ToolResult<CreateSpec> {
    if a.bool("gpu")? == Some(true) {
        return Err("gpu=true: berth gives workspaces no GPU; leave gpu out (or false)".into());
    }
    if a.string("user")?.is_some() {
        return Err("user: berth workspaces always run as their user workspace (uid 1000, the owner of its home); leave user out".into());
    }
    for p in ["amplifier_version", "amplifier_bundle"] {
        if a.string(p)?.is_some() {
            return Err(format!("{p}: berth has no amplifier profile; install it with setup_commands (e.g. \"pip install --user amplifier\") instead"));
        }
    }
    // persistent and cache_bust are accepted and ignored (documented).
    a.bool("persistent")?;
    a.bool("cache_bust")?;
    let abs = |h: &str| {
        let p = Path::new(h);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let mut mounts = Vec::new();
    for m in a.objects("mounts")? {
        let get = |k: &str| m.get(k).and_then(Value::as_str);
        let (Some(host), Some(inside)) = (get("host"), get("container")) else {
            return Err("each of mounts needs host and container (strings), e.g. {\"host\": \"/data\", \"container\": \"/data\", \"mode\": \"ro\"}".into());
        };
        let mode = match get("mode").unwrap_or("rw") {
            "rw" => "",
            "ro" => ":ro",
            other => return Err(format!("mounts: mode {other:?} is neither rw nor ro")),
        };
        mounts.push(format!("{}:{inside}{mode}", abs(host).display()));
    }
    let mount_cwd = a.bool("mount_cwd")?.unwrap_or(false);
    if mount_cwd {
        mounts.push(format!("{}:{CWD_MOUNT}", cwd.display()));
    }
    let mut ports = Vec::new();
    for p in a.objects("ports")? {
        let get = |k: &str| p.get(k).and_then(Value::as_u64);
        let (Some(h), Some(c)) = (get("host"), get("container")) else {
            return Err("each of ports needs host and container (numbers), e.g. {\"host\": 8080, \"container\": 80}".into());
        };
        ports.push(format!("{h}:{c}"));
    }
    let env_passthrough = match a.0.get("env_passthrough") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(_)) => Some(a.strings("env_passthrough")?.join(",")),
        Some(_) => {
            return Err(
                "env_passthrough must be auto, all, none or a list of variable names".into(),
            )
        }
    };
    let mut networks = Vec::new();
    match a.string("network")?.as_deref() {
        None | Some("bridge") | Some("") => {}
        Some("host") => return Err("network=host: berth never puts a workspace on the host's network; leave network out (bridge), or pick a berth network profile with net_profile".into()),
        Some(n) => networks.push(n.to_string()),
    }
    let workdir = a
        .string("workdir")?
        .or_else(|| mount_cwd.then(|| CWD_MOUNT.to_string()));
    let dotfiles = crate::backend::create::DotfilesRequest {
        url: a.string("dotfiles_repo")?,
        branch: a.string("dotfiles_branch")?,
        target: a.string("dotfiles_target")?,
        script: a.string("dotfiles_script")?,
        files: a
            .string_map("dotfiles_inline")?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        dir: None,
        skip: a.bool("dotfiles_skip")?.unwrap_or(false),
    };
    Ok(CreateSpec {
        name: a.string("name")?.unwrap_or_default(),
        image: a.string("image")?,
        profile: a.string("purpose")?,
        clone_url: a.string("repo_url")?,
        env: a
            .string_map("env")?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        env_passthrough,
        forward_git: a.bool("forward_git")?,
        forward_gh: a.bool("forward_gh")?,
        forward_ssh: a.bool("forward_ssh")?,
        dotfiles,
        setup: a.strings("setup_commands")?,
        mounts,
        ports,
        cpus: a.number("cpu_limit")?,
        memory: a.string("memory_limit")?,
        workdir,
        networks,
        net_profile: a.string("net_profile")?,
        provider: a.string("provider")?,
        accel: a.string("accel")?,
        disk: a.string("disk")?,
        ttl: a.string("ttl")?,
        ..CreateSpec::default()
    })
}

/// berth's step labels under the seed's names where there is one.
fn seed_name(label: &str) -> &str {
    match label {
        "env" => "env_passthrough",
        "git" => "forward_git",
        "gh" => "forward_gh",
        "ssh-agent" => "forward_ssh",
        "setup" => "setup_commands",
        other => other,
    }
}

/// The report: berth's steps, then the seed's optional ones the plan did not have
/// ("skipped").
pub fn report(steps: Vec<ReportEntry>) -> Vec<ReportEntry> {
    let mut out: Vec<ReportEntry> = steps
        .into_iter()
        .map(|mut e| {
            e.name = seed_name(&e.name).to_string();
            e
        })
        .collect();
    for name in [
        "forward_git",
        "forward_gh",
        "forward_ssh",
        "dotfiles",
        "setup_commands",
    ] {
        if !out.iter().any(|e| e.name == name) {
            out.push(ReportEntry {
                name: name.into(),
                status: "skipped".into(),
                detail: "not requested".into(),
            });
        }
    }
    out
}

pub async fn run(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let ctx = call.ctx;
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let spec = create_spec(a, &cwd)?;
    let keys = crate::backend::keys::for_create(&ctx.paths, None)
        .await
        .map_err(|e| format!("{e:#}"))?;
    for n in &keys.notes {
        tracing::info!(note = %n, "mcp create");
    }
    let name_generated = spec.name.trim().is_empty();
    let host_env = crate::backend::create::host_env_names();
    let spec = workspace_spec(&ctx.config, spec, host_env.iter().map(String::as_str))
        .map_err(|e| format!("{e:#}"))?;
    let req = CreateRequest {
        spec,
        keys: keys.keys,
        identities: keys.identities,
        name_generated,
        restore: None,
    };
    let result = create(ctx, req, call.progress, call.cancel.clone()).await;
    let steps = report(call.progress.steps());
    let (ws, reused) = match result {
        Ok(CreateOutcome::Created(w)) => (w, false),
        Ok(CreateOutcome::Reused(w)) => (w, true),
        Err(e) => {
            let failed: Vec<String> = steps
                .iter()
                .filter(|s| s.status == "failed")
                .map(|s| format!("{}: {}", s.name, s.detail))
                .collect();
            let mut msg = format!("{e:#}");
            if !failed.is_empty() {
                msg.push_str(&format!(" (failed step: {})", failed.join("; ")));
            }
            return Err(msg);
        }
    };
    let warm = !reused && crate::backend::pool::is_warm(&ws);
    Ok(json!({
        "success": true,
        "container": ws.name,
        "provisioning_report": steps,
        "cache_used": warm,
        "workspace": crate::cli::workspace_json(&ws),
        "connect": format!("berth ssh {}", ws.name),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> ToolResult<CreateSpec> {
        let m = v.as_object().cloned().unwrap_or_default();
        create_spec(&Args(&m), Path::new("/home/u/proj"))
    }

    #[test]
    fn seed_parameters_map_onto_berths_spec() {
        let s = spec(serde_json::json!({
            "name": "my-env", "image": "img", "purpose": "python",
            "mounts": [{"host": "data", "container": "/data", "mode": "ro"}],
            "mount_cwd": true,
            "ports": [{"host": 8080, "container": 80}],
            "env": {"A": "1"}, "env_passthrough": ["X", "Y"],
            "forward_git": false, "forward_ssh": true,
            "dotfiles_repo": "https://example.com/d", "dotfiles_inline": {".bashrc": "x=1"},
            "setup_commands": ["echo hi"], "memory_limit": "4g", "cpu_limit": 2.0,
            "network": "my-stack", "repo_url": "https://example.com/r",
            "provider": "vm", "accel": "tcg", "disk": "20g",
            "persistent": true, "cache_bust": true, "gpu": false,
        }))
        .unwrap();
        assert_eq!(s.name, "my-env");
        assert_eq!(s.profile.as_deref(), Some("python"));
        assert_eq!(
            s.mounts,
            vec!["/home/u/proj/data:/data:ro", "/home/u/proj:/workspace"]
        );
        assert_eq!(s.workdir.as_deref(), Some("/workspace"));
        assert_eq!(s.ports, vec!["8080:80"]);
        assert_eq!(s.env, vec!["A=1"]);
        assert_eq!(s.env_passthrough.as_deref(), Some("X,Y"));
        assert_eq!(
            (s.forward_git, s.forward_gh, s.forward_ssh),
            (Some(false), None, Some(true))
        );
        assert_eq!(s.dotfiles.files, vec![".bashrc=x=1"]);
        assert_eq!(s.setup, vec!["echo hi"]);
        assert_eq!((s.memory.as_deref(), s.cpus), (Some("4g"), Some(2.0)));
        assert_eq!(s.networks, vec!["my-stack"]);
        assert_eq!(s.clone_url.as_deref(), Some("https://example.com/r"));
        assert_eq!(
            (s.provider.as_deref(), s.accel.as_deref(), s.disk.as_deref()),
            (Some("vm"), Some("tcg"), Some("20g"))
        );
    }

    #[test]
    fn defaults_leave_berths_config_in_charge() {
        let s = spec(serde_json::json!({"network": "bridge"})).unwrap();
        assert_eq!(s, CreateSpec::default());
    }

    #[test]
    fn what_berth_cannot_honour_is_refused_with_the_reason() {
        for (v, want) in [
            (serde_json::json!({"gpu": true}), "no GPU"),
            (serde_json::json!({"network": "host"}), "host's network"),
            (serde_json::json!({"user": "root"}), "uid 1000"),
            (
                serde_json::json!({"amplifier_version": "1"}),
                "no amplifier profile",
            ),
            (
                serde_json::json!({"mounts": [{"host": "/a", "container": "/b", "mode": "x"}]}),
                "neither rw nor ro",
            ),
            (
                serde_json::json!({"ports": [{"host": "a"}]}),
                "host and container",
            ),
            (serde_json::json!({"env_passthrough": 3}), "auto, all, none"),
        ] {
            let e = spec(v.clone()).unwrap_err();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn the_report_uses_the_seeds_names_and_lists_what_was_skipped() {
        let r = report(vec![
            ReportEntry {
                name: "env".into(),
                status: "success".into(),
                detail: "d".into(),
            },
            ReportEntry {
                name: "git".into(),
                status: "success".into(),
                detail: "d".into(),
            },
        ]);
        let names: Vec<&str> = r.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "env_passthrough",
                "forward_git",
                "forward_gh",
                "forward_ssh",
                "dotfiles",
                "setup_commands"
            ]
        );
        assert_eq!(r[2].status, "skipped");
    }
}
