//! The `containers` tool: its operations, the parameters each takes, and the JSON
//! schema `tools/list` shows. One table is the source of all three, so a parameter
//! an operation does not take is refused by name instead of silently ignored.
use serde_json::{json, Map, Value};

/// The tool's name (the seed's).
pub const TOOL: &str = "containers";

/// Every operation with the parameters it takes (besides `operation`).
pub const OPERATIONS: &[(&str, &[&str])] = &[
    ("preflight", &["image", "purpose"]),
    (
        "create",
        &[
            "name",
            "image",
            "purpose",
            "workdir",
            "mounts",
            "mount_cwd",
            "ports",
            "env",
            "env_passthrough",
            "forward_git",
            "forward_gh",
            "forward_ssh",
            "dotfiles_repo",
            "dotfiles_script",
            "dotfiles_branch",
            "dotfiles_target",
            "dotfiles_inline",
            "dotfiles_skip",
            "setup_commands",
            "memory_limit",
            "cpu_limit",
            "network",
            "repo_url",
            "net_profile",
            "provider",
            "accel",
            "disk",
            "ttl",
            "gpu",
            "persistent",
            "user",
            "cache_bust",
            "amplifier_version",
            "amplifier_bundle",
        ],
    ),
    ("exec", &["container", "command", "timeout", "as_root"]),
    ("exec_background", &["container", "command", "as_root"]),
    ("exec_poll", &["container", "job_id"]),
    ("exec_cancel", &["container", "job_id"]),
    ("exec_interactive_hint", &["container"]),
    ("list", &[]),
    ("status", &["container", "health_check"]),
    ("destroy", &["container", "force"]),
    ("destroy_all", &["confirm"]),
    ("copy_in", &["container", "host_path", "container_path"]),
    ("copy_out", &["container", "container_path", "host_path"]),
    ("snapshot", &["container", "name"]),
    ("restore", &["snapshot", "name"]),
    ("create_network", &["name"]),
    ("destroy_network", &["name", "force"]),
    ("cache_clear", &["purpose"]),
];

/// Every parameter: name, JSON schema, description.
fn params() -> Vec<(&'static str, Value, &'static str)> {
    let s = json!({"type": "string"});
    let b = json!({"type": "boolean"});
    vec![
        ("container", s.clone(), "The workspace's name (berth workspace NAME; its container is workspace-NAME)."),
        ("name", s.clone(), "create/restore: the new workspace's name (made up when omitted for create); snapshot: the snapshot's name; create_network/destroy_network: the network's name."),
        ("image", s.clone(), "Image to run (default: berth's configured workspace image); the profile builds on it."),
        ("purpose", s.clone(), "berth profile: general, python, node, rust, go, clean, try-repo or a user profile."),
        ("workdir", s.clone(), "Default directory for exec (default: /workspace with mount_cwd, else the clone or the home)."),
        ("mounts", json!({"type": "array", "items": {"type": "object", "properties": {"host": {"type": "string"}, "container": {"type": "string"}, "mode": {"type": "string", "enum": ["rw", "ro"]}}, "required": ["host", "container"]}}), "Host directories bind-mounted inside."),
        ("mount_cwd", b.clone(), "Mount the server's working directory at /workspace (default false: berth mounts host directories only when asked)."),
        ("ports", json!({"type": "array", "items": {"type": "object", "properties": {"host": {"type": "integer"}, "container": {"type": "integer"}}, "required": ["host", "container"]}}), "Container ports published on berth's bind address."),
        ("env", json!({"type": "object", "additionalProperties": {"type": "string"}}), "Variables in the container's config (public: docker inspect shows them)."),
        ("env_passthrough", json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}), "auto, all, none, or a list of names: host variables passed as secrets on a tmpfs."),
        ("forward_git", b.clone(), "Copy the host's git config and known_hosts (default: berth's config)."),
        ("forward_gh", b.clone(), "Forward the GitHub CLI's token (default: berth's config)."),
        ("forward_ssh", b.clone(), "Make the host's ssh-agent available inside (default: berth's config)."),
        ("dotfiles_repo", s.clone(), "Dotfiles repository URL."),
        ("dotfiles_script", s.clone(), "Install script in the dotfiles repository."),
        ("dotfiles_branch", s.clone(), "Branch of the dotfiles repository."),
        ("dotfiles_target", s.clone(), "Where the dotfiles repository is cloned (default ~/.dotfiles)."),
        ("dotfiles_inline", json!({"type": "object", "additionalProperties": {"type": "string"}}), "Files written into the home: {path: content}."),
        ("dotfiles_skip", b.clone(), "No dotfiles, whatever the config says."),
        ("setup_commands", json!({"type": "array", "items": {"type": "string"}}), "Commands run after the profile's setup (sh -lc, as the workspace user)."),
        ("memory_limit", s.clone(), "Memory limit, e.g. 4g."),
        ("cpu_limit", json!({"type": "number"}), "CPU limit in cores."),
        ("network", s.clone(), "bridge (berth's configured network profile) or a network made with create_network; host is refused."),
        ("repo_url", s.clone(), "Repository cloned into ~/repo (required by purpose=try-repo)."),
        ("net_profile", s.clone(), "berth network profile: open, isolated, proxy or offline (default: berth's config)."),
        ("provider", s.clone(), "container (a container on the engine) or vm (a QEMU microVM with its own kernel; needs net_profile open or offline). Default: berth's config."),
        ("accel", s.clone(), "provider=vm: auto (default), kvm or tcg (no hardware assist: several times slower)."),
        ("disk", s.clone(), "provider=vm: the size of its home disk, e.g. 20g (default 10g)."),
        ("ttl", s.clone(), "How long it lives unused: 8h, 3d or never (default: berth's config)."),
        ("gpu", b.clone(), "Refused when true: berth gives workspaces no GPU."),
        ("persistent", b.clone(), "Ignored: every berth workspace persists until destroyed or its TTL runs out."),
        ("user", s.clone(), "Refused: berth workspaces run as their user workspace (uid 1000)."),
        ("cache_bust", b.clone(), "Ignored: berth rebuilds a profile's image whenever its definition changes."),
        ("amplifier_version", s.clone(), "Refused: berth has no amplifier profile."),
        ("amplifier_bundle", s.clone(), "Refused: berth has no amplifier profile."),
        ("command", s.clone(), "A shell command, run with sh -lc as the workspace user."),
        ("timeout", json!({"type": "number"}), "exec: seconds before the command is killed (default 300)."),
        ("as_root", b.clone(), "Refused when true: workspaces run without capabilities or privilege escalation."),
        ("job_id", s.clone(), "A background job's id (background jobs are not offered; see the error)."),
        ("health_check", b.clone(), "Accepted; status always says whether the workspace runs and is provisioned."),
        ("force", b.clone(), "destroy: accepted (a running workspace is stopped and removed either way); destroy_network: detach its members first."),
        ("confirm", b.clone(), "destroy_all: must be true, or nothing is removed."),
        ("host_path", s.clone(), "A path on the host (relative: to the server's working directory)."),
        ("container_path", s.clone(), "A path in the workspace (relative: to /home/workspace)."),
        ("snapshot", s.clone(), "restore: the snapshot to restore."),
    ]
}

