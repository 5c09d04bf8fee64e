//! What a command working on one engine says about which one, when berth knows
//! several (with one engine it says nothing, as before).
use crate::backend::Ctx;

/// "engine NAME" when berth knows several engines.
pub fn engine(ctx: &Ctx) -> Option<String> {
    ctx.engines
        .several()
        .then(|| format!("engine {}", ctx.engine_name()))
}

/// The other engines' names, comma-separated.
pub fn others(ctx: &Ctx) -> String {
    let me = ctx.engine_name();
    let names: Vec<&str> = ctx
        .engines
        .defs()
        .iter()
        .map(|d| d.name.as_str())
        .filter(|n| *n != me)
        .collect();
    names.join(", ")
}

/// A line on stderr naming the engine a command works on ("On engine b; ..."),
/// when berth knows several; `what` says what the other engines keep.
pub fn say(ctx: &Ctx, what: &str) {
    if let Some(e) = engine(ctx) {
        eprintln!(
            "On {e} ({what} on the other engines, {}, are untouched; `--engine NAME` picks another).",
            others(ctx)
        );
    }
}

/// `" on engine NAME"` when berth knows several engines, else nothing.
pub fn suffix(ctx: &Ctx) -> String {
    engine(ctx).map_or(String::new(), |e| format!(" on {e}"))
}
