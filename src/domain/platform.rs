//! Platforms (`--platform os/arch[/variant]`): which ones berth accepts, their
//! spellings, the image tag of a platform's workspace image, and whether an engine
//! can run a platform's programs (natively, or through an emulator registered with
//! the kernel's binfmt_misc). Pure: the facts (the engine's platform, the binfmt
//! entries) are read elsewhere and handed in.
use std::fmt;

/// Where the kernel lists its registered interpreters (emulators).
pub const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";

/// A CPU architecture berth runs workspaces on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Amd64, Arch::Arm64];

    /// The engine's (Go's) name.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The kernel's (uname's, QEMU's) name: binfmt entries are `qemu-<this>`.
    pub fn machine(self) -> &'static str {
        match self {
            Arch::Amd64 => "x86_64",
            Arch::Arm64 => "aarch64",
        }
    }

    /// The variant spelling that means the architecture itself (`linux/arm64/v8`).
    fn plain_variant(self) -> &'static str {
        match self {
            Arch::Amd64 => "v1",
            Arch::Arm64 => "v8",
        }
    }

    /// An architecture from any of its usual spellings (amd64, x86_64, x86-64,
    /// arm64, aarch64), as engines, uname and people write them.
    pub fn parse(s: &str) -> Option<Arch> {
        match s.trim().to_ascii_lowercase().as_str() {
            "amd64" | "x86_64" | "x86-64" | "x64" => Some(Arch::Amd64),
            "arm64" | "aarch64" | "armv8" | "arm64v8" => Some(Arch::Arm64),
            _ => None,
        }
    }

    /// The binfmt_misc entry an emulator for this architecture registers.
    pub fn binfmt_entry(self) -> String {
        format!("qemu-{}", self.machine())
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A platform berth can run a workspace on: Linux on one of [`Arch::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Platform {
    pub arch: Arch,
}

/// The platforms berth accepts, for messages.
fn supported() -> String {
    Arch::ALL
        .iter()
        .map(|a| format!("linux/{a}"))
        .collect::<Vec<_>>()
        .join(" and ")
}

impl Platform {
    pub fn new(arch: Arch) -> Self {
        Self { arch }
    }

    /// Parses `os/arch[/variant]`, accepting the usual aliases (x86_64, aarch64,
    /// upper case) and the variant that names the architecture itself (arm64/v8);
    /// anything else is refused with a sentence saying what is accepted.
    pub fn parse(input: &str) -> Result<Platform, String> {
        let s = input.trim().to_ascii_lowercase();
        let parts: Vec<&str> = s.split('/').collect();
        let refuse = |why: String| Err(format!("--platform {input:?}: {why}"));
        let (os, arch, variant) = match parts.as_slice() {
            [a] if Arch::parse(a).is_some() => {
                return refuse(format!(
                    "give the operating system too, like linux/{}",
                    Arch::parse(a).map_or("amd64", Arch::name)
                ))
            }
            [os, arch] => (*os, *arch, None),
            [os, arch, v] => (*os, *arch, Some(*v)),
            _ => {
                return refuse(format!(
                    "a platform is OS/ARCH, like linux/amd64; berth supports {}",
                    supported()
                ))
            }
        };
        if os != "linux" {
            return refuse(format!(
                "workspaces are Linux containers; berth supports {}",
                supported()
            ));
        }
        let Some(a) = Arch::parse(arch) else {
            return refuse(format!(
                "berth supports {} (x86_64 and aarch64 are accepted for them)",
                supported()
            ));
        };
        match variant {
            None => {}
            Some(v) if v == a.plain_variant() => {}
            Some(v) => {
                return refuse(format!(
                    "berth supports linux/{a} without a variant (or {}), not {v}",
                    a.plain_variant()
                ))
            }
        }
        Ok(Platform::new(a))
    }

    /// The platform an engine or an image reports as OS and architecture (its own
    /// words: `linux` and `amd64`, or `x86_64`); `None` when berth does not know it.
    pub fn from_parts(os: &str, arch: &str) -> Option<Platform> {
        (os.trim().eq_ignore_ascii_case("linux"))
            .then(|| Arch::parse(arch))
            .flatten()
            .map(Platform::new)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linux/{}", self.arch)
    }
}

/// The tag of `image`'s build for `arch`: the tag with `-ARCH` appended
/// (`berth/workspace:latest` -> `berth/workspace:latest-arm64`; no tag means
/// `latest`). `None` for an image named by digest (it has no tag to extend).
pub fn platform_tag(image: &str, arch: Arch) -> Option<String> {
    if image.contains('@') || image.trim().is_empty() {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    Some(if last.contains(':') {
        format!("{image}-{arch}")
    } else {
        format!("{image}:latest-{arch}")
    })
}

/// What a binfmt_misc entry says: enabled, and registered with the F (fix binary)
/// flag, which containers need (the interpreter is opened when registered, so it
/// need not exist inside the container's filesystem).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinfmtEntry {
    pub enabled: bool,
    pub fix_binary: bool,
}

/// Parses an entry file (`enabled`, `interpreter ...`, `flags: OCF`, ...).
pub fn parse_binfmt_entry(text: &str) -> BinfmtEntry {
    let mut lines = text.lines().map(str::trim);
    let enabled = lines.next() == Some("enabled");
    let fix_binary = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("flags:"))
        .any(|f| f.contains('F'));
    BinfmtEntry {
        enabled,
        fix_binary,
    }
}

/// What can be seen of an emulator for an architecture on the engine's machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emulation {
    /// The engine runs on another kernel (another machine, a VM): its emulators
    /// cannot be seen from here.
    Unknown,
    /// binfmt_misc is not mounted: no emulator can be registered.
    NotMounted,
    /// No entry for the architecture.
    Missing,
    /// An entry (named) that is disabled.
    Disabled(String),
    /// An entry (named) registered without the F flag: containers cannot use it.
    NoFixBinary(String),
    /// An enabled entry (named) containers can use.
    Ready(String),
}

impl Emulation {
    /// From what is in the binfmt_misc directory: whether it is mounted, and the
    /// entry for the architecture (its name and contents) when there is one.
    pub fn from_entry(mounted: bool, entry: Option<(String, &str)>) -> Emulation {
        match (mounted, entry) {
            (false, _) => Emulation::NotMounted,
            (true, None) => Emulation::Missing,
            (true, Some((name, text))) => match parse_binfmt_entry(text) {
                BinfmtEntry { enabled: false, .. } => Emulation::Disabled(name),
                BinfmtEntry {
                    fix_binary: false, ..
                } => Emulation::NoFixBinary(name),
                _ => Emulation::Ready(name),
            },
        }
    }

    /// A short phrase for `berth doctor`.
    pub fn describe(&self, arch: Arch) -> String {
        let entry = format!("{BINFMT_DIR}/{}", arch.binfmt_entry());
        match self {
            Emulation::Unknown => {
                "the engine's machine cannot be seen from here (remote engine)".into()
            }
            Emulation::NotMounted => format!("no emulator ({BINFMT_DIR} is not mounted)"),
            Emulation::Missing => format!("no emulator ({entry} is absent)"),
            Emulation::Disabled(n) => format!("emulator {n} is registered but disabled"),
            Emulation::NoFixBinary(n) => {
                format!("emulator {n} is registered without the F flag containers need")
            }
            Emulation::Ready(n) => format!("emulated by {n}"),
        }
    }
}

/// The commands that register an emulator for `arch` (with the F flag).
pub fn install_hint(arch: Arch) -> String {
    format!(
        "`sudo apt-get install qemu-user-static binfmt-support` (Debian, Ubuntu), or `docker run --privileged --rm tonistiigi/binfmt --install {arch}`"
    )
}

/// Whether a workspace of `wanted` can run on an engine whose own platform is
/// `native` (`None`: one berth does not know), given what is seen of an emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The engine's own platform.
    Native,
    /// Another platform, run by this emulator.
    Emulated(String),
    /// Another platform on an engine whose emulators cannot be seen: the engine
    /// decides (a note says so).
    Unchecked(String),
}

/// Decides, or says in a sentence why `wanted` cannot run and what to install.
pub fn decide(
    wanted: Platform,
    native: Option<Platform>,
    native_text: &str,
    emulation: &Emulation,
) -> Result<Verdict, String> {
    if native == Some(wanted) {
        return Ok(Verdict::Native);
    }
    let arch = wanted.arch;
    let entry = format!("{BINFMT_DIR}/{}", arch.binfmt_entry());
    let why = match emulation {
        Emulation::Ready(name) => return Ok(Verdict::Emulated(name.clone())),
        Emulation::Unknown => {
            return Ok(Verdict::Unchecked(format!(
                "{wanted} is not the engine's platform ({native_text}) and berth cannot see the engine's machine to check for an emulator; the engine decides (a workspace whose programs cannot run stops at once)"
            )))
        }
        Emulation::NotMounted => format!(
            "no emulator is registered on this machine ({BINFMT_DIR} is not even mounted)"
        ),
        Emulation::Missing => format!("no emulator for it is registered ({entry} is absent)"),
        Emulation::Disabled(n) => {
            format!("its emulator {BINFMT_DIR}/{n} is disabled (`echo 1 | sudo tee {BINFMT_DIR}/{n}` enables it)")
        }
        Emulation::NoFixBinary(n) => format!(
            "its emulator {BINFMT_DIR}/{n} was registered without the F flag, so containers cannot use it"
        ),
    };
    Err(format!(
        "cannot run {wanted} on this engine: its platform is {native_text} and {why}. Install an emulator: {}; `berth doctor` then lists it. Or leave out --platform to use {native_text}",
        install_hint(arch)
    ))
}

/// Does an image reported as `os`/`arch` suit `wanted`? An image whose platform
/// the engine does not report suits any.
pub fn image_suits(os: Option<&str>, arch: Option<&str>, wanted: Platform) -> bool {
    match (os, arch) {
        (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => {
            Platform::from_parts(os, arch) == Some(wanted)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AMD: Platform = Platform { arch: Arch::Amd64 };
    const ARM: Platform = Platform { arch: Arch::Arm64 };

    #[test]
    fn platforms_and_their_aliases_are_normalised() {
        for (s, want) in [
            ("linux/amd64", AMD),
            ("linux/x86_64", AMD),
            ("LINUX/AMD64", AMD),
            (" linux/x86-64 ", AMD),
            ("linux/amd64/v1", AMD),
            ("linux/arm64", ARM),
            ("linux/aarch64", ARM),
            ("linux/arm64/v8", ARM),
        ] {
            assert_eq!(Platform::parse(s), Ok(want), "{s}");
        }
        assert_eq!(ARM.to_string(), "linux/arm64");
        assert_eq!(
            Platform::parse("linux/aarch64").unwrap().to_string(),
            "linux/arm64"
        );
    }

    #[test]
    fn bad_platforms_are_refused_with_a_sentence() {
        for (bad, words) in [
            ("amd64", "linux/amd64"),
            ("aarch64", "like linux/arm64"),
            ("linux/sparc", "supports linux/amd64 and linux/arm64"),
            ("windows/amd64", "Linux containers"),
            ("darwin/arm64", "Linux containers"),
            ("linux/arm64/v7", "without a variant"),
            ("linux", "OS/ARCH"),
            ("", "OS/ARCH"),
            ("linux/amd64/v3/x", "OS/ARCH"),
        ] {
            let e = Platform::parse(bad).unwrap_err();
            assert!(e.contains(words), "{bad}: {e}");
            assert!(e.starts_with("--platform"), "{bad}: {e}");
        }
    }

    #[test]
    fn engine_words_for_platforms() {
        assert_eq!(Platform::from_parts("linux", "amd64"), Some(AMD));
        assert_eq!(Platform::from_parts("linux", "x86_64"), Some(AMD));
        assert_eq!(Platform::from_parts("linux", "aarch64"), Some(ARM));
        assert_eq!(Platform::from_parts("windows", "amd64"), None);
        assert_eq!(Platform::from_parts("linux", "s390x"), None);
        assert!(image_suits(Some("linux"), Some("arm64"), ARM));
        assert!(!image_suits(Some("linux"), Some("amd64"), ARM));
        assert!(image_suits(None, None, ARM));
        assert!(image_suits(Some(""), Some(""), ARM));
    }

    #[test]
    fn platform_tags() {
        let t = |i| platform_tag(i, Arch::Arm64);
        assert_eq!(
            t("berth/workspace:latest").as_deref(),
            Some("berth/workspace:latest-arm64")
        );
        assert_eq!(
            t("berth/workspace").as_deref(),
            Some("berth/workspace:latest-arm64")
        );
        assert_eq!(
            t("reg:5000/ws").as_deref(),
            Some("reg:5000/ws:latest-arm64")
        );
        assert_eq!(t("reg:5000/ws:1").as_deref(), Some("reg:5000/ws:1-arm64"));
        assert_eq!(t("ws@sha256:abc"), None);
    }

    #[test]
    fn binfmt_entries() {
        let debian = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\noffset 0\nmagic 7f454c46\nmask ffffffff\n";
        assert_eq!(
            parse_binfmt_entry(debian),
            BinfmtEntry {
                enabled: true,
                fix_binary: true
            }
        );
        let e = |mounted, text: Option<&str>| {
            Emulation::from_entry(mounted, text.map(|t| ("qemu-aarch64".to_string(), t)))
        };
        assert_eq!(
            e(true, Some(debian)),
            Emulation::Ready("qemu-aarch64".into())
        );
        assert_eq!(
            e(true, Some("disabled\nflags: F\n")),
            Emulation::Disabled("qemu-aarch64".into())
        );
        assert_eq!(
            e(true, Some("enabled\nflags: OC\n")),
            Emulation::NoFixBinary("qemu-aarch64".into())
        );
        assert_eq!(e(true, None), Emulation::Missing);
        assert_eq!(e(false, None), Emulation::NotMounted);
        assert_eq!(Arch::Arm64.binfmt_entry(), "qemu-aarch64");
        assert_eq!(Arch::Amd64.binfmt_entry(), "qemu-x86_64");
    }

    #[test]
    fn a_foreign_platform_without_an_emulator_is_refused_saying_what_to_install() {
        assert_eq!(
            decide(AMD, Some(AMD), "linux/amd64", &Emulation::Missing),
            Ok(Verdict::Native)
        );
        for em in [
            Emulation::Missing,
            Emulation::NotMounted,
            Emulation::Disabled("qemu-aarch64".into()),
            Emulation::NoFixBinary("qemu-aarch64".into()),
        ] {
            let e = decide(ARM, Some(AMD), "linux/amd64", &em).unwrap_err();
            assert!(
                e.starts_with("cannot run linux/arm64 on this engine: its platform is linux/amd64"),
                "{e}"
            );
            assert!(
                e.contains("qemu-user-static") && e.contains("--install arm64"),
                "{e}"
            );
            assert!(e.contains("leave out --platform"), "{e}");
        }
        let e = decide(ARM, Some(AMD), "linux/amd64", &Emulation::Missing).unwrap_err();
        assert!(
            e.contains("/proc/sys/fs/binfmt_misc/qemu-aarch64 is absent"),
            "{e}"
        );
        assert_eq!(
            decide(
                ARM,
                Some(AMD),
                "linux/amd64",
                &Emulation::Ready("qemu-aarch64".into())
            ),
            Ok(Verdict::Emulated("qemu-aarch64".into()))
        );
        assert!(matches!(
            decide(ARM, Some(AMD), "linux/amd64", &Emulation::Unknown),
            Ok(Verdict::Unchecked(n)) if n.contains("engine decides")
        ));
        // An engine of an architecture berth does not know runs neither natively.
        assert!(decide(AMD, None, "linux/s390x", &Emulation::Missing).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_the_two(s in "\\PC{0,24}") {
            if let Ok(p) = Platform::parse(&s) {
                prop_assert!(Arch::ALL.contains(&p.arch));
                prop_assert_eq!(Platform::parse(&p.to_string()), Ok(p));
            }
        }
    }
}
