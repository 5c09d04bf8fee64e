//! Container runtimes on the CLI: the runtime line of `berth status` (the engine's
//! default named as such) and `berth doctor`'s check of each registered runtime.
use super::doctor::{check, Check, Status};
use crate::backend::{runtime_health, Ctx};
use crate::domain::runtime::{describe, registration_hint, resolve, to_check, Health};
use crate::domain::workspace::Workspace;

/// The engine's default runtime (empty when the engine cannot say).
pub async fn engine_default(ctx: &Ctx) -> String {
    ctx.engine
        .info()
        .await
        .map(|i| i.default_runtime)
        .unwrap_or_default()
}

/// `berth status --json`: `runtime` is the runtime's name (the engine's default
/// when the workspace asked for none), `runtime_engine_default` whether it is that.
pub fn add_json(v: &mut serde_json::Value, w: &Workspace, engine_default: &str) {
    set_json(v, w.runtime.as_deref(), engine_default);
}

fn set_json(v: &mut serde_json::Value, runtime: Option<&str>, engine_default: &str) {
    let name = resolve(runtime, engine_default);
    v["runtime_engine_default"] =
        serde_json::Value::Bool(!name.is_empty() && name == engine_default);
    v["runtime"] = if name.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(name)
    };
}

/// One check per registered runtime (a probe container each), saying which is the
/// engine's default; runsc named when it is not registered (optional), and the
/// configured runtime when it is not (a failure: every create would be refused).
pub async fn doctor_checks(ctx: &Ctx) -> Vec<Check> {
    let info = match ctx.engine.info().await {
        Ok(i) => i,
        Err(e) => return vec![check("runtimes", Status::Fail, e.to_string(), None)],
    };
    let configured = ctx.config.runtime.clone().filter(|r| !r.is_empty());
    let mut v = Vec::new();
    let (probe, unprobed) = crate::domain::podman::runtimes_to_probe(
        info.flavor,
        to_check(&info.runtimes),
        &info.default_runtime,
        configured.as_deref(),
    );
    if !unprobed.is_empty() {
        v.push(check(
            "runtimes listed",
            Status::Ok,
            format!(
                "podman lists {} too, installed or not (from its configuration); berth probes only the runtimes it would use",
                unprobed.join(", ")
            ),
            None,
        ));
    }
    for name in probe {
        let c = runtime_health::check(ctx, &name, None).await;
        let role = if name == info.default_runtime {
            " (the engine's default)"
        } else if configured.as_deref() == Some(name.as_str()) {
            " (berth's default: `runtime` in the config)"
        } else {
            ""
        };
        let important = !role.is_empty();
        let title = format!("runtime {name}");
        v.push(match c.health {
            Health::Healthy => check(
                title,
                Status::Ok,
                format!(
                    "healthy{role}: a probe container ran `true` and exited 0 in {:.2} s",
                    c.took.as_secs_f64()
                ),
                None,
            ),
            Health::Unhealthy { reason } => Check {
                check: title,
                status: if important {
                    Status::Fail
                } else {
                    Status::Warn
                },
                detail: format!("UNHEALTHY{role}: {reason}; workspaces cannot be created on it"),
                fix: Some(format!(
                    "docker run --rm --runtime {name} {} true  # shows the engine's own error",
                    ctx.config.image
                )),
            },
            Health::Unchecked { why } => Check {
                check: title,
                status: Status::Warn,
                detail: format!("not checked{role}: {why}"),
                fix: None,
            },
            Health::Unregistered => check(title, Status::Warn, "vanished meanwhile", None),
        });
    }
    let registered = |n: &str| info.runtimes.iter().any(|r| r == n);
    if let Some(r) = configured.as_deref().filter(|r| !registered(r)) {
        v.push(Check {
            check: format!("runtime {r}"),
            status: Status::Fail,
            detail: format!(
                "`runtime = \"{r}\"` in the config, but the engine has not registered it, so every create is refused ({})",
                describe(None, &info.default_runtime)
            ),
            fix: Some(registration_hint(r)),
        });
    }
    if !registered("runsc") && configured.as_deref() != Some("runsc") && !info.flavor.is_podman() {
        v.push(Check {
            check: "runtime runsc".into(),
            status: Status::Warn,
            detail: "gVisor is not registered (optional: `--runtime runsc` runs a workspace in a gVisor sandbox)".into(),
            fix: Some(registration_hint("runsc")),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::{MemoryEngine, RuntimeBehaviour};

    fn ctx_with(engine: std::sync::Arc<MemoryEngine>) -> (Ctx, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::config::Paths::under(dir.path());
        let store = crate::store::Store::inline_for_tests(paths.store_file());
        let ctx = Ctx::with_store(engine, Default::default(), paths, store);
        (ctx, dir)
    }

    #[tokio::test(start_paused = true)]
    async fn doctor_names_the_default_and_each_runtimes_health() {
        let engine = MemoryEngine::new();
        engine.register_runtime(
            "runsc",
            RuntimeBehaviour::FailsToStart("OCI runtime start failed".into()),
        );
        let (ctx, _dir) = ctx_with(engine.into());
        let v = doctor_checks(&ctx).await;
        let names: Vec<&str> = v.iter().map(|c| c.check.as_str()).collect();
        assert_eq!(names, ["runtime runc", "runtime runsc"]);
        assert_eq!(v[0].status, Status::Ok);
        assert!(v[0]
            .detail
            .starts_with("healthy (the engine's default): a probe container ran"));
        assert_eq!(v[1].status, Status::Warn, "not the default: optional");
        assert!(
            v[1].detail.contains("OCI runtime start failed"),
            "{}",
            v[1].detail
        );
    }

    #[tokio::test(start_paused = true)]
    async fn doctor_fails_on_a_configured_runtime_the_engine_lacks() {
        let engine = MemoryEngine::new();
        let (mut ctx, _dir) = ctx_with(engine.into());
        ctx.config.runtime = Some("runsc".into());
        let v = doctor_checks(&ctx).await;
        let c = v.iter().find(|c| c.check == "runtime runsc").unwrap();
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.contains("every create is refused"), "{}", c.detail);
        assert!(c.fix.as_deref().unwrap().contains("daemon.json"));
        assert_eq!(v.len(), 2, "runsc named once: {v:?}");
    }

    #[test]
    fn status_json_names_the_runtime_and_whether_it_is_the_default() {
        let mut v = serde_json::json!({});
        set_json(&mut v, Some("runc"), "runc");
        assert_eq!(v["runtime"], "runc");
        assert_eq!(v["runtime_engine_default"], true);
        set_json(&mut v, Some("runsc"), "runc");
        assert_eq!(v["runtime"], "runsc");
        assert_eq!(v["runtime_engine_default"], false);
        set_json(&mut v, None, "runc");
        assert_eq!(v["runtime"], "runc");
        assert_eq!(v["runtime_engine_default"], true);
        set_json(&mut v, None, "");
        assert_eq!(v["runtime"], serde_json::Value::Null);
        assert_eq!(v["runtime_engine_default"], false);
    }
}
