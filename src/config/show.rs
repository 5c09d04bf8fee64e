//! The effective settings as TOML (`berth config show`): every setting, in the
//! order of the documented defaults file, so the output is itself a valid config.
use super::Config;
use crate::domain::resources::format_memory;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Config {
    /// Every setting except key bindings (the TUI's keymap prints those).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
        line("image", q(&self.image));
        line("runtime", q(self.runtime.as_deref().unwrap_or("")));
        line("provider", q(self.provider.as_str()));
        line("profile", q(&self.profile));
        line("post_start", q(self.post_start.as_deref().unwrap_or("")));
        line("theme", q(&self.theme));
        out.push_str(&self.provision.top_level_toml());
        out.push_str("\n[tui]\n");
        out.push_str(&format!("mouse = {}\n", self.mouse));
        out.push_str(&format!("log_lines = {}\n", self.log_lines));
        out.push_str(&format!("egress_records = {}\n", self.egress_records));
        out.push_str(&format!(
            "shell = {}\n",
            q(self.shell.as_deref().unwrap_or(""))
        ));
        out.push_str("\n[ssh]\n");
        out.push_str(&format!(
            "port_range = {}\n",
            q(&self.port_range.to_string())
        ));
        out.push_str(&format!(
            "bind_address = {}\n",
            q(&self.bind_address.to_string())
        ));
        out.push_str("\n[resources]\n");
        out.push_str(&format!(
            "memory = {}\n",
            q(&format_memory(self.resources.memory_bytes))
        ));
        out.push_str(&format!("pids = {}\n", self.resources.pids));
        // 0: no CPU limit.
        out.push_str(&format!("cpus = {}\n", self.resources.cpus.unwrap_or(0.0)));
        out.push_str(&self.provision.sections_toml());
        out.push_str("\n[build]\n");
        out.push_str(&format!(
            "ca_bundle = {}\n",
            q(&self
                .build_ca_bundle
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default())
        ));
        out.push_str(&self.docker.toml());
        out.push_str(&self.network.toml());
        out.push_str(&self.logs.toml());
        out.push_str(&self.lifetime.toml());
        out.push_str(&self.cleanup.toml());
        out.push_str(&self.jobs.toml());
        out.push_str(&self.pool.toml());
        out.push_str(&self.activity.toml());
        out.push_str(&self.limits.toml());
        out.push_str("\n[labels]\n");
        for (k, v) in &self.labels {
            out.push_str(&format!("{} = {}\n", q(k), q(v)));
        }
        out
    }

    /// Every setting as JSON (`berth config show --json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "image": self.image,
            "runtime": self.runtime,
            "provider": self.provider.as_str(),
            "profile": self.profile,
            "post_start": self.post_start,
            "theme": self.theme,
            "tui": {
                "mouse": self.mouse,
                "log_lines": self.log_lines,
                "shell": self.shell,
            },
            "ssh": {
                "port_range": self.port_range.to_string(),
                "bind_address": self.bind_address.to_string(),
            },
            "resources": {
                "memory": format_memory(self.resources.memory_bytes),
                "memory_bytes": self.resources.memory_bytes,
                "pids": self.resources.pids,
                "cpus": self.resources.cpus,
            },
            "labels": self.labels,
            "provision": self.provision.to_json(),
            "build": { "ca_bundle": self.build_ca_bundle },
            "docker": self.docker.to_json(),
            "network": self.network.to_json(),
            "logs": self.logs.to_json(),
            "lifetime": self.lifetime.to_json(),
            "cleanup": self.cleanup.to_json(),
            "jobs": self.jobs.to_json(),
            "pool": self.pool.to_json(),
            "activity": self.activity.to_json(),
            "limits": self.limits.to_json(),
        })
    }
}
