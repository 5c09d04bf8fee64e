//! The background jobs in the TUI (pure): who runs them, shown in the status bar,
//! and their runs that acted (a notice) or failed (the error line).
use super::state::State;
use crate::backend::jobs::record::JobsNews;

pub fn on_news(s: &mut State, news: JobsNews) {
    match news {
        JobsNews::Runner(who) => s.jobs_runner = Some(who),
        JobsNews::Ran {
            job,
            ok: true,
            summary,
        } => s.notice = Some(format!("{job}: {summary}")),
        JobsNews::Ran {
            job,
            ok: false,
            summary,
        } => s.last_error = Some(format!("job {job} {summary}")),
    }
}
