//! The provisioning plan's order and where a workspace's provisioning stands.
use super::*;
use crate::domain::naming::WorkspaceName;
use crate::domain::resources::Resources;

fn spec(clone: Option<&str>, post: Option<&str>) -> WorkspaceSpec {
    WorkspaceSpec {
        name: WorkspaceName::parse("w").unwrap(),
        image: "i".into(),
        clone_url: clone.map(Into::into),
        thread: None,
        platform: None,
        profile: "general".into(),
        post_start: post.map(Into::into),
        resources: Resources::default(),
        runtime: None,
        extra_labels: Default::default(),
        options: Default::default(),
    }
}

#[test]
fn base_plan_reaches_ssh_before_optional_steps_and_commits_last() {
    let p = plan(&spec(None, None));
    assert_eq!(p.first(), Some(&Step::Volume));
    assert_eq!(p.last(), Some(&Step::Commit));
    let pos = |s: &Step| p.iter().position(|x| x == s).unwrap();
    assert!(pos(&Step::Port) < pos(&Step::Image));
    assert!(pos(&Step::Image) < pos(&Step::Container));
    assert!(pos(&Step::Start) < pos(&Step::Keys));
    assert!(pos(&Step::PinHostKey) < pos(&Step::Env));
    // Credentials before anything that may clone a private repository.
    assert!(pos(&Step::Env) < pos(&Step::Git));
    assert!(pos(&Step::Gh) < pos(&Step::Profile));
    assert!(!p.contains(&Step::SshAgent) && !p.contains(&Step::Dotfiles));
}

#[test]
fn the_pipeline_runs_in_the_documented_order() {
    let mut s = spec(Some("git://x/r"), Some("make"));
    s.options.forward = crate::domain::create_options::Forward {
        git: true,
        gh: true,
        ssh: true,
    };
    s.options.dotfiles.inline.push((".x".into(), "y".into()));
    s.options.setup = vec!["a".into(), "b".into()];
    s.options.detect_profile = true;
    s.options.docker = true;
    let labels: Vec<&str> = plan(&s).iter().map(|s| s.label()).collect();
    assert_eq!(
        labels,
        [
            "volume",
            "ssh port",
            "detect",
            "image",
            "container",
            "start",
            "ssh keys",
            "sshd",
            "host key",
            "env",
            "secrets",
            "docker",
            "git",
            "gh",
            "ssh-agent",
            "dotfiles",
            "clone",
            "profile",
            "setup",
            "setup",
            "post-start",
            "commit"
        ]
    );
    assert_eq!(plan(&s)[19].to_string(), "setup command 2: b");
    // Blank clone and post-start add nothing; forwarding off drops its steps.
    let mut bare = spec(Some("  "), Some(""));
    bare.options.forward = crate::domain::create_options::Forward::NONE;
    assert_eq!(plan(&bare).len(), 12);
}

#[test]
fn an_offline_workspace_reserves_no_port() {
    use crate::domain::net_profile::NetProfile;
    let mut s = spec(None, None);
    s.options.net_profile = NetProfile::Offline;
    assert!(!plan(&s).contains(&Step::Port));
    assert!(plan(&s).contains(&Step::Ssh), "sshd is still waited for");
    assert!(!restore_plan("snap", &s).contains(&Step::Port));
    s.options.net_profile = NetProfile::Isolated;
    assert!(restore_plan("snap", &s).contains(&Step::Port));
}

#[test]
fn the_log_forwarder_comes_after_the_other_sidecars_in_a_create_and_a_restore() {
    let mut s = spec(None, None);
    s.options.docker = true;
    assert!(!plan(&s).contains(&Step::Logs));
    assert!(!restore_plan("snap", &s).contains(&Step::Logs));
    s.options.forward_logs = crate::domain::log_forward::Target::parse("/tmp/x.log").unwrap();
    let p = plan(&s);
    let pos = |s: &Step| p.iter().position(|x| x == s).unwrap();
    assert_eq!(pos(&Step::Logs), pos(&Step::Docker) + 1);
    let r = restore_plan("snap", &s);
    assert_eq!(&r[r.len() - 2..], [Step::Logs, Step::Commit]);
    assert_eq!(Step::Logs.label(), "logs");
}

fn progress(step: &str, alive: bool) -> Progress {
    Progress {
        step: step.into(),
        index: 9,
        total: 10,
        pid: 77,
        alive,
    }
}

#[test]
fn a_marker_counts_only_for_its_own_container() {
    assert!(marker_matches(b"abc123\n", "abc123"));
    assert!(!marker_matches(b"abc123", "def456"));
    assert!(!marker_matches(b"", ""));
}

#[test]
fn the_engine_decides_readiness_and_the_record_names_the_step() {
    // Ready on the engine's word, whatever a stale record says.
    assert!(Provision::from_engine(true)
        .with_record(Some(&progress("post-start", false)))
        .is_ready());
    let p = Provision::from_engine(false).with_record(Some(&progress("post-start", false)));
    assert_eq!(p.word(), "incomplete");
    assert_eq!(p.step_text(), "post-start (9/10)");
    let why = p.explain("api").unwrap();
    assert!(
        why.contains("post-start") && why.contains("berth create api"),
        "{why}"
    );
    let live = Provision::from_engine(false).with_record(Some(&progress("clone", true)));
    assert_eq!(live.word(), "provisioning");
    assert!(live.explain("api").unwrap().contains("process 77"));
    // No record (another store, or lost): incomplete at an unknown step.
    let unknown = Provision::from_engine(false).with_record(None);
    assert_eq!(unknown.step_text(), "an unknown step");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["status"], "incomplete");
    assert_eq!(json["step"], "post-start");
}
