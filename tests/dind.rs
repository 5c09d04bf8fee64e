//! Docker inside a workspace against the real engine: `docker run` inside a
//! `--docker` workspace after `berth image load`, its images and data surviving
//! stop/start; the privileged sidecar named in status while the workspace stays
//! hardened; no host socket inside; the registry mirror reaching the inner
//! engine; and failure paths that leave nothing behind.
//! The engine image is built once per run (scripts/engine.sh images; a create
//! --docker builds it when absent).
mod common;
use common::*;

fn inspect(container: &str, format: &str) -> String {
    let o = docker(&["inspect", "-f", format, container]);
    assert!(o.status.success(), "inspect {container}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

fn sh(sb: &Sandbox, name: &str, script: &str) -> String {
    sb.ok(&["exec", name, "--", "sh", "-c", script])
}

#[test]
fn docker_runs_inside_after_image_load_and_its_data_survives_stop_and_start() {
    let mirror = "http://127.0.0.1:5999";
    let Some(sb) = Sandbox::with_config(
        "dind-run",
        (3090, 3091),
        &format!("[docker]\nregistry_mirror = \"{mirror}\"\n"),
    ) else {
        return;
    };
    let name = sb.name("a");
    let ws = format!("workspace-{name}");
    let sidecar = format!("workspace-{name}.docker");
    let w = sb.create_ok(&name, &["--docker"]);
    assert_eq!(w["docker"]["sidecar"], sidecar.as_str(), "{w}");
    assert_eq!(w["docker"]["privileged"], true);

    // The workspace stays as hardened as any other; the sidecar alone has more.
    assert_eq!(inspect(&ws, "{{json .HostConfig.CapDrop}}"), "[\"ALL\"]");
    assert!(inspect(&ws, "{{json .HostConfig.SecurityOpt}}").contains("no-new-privileges"));
    assert_eq!(inspect(&ws, "{{.HostConfig.Privileged}}"), "false");
    assert_eq!(inspect(&ws, "{{json .HostConfig.CapAdd}}"), "null");
    assert_eq!(
        inspect(&sidecar, "{{json .HostConfig.CapAdd}}"),
        "[\"ALL\"]"
    );
    assert_eq!(
        inspect(&sidecar, "{{json .HostConfig.CapDrop}}"),
        "[\"SYS_RESOURCE\"]"
    );
    assert_eq!(inspect(&sidecar, "{{.HostConfig.Privileged}}"), "false");
    assert!(inspect(&sidecar, "{{.HostConfig.NetworkMode}}").starts_with("container:"));
    assert_eq!(
        inspect(&sidecar, "{{index .Config.Labels \"dev.berth.netns\"}}"),
        "workspace"
    );

    // Status names the privileged sidecar.
    let human = sb.ok(&["status", &name]);
    assert!(
        human.contains(&sidecar) && human.contains("privileged: capabilities ALL but SYS_RESOURCE"),
        "{human}"
    );
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["docker"]["running"], true, "{st}");

    // Inside: DOCKER_HOST, the CLI, never the host's socket.
    assert_eq!(
        sh(&sb, &name, "echo $DOCKER_HOST"),
        "tcp://localhost:2375\n"
    );
    assert_eq!(
        sh(&sb, &name, "command -v docker"),
        "/usr/local/bin/docker\n"
    );
    let mounts = inspect(&ws, "{{json .Mounts}}");
    assert!(!mounts.contains("docker.sock"), "{mounts}");
    let o = sb.berth(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "test ! -e /var/run/docker.sock && ! docker -H unix:///var/run/docker.sock version",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The host's containers are not the inner engine's.
    let inner = sh(&sb, &name, "docker ps -a --format '{{.Names}}'");
    assert!(!inner.contains(&ws), "{inner}");
    // The registry mirror reached the inner engine.
    let info = sh(
        &sb,
        &name,
        "docker info --format '{{json .RegistryConfig.Mirrors}}'",
    );
    assert!(info.contains(mirror), "{info}");

    // No registry: the image comes from the host's engine.
    let out = sb.ok(&["image", "load", &name, "debian:bookworm-slim"]);
    assert!(out.contains("Loaded debian:bookworm-slim"), "{out}");
    assert_eq!(
        sh(&sb, &name, "docker run --rm debian:bookworm-slim echo hi"),
        "hi\n"
    );
    sh(
        &sb,
        &name,
        "docker volume create keep >/dev/null && \
         docker run --rm -v keep:/d debian:bookworm-slim sh -c 'echo kept > /d/f' && \
         docker create --name keeper debian:bookworm-slim true >/dev/null",
    );

    sb.ok(&["stop", &name]);
    assert_eq!(inspect(&sidecar, "{{.State.Running}}"), "false");
    sb.ok(&["start", &name]);
    assert_eq!(inspect(&sidecar, "{{.State.Running}}"), "true");
    assert_eq!(
        sh(
            &sb,
            &name,
            "docker image ls --format '{{.Repository}}:{{.Tag}}'"
        ),
        "debian:bookworm-slim\n"
    );
    assert_eq!(
        sh(&sb, &name, "docker ps -a --format '{{.Names}}'"),
        "keeper\n"
    );
    assert_eq!(
        sh(
            &sb,
            &name,
            "docker run --rm -v keep:/d debian:bookworm-slim cat /d/f"
        ),
        "kept\n"
    );

    // Killed behind berth's back (as by an engine restart) while the workspace
    // comes back: `berth start` brings the engine back, its state intact.
    assert!(docker(&["kill", &sidecar]).status.success());
    assert!(docker(&["restart", "-t", "1", &ws]).status.success());
    sb.ok(&["start", &name]);
    assert_eq!(
        sh(
            &sb,
            &name,
            "docker start keeper >/dev/null && docker run --rm debian:bookworm-slim echo again"
        ),
        "again\n"
    );

    // The engine restarts the workspace alone (its restart policy, after a crash):
    // the sidecar holds a dead network namespace; `berth start` restarts it.
    assert!(docker(&["restart", "-t", "1", &ws]).status.success());
    let o = sb.berth(&["start", &name]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("was restarted without it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        sh(&sb, &name, "docker run --rm debian:bookworm-slim echo back"),
        "back\n"
    );

    // Delete takes the sidecar and its data volume.
    let v = sb.json(&["delete", &name, "--yes", "--json"]);
    assert_eq!(v["sidecars"], serde_json::json!([sidecar]), "{v}");
    assert_eq!(v["volumes"], serde_json::json!([sidecar]), "{v}");
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
}

#[test]
fn failures_say_what_to_do_and_leave_nothing_behind() {
    // dockerd refuses a mirror with a path: the sidecar stops at once.
    let Some(sb) = Sandbox::with_config(
        "dind-fail",
        (3092, 3093),
        "[docker]\nregistry_mirror = \"http://127.0.0.1:5999/a/path\"\n",
    ) else {
        return;
    };
    let name = sb.name("a");
    let o = sb.create(&name, &["--docker"]);
    assert_refused(&o, "failed at step \"docker\"");
    let err = stderr(&o);
    assert!(
        err.contains("invalid mirror") && err.contains(&format!("workspace-{name}.docker")),
        "{err}"
    );
    assert!(err.contains("Removed what it had created"), "{err}");
    assert!(
        sb.labelled("container").is_empty() && sb.labelled("volume").is_empty(),
        "left behind: {:?} {:?}",
        sb.labelled("container"),
        sb.labelled("volume")
    );
    let list = sb.json(&["list", "--json"]);
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["name"] == name.as_str()),
        "{list}"
    );

    // image load: a workspace without Docker inside, an image the host lacks, no
    // such workspace.
    sb.write_config("");
    let plain = sb.name("plain");
    sb.create_ok(&plain, &[]);
    let o = sb.berth(&["image", "load", &plain, "debian:bookworm-slim"]);
    assert_refused(&o, "has no Docker engine inside");
    let o = sb.berth(&["image", "load", &plain, "berth-no-such-image:404"]);
    assert_refused(&o, "has no Docker engine inside");
    let o = sb.berth(&["image", "load", "nobody-here", "debian:bookworm-slim"]);
    assert_refused(&o, "no workspace named nobody-here");
    let dk = sb.name("dk");
    sb.create_ok(&dk, &["--docker"]);
    let o = sb.berth(&["image", "load", &dk, "berth-no-such-image:404"]);
    assert_refused(&o, "is not in the host's engine");
    // Nothing reached the inner engine.
    assert_eq!(sh(&sb, &dk, "docker image ls -q | wc -l"), "0\n");
}
