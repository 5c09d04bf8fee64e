//! `berth doctor` on a podman engine (`domain::podman`): that it is podman, its
//! init process (catatonit), and each thing it lacks with what to do instead.
use super::doctor::{check, Check, Status};
use crate::backend::Ctx;
use crate::domain::podman::{self, LACKS};
use crate::engine::EngineInfo;

/// The podman lines for the engine of `ctx` (none for Docker). `init` is the
/// engine definition's `init` setting.
pub async fn checks(ctx: &Ctx, info: &EngineInfo, init: Option<bool>) -> Vec<Check> {
    if !info.flavor.is_podman() {
        return Vec::new();
    }
    let mut v = vec![check(
        "podman",
        Status::Ok,
        format!(
            "{} is podman {} (its Docker-compatible API); what podman lacks follows",
            info.endpoint, info.version
        ),
        None,
    )];
    v.push(init_check(ctx, info, init).await);
    for l in LACKS {
        v.push(Check {
            check: format!("podman: {}", l.what),
            status: Status::Warn,
            detail: l.detail.to_string(),
            fix: Some(l.instead.to_string()),
        });
    }
    v
}

/// The init process: off by the config (said with what it costs), or a probe
/// container with init on the default runtime (a missing catatonit fails it).
async fn init_check(ctx: &Ctx, info: &EngineInfo, init: Option<bool>) -> Check {
    if !podman::wants_init(init) {
        return check("podman: init", Status::Warn, podman::NO_INIT, None);
    }
    let c = crate::backend::runtime_health::check(ctx, &info.default_runtime, None).await;
    use crate::domain::runtime::Health;
    match c.health {
        Health::Unhealthy { reason } if podman::init_missing(&reason) => Check {
            check: "podman: init".into(),
            status: Status::Fail,
            detail: podman::init_missing_hint(&ctx.engine_name()),
            fix: Some("sudo apt install catatonit".into()),
        },
        Health::Healthy => check(
            "podman: init",
            Status::Ok,
            "a probe container with an init process (catatonit) ran",
            None,
        ),
        other => check(
            "podman: init",
            Status::Warn,
            format!(
                "not known: the probe on runtime {} did not run ({other:?})",
                info.default_runtime
            ),
            None,
        ),
    }
}
