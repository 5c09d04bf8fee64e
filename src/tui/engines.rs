//! Several engines in the TUI (pure): each engine's link, the engine filter and
//! picker, events tagged with their engine (`Event::On`) applied to the list, and
//! commands routed to the engine of their workspace (`Command::On`).
//!
//! With one engine berth looks as it always did: `links` holds at most one
//! engine, no ENGINE column, no picker rows but "all" and that engine.
use super::keymap::{Action, Mode};
use super::state::{Effect, EngineLink, Overlay, State};
use crate::backend::service::{Command, Event};
use crate::domain::alerts::Alert;
use crate::domain::engines::{least_loaded, Load, Placement};
use crate::domain::workspace::WorkspaceState;
use crossterm::event::KeyEvent;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Engines {
    /// Every engine berth knows, in the order it lists them, with its link.
    pub links: Vec<(String, EngineLink)>,
    /// The engine commands use when they name none (and the create form's default).
    pub default: String,
    /// Only this engine's workspaces are listed (`None`: all).
    pub filter: Option<String>,
    /// The engine of the selected workspace.
    pub selected: Option<String>,
    /// The alerts each engine's service reported (`State::alerts` is their union).
    alerts: BTreeMap<String, Vec<Alert>>,
    /// The config's `placement`: where the create form's engine starts.
    pub placement: Placement,
}

impl Engines {
    /// The engines `names` (in order), `default` among them, all connecting.
    pub fn new(names: &[String], default: &str) -> Self {
        Self {
            links: names
                .iter()
                .map(|n| (n.clone(), EngineLink::Connecting))
                .collect(),
            default: default.to_string(),
            ..Self::default()
        }
    }

    /// More than one engine: the ENGINE column, the per-engine banner, routing.
    pub fn several(&self) -> bool {
        self.links.len() > 1
    }

    pub fn link(&self, name: &str) -> Option<&EngineLink> {
        self.links.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }

    /// Engine `name` is away: its workspaces show as unknown.
    pub fn is_down(&self, name: &str) -> bool {
        matches!(self.link(name), Some(EngineLink::Down { .. }))
    }

    pub fn any_down(&self) -> bool {
        self.links
            .iter()
            .any(|(_, l)| matches!(l, EngineLink::Down { .. }))
    }

    /// The per-engine banner: `engine build: unreachable (reason); retrying in 8 s`
    /// for each engine that is away.
    pub fn banner(&self) -> Option<String> {
        let lines: Vec<String> = self
            .links
            .iter()
            .filter_map(|(name, l)| match l {
                EngineLink::Down {
                    reason,
                    retry_in_secs,
                    ..
                } => Some(format!(
                    "engine {name}: unreachable ({reason}); retrying in {} s; its workspaces show as unknown",
                    retry_in_secs.ceil() as u64
                )),
                _ => None,
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join(" · "))
    }

    /// `2/3 engines up`, for the status bar.
    pub fn summary(&self) -> String {
        let up = self
            .links
            .iter()
            .filter(|(_, l)| matches!(l, EngineLink::Up { .. }))
            .count();
        format!("{up}/{} engines up", self.links.len())
    }

    fn set_link(&mut self, engine: &str, link: EngineLink) {
        match self.links.iter_mut().find(|(n, _)| n == engine) {
            Some((_, l)) => *l = link,
            None => self.links.push((engine.to_string(), link)),
        }
    }
}

/// An event from engine `engine`'s service.
pub fn on_event(s: &mut State, engine: String, event: Event) -> Vec<Effect> {
    match event {
        Event::Connected { endpoint } => {
            let link = EngineLink::Up { endpoint };
            if engine == s.engines.default {
                s.link = link.clone();
            }
            s.engines.set_link(&engine, link);
            vec![]
        }
        Event::Disconnected {
            endpoint,
            reason,
            retry_in,
        } => {
            let link = EngineLink::Down {
                endpoint,
                reason,
                retry_in_secs: retry_in.as_secs_f64(),
            };
            s.engines.set_link(&engine, link);
            // The list keeps its rows (shown as unknown) until the engine is back.
            super::update::refresh_view(s)
        }
        Event::Workspaces(mut ws) => {
            // This engine's rows are replaced; the others' stay as they are.
            for w in &mut ws {
                w.engine = engine.clone();
            }
            let mut all: Vec<_> = s
                .workspaces
                .iter()
                .filter(|w| w.engine != engine)
                .cloned()
                .collect();
            all.extend(ws);
            super::update::on_backend(s, Event::Workspaces(all))
        }
        Event::Alerts(a) => {
            s.engines.alerts.insert(engine, a);
            s.alerts = s.engines.alerts.values().flatten().cloned().collect();
            vec![]
        }
        Event::VolumeSizes(v) => {
            s.volume_sizes.extend(v);
            vec![]
        }
        // Each service checks its own engine's runtimes: the default's are shown.
        Event::Runtimes(_) if engine != s.engines.default => vec![],
        // Followed only on the selected workspace's engine; a late line from the
        // engine followed before is not this workspace's.
        Event::Logs { .. } | Event::LogsReset { .. } | Event::Stats { .. }
            if s.engines.selected.as_deref().is_some_and(|e| e != engine) =>
        {
            vec![]
        }
        other => super::update::on_backend(s, other),
    }
}

/// Tags each backend command with the engine of its workspace (several engines
/// only): the selected workspace's engine when it is the one named, else the
/// first workspace of that name, else the default engine.
pub fn route(s: &State, fx: Vec<Effect>) -> Vec<Effect> {
    if !s.engines.several() {
        return fx;
    }
    fx.into_iter()
        .map(|e| match e {
            Effect::Backend(cmd) if !matches!(cmd, Command::On { .. }) => {
                let engine = engine_for(s, &cmd);
                Effect::Backend(Command::On {
                    engine,
                    cmd: Box::new(cmd),
                })
            }
            e => e,
        })
        .collect()
}

fn engine_for(s: &State, cmd: &Command) -> String {
    let name = match cmd {
        Command::Select(n) | Command::Egress(n) => n.as_deref(),
        Command::Start { name, .. }
        | Command::Stop { name, .. }
        | Command::Restart { name, .. }
        | Command::Delete { name, .. }
        | Command::PrepareShell { name, .. }
        | Command::SshCommand { name }
        | Command::PlanDelete { name }
        | Command::ShellTab { name, .. }
        | Command::ShellUsed { name }
        | Command::Snapshot { name, .. }
        | Command::Agent { name, .. }
        | Command::AgentDiff { name } => Some(name.as_str()),
        Command::ListSnapshots { workspace } => Some(workspace.as_str()),
        // A snapshot is an image on the engine of the workspace it was opened for.
        Command::Restore { .. } | Command::RemoveSnapshot { .. } => {
            s.selected_workspace().map(|w| w.name.as_str())
        }
        Command::Copy { src, dst, .. } => [src, dst]
            .into_iter()
            .find_map(|p| p.split_once(':').map(|(n, _)| n)),
        _ => None,
    };
    let Some(name) = name else {
        return s.engines.default.clone();
    };
    if let Some(w) = s.selected_workspace().filter(|w| w.name == name) {
        return w.engine.clone();
    }
    s.workspaces
        .iter()
        .find(|w| w.name == name)
        .map_or_else(|| s.engines.default.clone(), |w| w.engine.clone())
}

/// The picker's rows: "all", then each engine.
pub fn picker_rows(s: &State) -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(s.engines.links.iter().map(|(n, _)| Some(n.clone())))
        .collect()
}

