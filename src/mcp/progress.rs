//! berth's progress events as MCP `notifications/progress` (only when the client
//! sent a progress token), and the steps of a create collected for its
//! `provisioning_report`.
use super::protocol;
use crate::backend::{Progress, Report};
use serde::Serialize;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// One entry of a create's `provisioning_report` (the seed's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportEntry {
    pub name: String,
    /// success, skipped, failed (the seed's words).
    pub status: String,
    pub detail: String,
}

/// Sends each progress event to the client (awaited: a slow client slows the
/// operation, nothing is dropped) and remembers the steps.
pub struct McpProgress {
    out: mpsc::Sender<Value>,
    token: Option<Value>,
    count: AtomicU64,
    steps: Mutex<Vec<ReportEntry>>,
}

impl McpProgress {
    pub fn new(out: mpsc::Sender<Value>, token: Option<Value>) -> Self {
        Self {
            out,
            token,
            count: AtomicU64::new(0),
            steps: Mutex::new(Vec::new()),
        }
    }

    /// Sends one message (when the client asked for progress).
    pub async fn say(&self, message: &str) {
        let Some(token) = &self.token else { return };
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        // The client gone: the call's own result will fail to send too.
        let _ = self.out.send(protocol::progress(token, n, message)).await;
    }

    /// The steps seen, in order: done ones "success", a started one never done
    /// "failed".
    pub fn steps(&self) -> Vec<ReportEntry> {
        self.steps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn note_step(&self, label: &str, detail: String, status: &str) {
        if let Ok(mut s) = self.steps.lock() {
            match s
                .iter_mut()
                .rev()
                .find(|e| e.name == label && e.status == "failed")
            {
                Some(e) if status == "success" => {
                    e.status = status.into();
                    e.detail = format!("{} ({})", e.detail, detail);
                }
                _ => s.push(ReportEntry {
                    name: label.into(),
                    status: status.into(),
                    detail,
                }),
            }
        }
    }
}

/// The message for one progress event.
pub fn message(p: &Progress) -> String {
    match p {
        Progress::StepStarted {
            index,
            total,
            label,
            description,
        } => format!("[{index}/{total}] {label}: {description}"),
        Progress::StepDone {
            index,
            total,
            label,
            took,
        } => format!(
            "[{index}/{total}] {label} done in {:.1}s",
            took.as_secs_f64()
        ),
        Progress::Output { label, line } => format!("{label}: {line}"),
        Progress::Note(n) => n.clone(),
    }
}

#[async_trait::async_trait]
impl Report for McpProgress {
    async fn report(&self, p: Progress) {
        match &p {
            // Until it is done, a started step counts as the one that failed.
            Progress::StepStarted {
                label, description, ..
            } => self.note_step(label, description.clone(), "failed"),
            Progress::StepDone { label, took, .. } => {
                self.note_step(label, format!("{:.1}s", took.as_secs_f64()), "success")
            }
            _ => {}
        }
        self.say(&message(&p)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn steps_become_the_report_and_notifications_count_up() {
        let (tx, mut rx) = mpsc::channel(16);
        let p = McpProgress::new(tx, Some(serde_json::json!("tok")));
        let started = |i, label: &str| Progress::StepStarted {
            index: i,
            total: 2,
            label: label.into(),
            description: format!("doing {label}"),
        };
        p.report(started(1, "volume")).await;
        p.report(Progress::StepDone {
            index: 1,
            total: 2,
            label: "volume".into(),
            took: Duration::from_millis(1500),
        })
        .await;
        p.report(started(2, "clone")).await;
        let steps = p.steps();
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].status, "success");
        assert_eq!(steps[0].detail, "doing volume (1.5s)");
        assert_eq!(steps[1].status, "failed");
        let mut seen = Vec::new();
        while let Ok(n) = rx.try_recv() {
            seen.push(n["params"]["progress"].as_u64().unwrap());
        }
        assert_eq!(seen, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn without_a_token_nothing_is_sent() {
        let (tx, mut rx) = mpsc::channel(4);
        let p = McpProgress::new(tx, None);
        p.report(Progress::Note("hi".into())).await;
        assert!(rx.try_recv().is_err());
    }
}
