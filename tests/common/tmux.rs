//! Drives a real terminal: a private tmux server per test (its own socket), keys
//! in with send-keys, the screen out with capture-pane.
#![allow(dead_code)]
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `shell_cmd` in a new w x h session on a private server.
    pub fn start(tag: &str, w: u16, h: u16, shell_cmd: &str) -> Self {
        let socket = format!("berth-test-{tag}-{}", std::process::id());
        let t = Tmux { socket };
        let o = t.raw(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            shell_cmd,
        ]);
        assert!(
            o.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        t.raw(&["set-option", "-g", "status", "off"]);
        t
    }

    fn raw(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux")
    }

    /// Keys as tmux names them ("Enter", "Tab", "C-c") or literal text with `-l`.
    pub fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "main"];
        a.extend_from_slice(keys);
        assert!(self.raw(&a).status.success());
    }

    pub fn text(&self, text: &str) {
        assert!(self
            .raw(&["send-keys", "-t", "main", "-l", text])
            .status
            .success());
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.raw(&["capture-pane", "-p", "-t", "main"]).stdout).to_string()
    }

    /// The screen with attributes (`capture-pane -e -N`: SGR escapes, trailing cells kept).
    pub fn screen_with_attributes(&self) -> String {
        String::from_utf8_lossy(
            &self
                .raw(&["capture-pane", "-p", "-e", "-N", "-t", "main"])
                .stdout,
        )
        .to_string()
    }

    /// A tmux format for the pane (`display -p`), e.g. "#{cursor_x}".
    pub fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.raw(&["display", "-p", "-t", "main", format]).stdout)
            .trim_end()
            .to_string()
    }

    pub fn resize(&self, w: u16, h: u16) {
        assert!(self
            .raw(&[
                "resize-window",
                "-t",
                "main",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string()
            ])
            .status
            .success());
    }

    /// Waits until the screen satisfies `pred`. The screen returned is, where it
    /// can be, one seen twice in a row (a whole frame, not one caught while the
    /// terminal was still drawing it), so what the test checks next holds; a
    /// screen that moves on (a shell printing, a state that passes) is taken as
    /// last seen. Panics with the screen on timeout.
    pub fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if pred(&s) {
                return self.settled(s, &pred);
            }
            if Instant::now() > deadline {
                panic!("timed out after {secs}s waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn settled(&self, mut last: String, pred: &impl Fn(&str) -> bool) -> String {
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(50));
            let next = self.screen();
            if next == last || !pred(&next) {
                return last;
            }
            last = next;
        }
        last
    }
}

/// The list row of workspace `name`: its name cell is the name, or the name cut
/// short with "…" (the list cuts long names to fit its NAME column).
pub fn list_row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        let mut cs = l.chars();
        if !(cs.next() == Some('│') && cs.next().is_some_and(|c| "●○◌‖↻…✖⚠?".contains(c)))
        {
            return false;
        }
        let Some(cell) = cs.as_str().split_whitespace().next() else {
            return false;
        };
        cell == name
            || cell
                .strip_suffix('…')
                .is_some_and(|p| p.chars().count() >= 8 && name.starts_with(p))
    })
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Only our own server, by its private socket.
        let _ = self.raw(&["kill-server"]);
    }
}
