//! Provisioning: post-start, clone, thread reuse, refused input; failures leave nothing.
mod common;
use common::*;

#[test]
fn failing_post_start_leaves_no_container_volume_or_port() {
    let Some(sb) = Sandbox::new("post", (2650, 2659)) else {
        return;
    };
    let name = sb.name("a");
    let o = sb.create(
        &name,
        &["--post-start", "echo about-to-fail; echo oops >&2; exit 7"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("failed at step \"post-start\""), "{err}");
    assert!(
        err.contains("exited with status 7") && err.contains("oops"),
        "{err}"
    );
    assert!(err.contains("Removed what it had created"), "{err}");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    // Its port was released: the next workspace gets the lowest port again.
    let ok = sb.name("b");
    let w = sb.create_ok(
        &ok,
        &[
            "--post-start",
            "echo fine > ~/post.txt; id -un >> ~/post.txt",
        ],
    );
    assert_eq!(w["ssh_port"], 2650);
    assert_eq!(
        sb.ok(&["exec", &ok, "--", "cat", "/home/workspace/post.txt"]),
        "fine\nworkspace\n"
    );
    // post_start from the config file applies when no flag is given; it runs as a login shell.
    sb.write_config("");
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(
        sb.config_file(),
        format!("post_start = \"echo $0 > ~/shell.txt\"\n{text}"),
    )
    .unwrap();
    let c = sb.name("c");
    sb.create_ok(&c, &[]);
    assert_eq!(
        sb.ok(&["exec", &c, "--", "cat", "/home/workspace/shell.txt"]),
        "/bin/sh\n"
    );
}

#[test]
fn bad_names_and_bad_config_create_nothing() {
    let Some(sb) = Sandbox::new("badin", (2775, 2779)) else {
        return;
    };
    for bad in [
        "Upper",
        "1digit",
        "under_score",
        "-dash",
        &"a".repeat(64),
        "dot.name",
        "",
    ] {
        let key = format!("{}.pub", sb.key().display());
        let o = sb.berth(&["create", "--ssh-key", &key, "--", bad]);
        assert_eq!(o.status.code(), Some(1), "{bad:?}");
        let err = stderr(&o);
        assert!(
            err.contains("lowercase")
                || err.contains("at most 63")
                || err.contains("only lowercase"),
            "{bad:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    }
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());

    // A bad config file names the file, line and field, and nothing is created.
    let good = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(
        sb.config_file(),
        format!("{good}\n[resources]\nmemory = \"lots\"\n"),
    )
    .unwrap();
    let o = sb.create(&sb.name("x"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("config.toml: line") && err.contains("resources.memory"),
        "{err}"
    );
    std::fs::write(sb.config_file(), format!("imagee = \"x\"\n{good}")).unwrap();
    let err = stderr(&sb.berth(&["list"]));
    assert!(err.contains("unknown field `imagee`"), "{err}");
    std::fs::write(sb.config_file(), &good).unwrap();

    // A missing image is refused before anything is made.
    let o = sb.create(&sb.name("y"), &["--image", "berth/does-not-exist:never"]);
    assert!(stderr(&o).contains("berth image build"), "{}", stderr(&o));
    // A missing key file is refused before anything is made.
    let o = sb.berth(&["create", &sb.name("z"), "--ssh-key", "/nonexistent/key.pub"]);
    assert!(
        stderr(&o).contains("/nonexistent/key.pub"),
        "{}",
        stderr(&o)
    );
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());

    // config path / show
    assert_eq!(
        sb.ok(&["config", "path"]).trim(),
        sb.config_file().display().to_string()
    );
    let shown = sb.ok(&["config", "show"]);
    assert!(
        shown.contains("port_range = \"2775-2779\"") && shown.contains("memory = \"4g\""),
        "{shown}"
    );
}

#[test]
fn thread_reuses_its_workspace() {
    let Some(sb) = Sandbox::new("thread", (2670, 2679)) else {
        return;
    };
    let thread = format!("thr-{}", run_id());
    let a = sb.name("a");
    let first = sb.create_ok(&a, &["--thread", &thread]);
    assert_eq!(first["thread"], thread.as_str());
    assert_eq!(first["reused"], false);
    sb.ok(&["stop", &a]);
    // Same thread, another name: the existing workspace comes back (started), no second one.
    let b = sb.name("b");
    let second = sb.create_ok(&b, &["--thread", &thread]);
    assert_eq!(second["reused"], true);
    assert_eq!(second["name"], a.as_str());
    assert_eq!(second["state"], "running");
    assert!(!sb.container_exists(&b));
    assert_eq!(sb.labelled("container").len(), 1);
    // Another platform is another workspace.
    let c = sb.name("c");
    let third = sb.create_ok(&c, &["--thread", &thread, "--platform", "linux/amd64"]);
    assert_eq!(third["reused"], false);
    assert_eq!(third["platform"], "linux/amd64");
}

#[test]
fn clone_puts_the_repo_in_home_and_a_bad_url_fails_cleanly() {
    let Some(sb) = Sandbox::new("clone", (2660, 2669)) else {
        return;
    };
    // The repository is cloned from a git server in another workspace.
    sb.use_profile("open");
    // A git server in one of our own workspaces (git daemon on an unprivileged port).
    let srv = sb.name("srv");
    sb.create_ok(&srv, &[]);
    let setup = "set -e; mkdir -p ~/srv && git init -q --bare ~/srv/r.git; \
                 git init -q ~/src && cd ~/src && echo hello > README && git add README && \
                 git -c user.email=t@t -c user.name=t commit -qm init && git push -q ~/srv/r.git HEAD:refs/heads/main && \
                 git --git-dir ~/srv/r.git symbolic-ref HEAD refs/heads/main && \
                 git daemon --detach --reuseaddr --export-all --base-path=/home/workspace/srv --port=9418";
    sb.ok(&["exec", &srv, "--", "sh", "-c", setup]);
    let ip = container_ip(&srv);
    let url = format!("git://{}:9418/r.git", ip);
    let mut ready = false;
    for _ in 0..50 {
        if sb
            .berth(&["exec", &srv, "--", "git", "ls-remote", &url])
            .status
            .success()
        {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "git daemon did not come up");

    let dev = sb.name("dev");
    sb.create_ok(
        &dev,
        &[
            "--clone",
            &url,
            "--post-start",
            "test -f README && echo in-repo > ~/where.txt",
        ],
    );
    assert_eq!(
        sb.ok(&["exec", &dev, "--", "cat", "/home/workspace/repo/README"]),
        "hello\n"
    );
    assert_eq!(
        sb.ok(&["exec", &dev, "--", "cat", "/home/workspace/where.txt"]),
        "in-repo\n"
    );
    let owner = sb.ok(&[
        "exec",
        &dev,
        "--",
        "stat",
        "-c",
        "%U",
        "/home/workspace/repo",
    ]);
    assert_eq!(owner, "workspace\n");

    let bad = sb.name("bad");
    let o = sb.create(
        &bad,
        &["--clone", &format!("git://{}:9418/missing.git", ip)],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("failed at step \"clone\""),
        "{}",
        stderr(&o)
    );
    assert!(!sb.container_exists(&bad) && !sb.volume_exists(&bad));
}
