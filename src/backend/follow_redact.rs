//! The logs pane's redactor, kept current. A follower lives as long as its
//! workspace stays selected, while `berth secret set` (another process) may rotate
//! a value or add a secret meanwhile: a redactor made once would show the new
//! value. So before each batch of lines is shown, berth's store is asked for the
//! secrets' records, and the redactor is made again when they changed. `secret
//! set` records the source before it writes the new file, so a line printed with
//! the new value is always seen after the record changed.
use super::Ctx;
use crate::domain::naming::WorkspaceName;
use crate::domain::redact_stream::SecretRedactor;
use crate::domain::secrets::Secret;
use std::borrow::Cow;

#[derive(Default)]
pub struct LiveRedactor {
    /// Where to look again; `None`: fixed.
    source: Option<(Ctx, WorkspaceName)>,
    /// The records the current redactor was made from.
    seen: Option<Vec<Secret>>,
    /// When (Unix seconds) it was made: records change within a second (their
    /// time's unit), so one made in the second of the newest change is made again.
    made_at: i64,
    current: SecretRedactor,
}

impl LiveRedactor {
    /// A redactor that stays as it is.
    pub fn fixed(current: SecretRedactor) -> Self {
        Self {
            current,
            ..Default::default()
        }
    }

    /// The values workspace `name` holds, made again when its secrets change.
    pub fn following(ctx: Ctx, name: WorkspaceName) -> Self {
        Self {
            source: Some((ctx, name)),
            ..Default::default()
        }
    }

    /// Makes the redactor again when the store's secrets changed since it was
    /// made (a store that cannot be read keeps the current one).
    pub async fn refresh(&mut self) {
        let Some((ctx, name)) = &self.source else {
            return;
        };
        let Ok(all) = ctx.store.secrets().await else {
            return;
        };
        let newest = all.iter().map(|s| s.updated).max().unwrap_or(0);
        if self.seen.as_ref() == Some(&all) && self.made_at > newest {
            return;
        }
        let now = chrono::Utc::now().timestamp();
        self.current = match super::inventory::find(ctx, name).await {
            Ok(Some(w)) => super::secrets::redactor_for(ctx, &w).await.0,
            _ => SecretRedactor::default(),
        };
        self.seen = Some(all);
        self.made_at = now;
    }

    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }

    pub fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.current.apply(text)
    }
}
