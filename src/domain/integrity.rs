//! Image integrity (issue 12): is the image berth is about to run the one built
//! from the definition this berth embeds? The base image carries
//! `dev.berth.definition` = the embedded definition's hash; a profile's image
//! (`berth/profile-NAME:HASH`) carries its own hash (its Dockerfile and the base
//! image's id) and sits on the base image's layers. Pure: the facts come from the
//! engine, the verdict and its sentences from here.
use super::labels;
use super::preflight::Check;
use std::collections::BTreeMap;

/// The check's name in a preflight.
pub const NAME: &str = "image_integrity";

/// What the engine says about an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    pub id: String,
    pub labels: BTreeMap<String, String>,
    /// Its filesystem layers, bottom first (empty: the engine does not say).
    pub layers: Vec<String>,
}

/// What a look at one image found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Built from the expected definition (and, for a profile's image, on the
    /// current base).
    Sound,
    Absent,
    /// Built by another version of berth from another definition.
    Stale {
        found: String,
        version: String,
    },
    /// The tag names an image with another definition label, or none: not what
    /// berth built there (retagged, rebuilt by hand, or a user's own image).
    Altered {
        found: Option<String>,
    },
    /// A profile's image that does not sit on the current base image.
    OffBase,
}

/// The base image against the definition `expected` of this berth (`version`).
pub fn base_finding(facts: Option<&ImageFacts>, expected: &str, version: &str) -> Finding {
    let Some(f) = facts else {
        return Finding::Absent;
    };
    let def = f.labels.get(labels::DEFINITION);
    let ours = f.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_IMAGE);
    match def {
        Some(d) if ours && d == expected => Finding::Sound,
        Some(d) if ours => match f.labels.get(labels::VERSION) {
            // Another berth built it from its own definition: out of date.
            Some(v) if v != version => Finding::Stale {
                found: d.clone(),
                version: v.clone(),
            },
            _ => Finding::Altered {
                found: Some(d.clone()),
            },
        },
        other => Finding::Altered {
            found: other.cloned(),
        },
    }
}

/// A profile's image at its expected tag, against its expected hash and the base
/// image it must sit on.
pub fn profile_finding(facts: Option<&ImageFacts>, expected: &str, base: &ImageFacts) -> Finding {
    let Some(f) = facts else {
        return Finding::Absent;
    };
    let def = f.labels.get(labels::DEFINITION);
    let ours = f.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_IMAGE);
    if !ours || def.map(String::as_str) != Some(expected) {
        return Finding::Altered {
            found: def.cloned(),
        };
    }
    if !on_base(f, base) {
        return Finding::OffBase;
    }
    Finding::Sound
}

/// Does `image` sit on `base`? Its layers start with the base's, and its
/// base-image label (when it has one) names the base's id. What the engine cannot
/// show does not count against it; what it shows must agree.
pub fn on_base(image: &ImageFacts, base: &ImageFacts) -> bool {
    let by_layers = (!image.layers.is_empty() && !base.layers.is_empty())
        .then(|| image.layers.starts_with(&base.layers));
    let by_label = image
        .labels
        .get(labels::BASE_IMAGE)
        .map(|id| *id == base.id);
    by_layers != Some(false) && by_label != Some(false)
}

/// A profile's part of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePart {
    pub profile: String,
    pub tag: String,
    pub finding: Finding,
}

fn label_text(found: &Option<String>) -> String {
    match found {
        Some(d) => format!("its {} label says {d}", labels::DEFINITION),
        None => format!("it has no {} label", labels::DEFINITION),
    }
}