/// The parameters `op` takes, or None for an unknown operation.
pub fn takes(op: &str) -> Option<&'static [&'static str]> {
    OPERATIONS.iter().find(|(o, _)| *o == op).map(|(_, p)| *p)
}

/// The operation names, in the table's order.
pub fn operation_names() -> Vec<&'static str> {
    OPERATIONS.iter().map(|(o, _)| *o).collect()
}

/// The tool as `tools/list` shows it.
pub fn tool() -> Value {
    let mut props = Map::new();
    props.insert(
        "operation".into(),
        json!({"type": "string", "enum": operation_names(), "description": "What to do."}),
    );
    for (name, mut schema, description) in params() {
        schema["description"] = description.into();
        props.insert(name.into(), schema);
    }
    json!({
        "name": TOOL,
        "title": "berth workspaces",
        "description": "Isolated Docker workspaces managed by berth: preflight, create, exec, \
            exec_interactive_hint, list, status, destroy, destroy_all (confirm=true), copy_in, \
            copy_out, snapshot, restore, create_network, destroy_network. Results are JSON; \
            errors come back with isError and the reason.",
        "inputSchema": {"type": "object", "properties": props, "required": ["operation"]},
    })
}

/// Refuses a parameter `op` does not take, naming the ones it does.
pub fn check_params(op: &str, args: &Map<String, Value>) -> Result<(), String> {
    let Some(allowed) = takes(op) else {
        return Err(format!(
            "unknown operation {op:?}; the containers tool's operations are: {}",
            operation_names().join(", ")
        ));
    };
    let mut unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "operation" && !allowed.contains(k))
        .collect();
    unknown.sort_unstable();
    if unknown.is_empty() {
        return Ok(());
    }
    let takes = if allowed.is_empty() {
        "no parameters".to_string()
    } else {
        allowed.join(", ")
    };
    Err(format!(
        "operation {op} does not take {}; it takes {takes}",
        unknown.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_of_every_operation_is_described() {
        let described: Vec<&str> = params().iter().map(|(n, _, _)| *n).collect();
        for (op, ps) in OPERATIONS {
            for p in *ps {
                assert!(described.contains(p), "{op}: {p} has no schema");
            }
        }
        let t = tool();
        assert_eq!(t["name"], "containers");
        assert_eq!(t["inputSchema"]["required"][0], "operation");
        assert_eq!(
            t["inputSchema"]["properties"]["operation"]["enum"]
                .as_array()
                .map(Vec::len),
            Some(OPERATIONS.len())
        );
    }

    #[test]
    fn unknown_operations_and_parameters_are_refused_by_name() {
        let args = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(check_params(
            "exec",
            &args(json!({"operation": "exec", "container": "a", "command": "ls"}))
        )
        .is_ok());
        let e = check_params("exec", &args(json!({"containr": "a"}))).unwrap_err();
        assert!(
            e.contains("does not take containr") && e.contains("container, command"),
            "{e}"
        );
        let e = check_params("list", &args(json!({"x": 1}))).unwrap_err();
        assert!(e.contains("takes no parameters"), "{e}");
        let e = check_params("nuke", &args(json!({}))).unwrap_err();
        assert!(
            e.contains("unknown operation \"nuke\"") && e.contains("destroy_all"),
            "{e}"
        );
    }
}
