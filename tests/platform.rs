//! `--platform` against the real engine: a platform the engine cannot run (no
//! emulator registered with binfmt_misc) is refused before anything is made, by
//! create and by image build; bad values are refused with a sentence; the engine's
//! own platform works, is labelled and shows in status.
mod common;
use common::*;

/// The engine's platform and another berth supports (the one the test asks for).
fn native_and_foreign() -> (&'static str, &'static str) {
    let arch = stdout(&docker(&["version", "--format", "{{.Server.Arch}}"]));
    match arch.trim() {
        "arm64" => ("linux/arm64", "linux/amd64"),
        _ => ("linux/amd64", "linux/arm64"),
    }
}

/// Is an emulator for `foreign` registered (enabled) on this machine? The brief of
/// this test is a machine without one; with one, the refusal moves to the image.
fn emulated(foreign: &str) -> bool {
    let entry = if foreign.ends_with("arm64") {
        "qemu-aarch64"
    } else {
        "qemu-x86_64"
    };
    std::fs::read_to_string(format!("/proc/sys/fs/binfmt_misc/{entry}"))
        .is_ok_and(|t| t.starts_with("enabled"))
}

/// Does `berth list` know `name` (a record of a half-made create would list it)?
fn listed(sb: &Sandbox, name: &str) -> bool {
    let v = sb.json(&["list", "--json"]);
    v.as_array().unwrap().iter().any(|w| w["name"] == name)
}

fn images_of_case(sb: &Sandbox) -> String {
    let filter = format!("label=berth.test-case={}", sb.case);
    stdout(&docker(&["images", "-q", "--filter", &filter]))
}

#[test]
fn a_foreign_platform_without_an_emulator_is_refused_and_leaves_nothing() {
    let Some(sb) = Sandbox::new("platform-foreign", (3100, 3104)) else {
        return;
    };
    let (native, foreign) = native_and_foreign();
    let name = sb.name("arm");
    let o = sb.create(&name, &["--platform", foreign]);
    if emulated(foreign) {
        // The emulator is there: what is missing is an image for the platform.
        assert_refused(&o, &format!("not {foreign}"));
        assert_refused(&o, &format!("berth image build --platform {foreign}"));
    } else {
        assert_refused(
            &o,
            &format!("cannot run {foreign} on this engine: its platform is {native}"),
        );
        assert_refused(
            &o,
            "Install an emulator: `sudo apt-get install qemu-user-static",
        );
        assert_refused(&o, "leave out --platform");
    }
    // Nothing made: no container, no volume, no record (it would list as incomplete).
    assert!(!sb.container_exists(&name));
    assert!(!sb.volume_exists(&name));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    assert!(!listed(&sb, &name));

    // image build refuses it the same way, before building anything.
    if !emulated(foreign) {
        let o = sb.berth(&[
            "image",
            "build",
            "--platform",
            foreign,
            "--tag",
            "berth-test/plat:x",
        ]);
        assert_refused(&o, &format!("cannot run {foreign} on this engine"));
        assert!(images_of_case(&sb).trim().is_empty());
        assert!(!docker(&["image", "inspect", "berth-test/plat:x"])
            .status
            .success());
    }

    // doctor names the engine's platform and what the other one lacks.
    let d = sb.json(&["doctor", "--json"]);
    let check = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "platforms")
        .unwrap_or_else(|| panic!("no platforms check: {d:#}"))
        .clone();
    let detail = check["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("{native} native; {foreign}: ")),
        "{detail}"
    );
    if !emulated(foreign) {
        assert_eq!(check["status"], "warn", "{check:#}");
        assert!(check["fix"].as_str().unwrap().contains("qemu-user-static"));
    }
}

#[test]
fn bad_platform_values_are_refused_with_a_sentence() {
    let Some(sb) = Sandbox::new("platform-bad", (3105, 3105)) else {
        return;
    };
    let name = sb.name("bad");
    for (bad, says) in [
        ("linux/sparc", "berth supports linux/amd64 and linux/arm64"),
        ("amd64", "give the operating system too, like linux/amd64"),
        ("windows/amd64", "workspaces are Linux containers"),
    ] {
        let o = sb.create(&name, &["--platform", bad]);
        assert_refused(&o, &format!("--platform {bad:?}: {says}"));
        let o = sb.berth(&["image", "build", "--platform", bad]);
        assert_refused(&o, &format!("--platform {bad:?}: {says}"));
    }
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    assert!(!listed(&sb, &name));
}

#[test]
fn the_native_platform_works_is_labelled_and_shown() {
    let Some(sb) = Sandbox::new("platform-native", (3106, 3109)) else {
        return;
    };
    let (native, foreign) = native_and_foreign();
    // A refused create first: its port lease must not outlive it.
    let refused = sb.name("no");
    assert_eq!(
        sb.create(&refused, &["--platform", foreign]).status.code(),
        Some(1)
    );
    let name = sb.name("nat");
    // Another spelling of the engine's platform is the same platform.
    let spelled = native
        .replace("amd64", "x86_64")
        .replace("arm64", "aarch64");
    let w = sb.create_ok(&name, &["--platform", &spelled]);
    assert_eq!(w["platform"], native);
    assert_eq!(
        w["ssh_port"], 3106,
        "the first port: no lease was left behind"
    );
    let label = stdout(&docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"dev.berth.platform\"}}",
        &format!("workspace-{name}"),
    ]));
    assert_eq!(label.trim(), native);
    let arch = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Os}}/{{.Architecture}}",
        w["image"].as_str().unwrap(),
    ]));
    assert_eq!(arch.trim(), native);
    let s = sb.json(&["status", &name, "--json"]);
    assert_eq!(s["platform"], native);
    let human = sb.ok(&["status", &name]);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("platform") && l.ends_with(native)),
        "{human}"
    );
    // It runs: a command answers inside.
    let out = sb.ok(&["exec", &name, "--", "uname", "-m"]);
    let machine = if native.ends_with("amd64") {
        "x86_64"
    } else {
        "aarch64"
    };
    assert_eq!(out.trim(), machine);
}