/// The check: the base image `image` first, then the profile's image if any.
pub fn check(image: &str, base: &Finding, expected: &str, profile: Option<&ProfilePart>) -> Check {
    let rebuild = "run `berth image build` (rebuilds it from this berth's definition)";
    match base {
        Finding::Absent => {
            return Check::fail(
                NAME,
                format!("the workspace image {image} is not in the engine"),
                "build it: `berth image build`",
            )
        }
        Finding::Stale { found, version } => {
            return Check::fail(
                NAME,
                format!("{image} is stale: berth {version} built it from another definition ({found}; this berth's is {expected})"),
                rebuild,
            )
        }
        Finding::Altered { found } => {
            return Check::fail(
                NAME,
                format!(
                    "{image} was not built from this berth's definition ({expected}): {} (altered or replaced)",
                    label_text(found)
                ),
                rebuild,
            )
        }
        Finding::Sound | Finding::OffBase => {}
    }
    let base_ok = format!("{image} was built from this berth's definition ({expected})");
    let Some(p) = profile else {
        return Check::pass(NAME, base_ok);
    };
    let fix = format!(
        "run `berth image build --profile {}` (rebuilds {} over {image})",
        p.profile, p.tag
    );
    match &p.finding {
        Finding::Sound => Check::pass(
            NAME,
            format!("{base_ok}; profile {}'s image {} was built from its definition over it", p.profile, p.tag),
        ),
        Finding::Absent => Check::pass(
            NAME,
            format!(
                "{base_ok}; profile {}'s image {} is not built yet: it will be built on first use (or now with `berth image build --profile {}`)",
                p.profile, p.tag, p.profile
            ),
        ),
        Finding::OffBase => Check::fail(
            NAME,
            format!("{} (profile {}'s image) does not sit on the current {image}", p.tag, p.profile),
            fix,
        ),
        Finding::Altered { found } => Check::fail(
            NAME,
            format!(
                "{} (profile {}'s image) was not built from its definition: {} (altered or replaced)",
                p.tag,
                p.profile,
                label_text(found)
            ),
            fix,
        ),
        Finding::Stale { found, version } => Check::fail(
            NAME,
            format!(
                "{} (profile {}'s image) is stale: berth {version} built it from another definition ({found})",
                p.tag, p.profile
            ),
            fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(def: Option<&str>, version: &str, layers: &[&str]) -> ImageFacts {
        let mut l = BTreeMap::new();
        l.insert(labels::ROLE.to_string(), labels::ROLE_IMAGE.to_string());
        l.insert(labels::VERSION.to_string(), version.to_string());
        if let Some(d) = def {
            l.insert(labels::DEFINITION.to_string(), d.to_string());
        }
        ImageFacts {
            id: format!("sha256:{}", def.unwrap_or("none")),
            labels: l,
            layers: layers.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_base_is_sound_stale_altered_or_absent() {
        assert_eq!(base_finding(None, "d1", "1.0"), Finding::Absent);
        let ok = img(Some("d1"), "1.0", &[]);
        assert_eq!(base_finding(Some(&ok), "d1", "1.0"), Finding::Sound);
        let old = img(Some("d0"), "0.9", &[]);
        assert_eq!(
            base_finding(Some(&old), "d1", "1.0"),
            Finding::Stale {
                found: "d0".into(),
                version: "0.9".into()
            }
        );
        // Same berth version, another definition: not what this berth built.
        let odd = img(Some("d0"), "1.0", &[]);
        assert_eq!(
            base_finding(Some(&odd), "d1", "1.0"),
            Finding::Altered {
                found: Some("d0".into())
            }
        );
        let bare = ImageFacts::default();
        assert_eq!(
            base_finding(Some(&bare), "d1", "1.0"),
            Finding::Altered { found: None }
        );
        // A definition label without berth's role: someone else's image.
        let mut foreign = ImageFacts::default();
        foreign
            .labels
            .insert(labels::DEFINITION.into(), "d1".into());
        assert!(matches!(
            base_finding(Some(&foreign), "d1", "1.0"),
            Finding::Altered { .. }
        ));
    }

    #[test]
    fn a_profile_image_must_carry_its_hash_and_sit_on_the_base() {
        let base = img(Some("d1"), "1.0", &["l1", "l2"]);
        assert_eq!(profile_finding(None, "p1", &base), Finding::Absent);
        let good = img(Some("p1"), "1.0", &["l1", "l2", "l3"]);
        assert_eq!(profile_finding(Some(&good), "p1", &base), Finding::Sound);
        let other = img(Some("p0"), "1.0", &["l1", "l2", "l3"]);
        assert!(matches!(
            profile_finding(Some(&other), "p1", &base),
            Finding::Altered { .. }
        ));
        let elsewhere = img(Some("p1"), "1.0", &["x1", "l3"]);
        assert_eq!(
            profile_finding(Some(&elsewhere), "p1", &base),
            Finding::OffBase
        );
        // Without layers, the base-image label decides.
        let mut labelled = img(Some("p1"), "1.0", &[]);
        labelled
            .labels
            .insert(labels::BASE_IMAGE.into(), base.id.clone());
        assert!(on_base(&labelled, &base));
        labelled
            .labels
            .insert(labels::BASE_IMAGE.into(), "sha256:gone".into());
        assert!(!on_base(&labelled, &base));
    }

    #[test]
    fn every_failure_says_the_fix() {
        let base = Finding::Sound;
        let part = |finding| ProfilePart {
            profile: "py".into(),
            tag: "berth/profile-py:p1".into(),
            finding,
        };
        let c = check("berth/workspace:latest", &Finding::Absent, "d1", None);
        assert!(!c.passed && c.guidance.unwrap().contains("berth image build"));
        let c = check(
            "w",
            &Finding::Stale {
                found: "d0".into(),
                version: "0.9".into(),
            },
            "d1",
            None,
        );
        assert!(c.detail.contains("stale") && c.guidance.is_some());
        let c = check("w", &Finding::Altered { found: None }, "d1", None);
        assert!(c.detail.contains("no dev.berth.definition label"), "{c:?}");
        let c = check(
            "w",
            &base,
            "d1",
            Some(&part(Finding::Altered {
                found: Some("p0".into()),
            })),
        );
        assert!(!c.passed);
        assert!(c
            .guidance
            .unwrap()
            .contains("berth image build --profile py"));
        let c = check("w", &base, "d1", Some(&part(Finding::OffBase)));
        assert!(!c.passed && c.detail.contains("does not sit on"));
        // Absent but built on first use: not a failure.
        let c = check("w", &base, "d1", Some(&part(Finding::Absent)));
        assert!(c.passed && c.detail.contains("first use"), "{c:?}");
        assert!(check("w", &base, "d1", Some(&part(Finding::Sound))).passed);
        assert!(check("w", &base, "d1", None).passed);
    }
}
