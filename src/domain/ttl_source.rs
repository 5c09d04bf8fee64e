//! Where a workspace's TTL comes from, in order: `berth ttl NAME DURATION` (the
//! store), `berth create --ttl` (the `dev.berth.ttl` label, the engine-held value
//! it was made with), else the config's `[lifetime] ttl` as it is now. Pure.
use super::ttl::Ttl;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TtlSource {
    /// `berth ttl NAME DURATION`.
    Set,
    /// `berth create --ttl`.
    Create,
    /// `[lifetime] ttl` in the config.
    Config,
}

impl TtlSource {
    pub fn describe(&self) -> &'static str {
        match self {
            TtlSource::Set => "set with berth ttl",
            TtlSource::Create => "from create --ttl",
            TtlSource::Config => "the config's [lifetime] ttl",
        }
    }
}

/// The TTL in force. A stored or labelled value that no longer parses (written by
/// another berth) is skipped, not trusted: the next source decides.
pub fn resolve(stored: Option<&str>, label: Option<&str>, default: Ttl) -> (Ttl, TtlSource) {
    if let Some(t) = stored.and_then(|s| Ttl::parse(s).ok()) {
        return (t, TtlSource::Set);
    }
    if let Some(t) = label.and_then(|s| Ttl::parse(s).ok()) {
        return (t, TtlSource::Create);
    }
    (default, TtlSource::Config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_then_the_label_then_the_config() {
        let day = Ttl::After(86_400);
        assert_eq!(resolve(None, None, day), (day, TtlSource::Config));
        assert_eq!(
            resolve(None, Some("8h"), day),
            (Ttl::After(8 * 3600), TtlSource::Create)
        );
        assert_eq!(
            resolve(Some("never"), Some("8h"), day),
            (Ttl::Never, TtlSource::Set)
        );
        assert_eq!(
            resolve(Some("1h"), None, Ttl::Never),
            (Ttl::After(3600), TtlSource::Set)
        );
        // Unreadable values are skipped.
        assert_eq!(
            resolve(Some("soon"), Some("bad"), day),
            (day, TtlSource::Config)
        );
    }
}