pub fn open_picker(s: &mut State) -> Vec<Effect> {
    let cursor = match &s.engines.filter {
        None => 0,
        Some(f) => picker_rows(s)
            .iter()
            .position(|r| r.as_ref() == Some(f))
            .unwrap_or(0),
    };
    s.overlay = Overlay::Engines { cursor };
    vec![]
}

pub fn on_picker_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let action = s.keymap.action(Mode::Engines, &k);
    let rows = picker_rows(s);
    let Overlay::Engines { cursor } = &mut s.overlay else {
        return vec![];
    };
    match action {
        Some(Action::Up) => *cursor = cursor.saturating_sub(1),
        Some(Action::Down) => *cursor = (*cursor + 1).min(rows.len().saturating_sub(1)),
        Some(Action::Confirm) => {
            let pick = rows.get(*cursor).cloned().flatten();
            s.overlay = Overlay::None;
            return narrow(s, pick);
        }
        Some(Action::Close) => s.overlay = Overlay::None,
        _ => {}
    }
    vec![]
}

/// Lists only engine `engine`'s workspaces (`None`: all).
pub fn narrow(s: &mut State, engine: Option<String>) -> Vec<Effect> {
    s.engines.filter = engine;
    super::update::refresh_view(s)
}

/// The create form's engine choices: the default (or the placement's pick)
/// first, then the others.
pub fn form_choices(s: &State) -> Vec<String> {
    let first = create_default(s);
    std::iter::once(first.clone())
        .chain(
            s.engines
                .links
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| *n != first),
        )
        .collect()
}

/// Where a create goes unless the form says otherwise: the default engine, or
/// with `placement = "least-loaded"` the engine that is up with the fewest
/// running workspaces in the list (the TUI does not know each engine's free
/// memory, so ties go by name; `berth create` also weighs memory).
pub fn create_default(s: &State) -> String {
    if s.engines.placement != Placement::LeastLoaded {
        return s.engines.default.clone();
    }
    let loads: Vec<Load> = s
        .engines
        .links
        .iter()
        .filter(|(_, l)| matches!(l, EngineLink::Up { .. }))
        .map(|(name, _)| Load {
            engine: name.clone(),
            running: s
                .workspaces
                .iter()
                .filter(|w| w.engine == *name && w.state == WorkspaceState::Running)
                .count(),
            free_memory: 0,
        })
        .collect();
    least_loaded(&loads)
        .map(|l| l.engine.clone())
        .unwrap_or_else(|| s.engines.default.clone())
}
