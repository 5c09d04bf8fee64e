//! Asking before something is removed: one question on stderr, "yes" or "y" on stdin.
use anyhow::{bail, Result};
use std::io::{BufRead, Write};

/// Asks `question`; true for "y"/"yes". A closed standard input is an error that
/// says how to go on without asking (`--yes`); `what` is the past participle the
/// command uses ("deleted", "removed").
pub async fn ask(question: String, what: &'static str) -> Result<bool> {
    eprint!("{question} Type 'yes' to confirm: ");
    std::io::stderr().flush()?;
    let (read, answer) = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer).unwrap_or(0);
        (read, answer)
    })
    .await?;
    if read == 0 {
        eprintln!();
        let verb = what.trim_end_matches('d');
        bail!("no confirmation (standard input is closed); nothing was {what}. Pass --yes to {verb} without asking");
    }
    Ok(matches!(answer.trim(), "y" | "yes"))
}
