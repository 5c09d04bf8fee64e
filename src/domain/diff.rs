//! A unified diff (`git diff A..B`) split per file, each line classified (file
//! header, hunk header, added, removed, context), for the TUI's diff view of an
//! agent's branch. Pure: text in, structure out; it never fails (whatever is not
//! understood is kept as a plain line of the file it is in).

/// What a line of a diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `diff --git`, `index`, `---`, `+++`, `new file mode`, `rename from`, ...
    FileHeader,
    /// `@@ -a,b +c,d @@ ...`
    Hunk,
    Added,
    Removed,
    Context,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
}

/// One file's part of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The file's path (the new one; the old one for a deleted file).
    pub path: String,
    pub added: usize,
    pub removed: usize,
    /// Its lines, the header first.
    pub lines: Vec<DiffLine>,
}

/// A whole diff: its files in order, and whether the text was cut short.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff {
    pub files: Vec<FileDiff>,
    /// The text ended early (the backend bounds its size); the last file may be partial.
    pub cut: bool,
}

impl Diff {
    /// Every line in order, with the index of the file it belongs to.
    pub fn lines(&self) -> impl Iterator<Item = (usize, &DiffLine)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.lines.iter().map(move |l| (i, l)))
    }

    pub fn line_count(&self) -> usize {
        self.files.iter().map(|f| f.lines.len()).sum()
    }

    /// The first line of each file, as an index into [`Diff::lines`].
    pub fn file_starts(&self) -> Vec<usize> {
        let mut at = 0;
        self.files
            .iter()
            .map(|f| {
                let start = at;
                at += f.lines.len();
                start
            })
            .collect()
    }

    /// The file line `line` is in (the last file for a line past the end).
    pub fn file_at(&self, line: usize) -> Option<usize> {
        let starts = self.file_starts();
        starts.iter().rposition(|s| *s <= line)
    }
}

/// `a/x` -> `x` (git's prefixes), unquoting nothing else.
fn strip_prefix(p: &str) -> &str {
    p.strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p)
}

/// The path a `diff --git a/X b/Y` line names (Y), best effort with spaces.
fn path_of_git_line(rest: &str) -> String {
    // With equal halves ("a/p b/p") the split is unambiguous even with spaces.
    if let Some(mid) = rest.find(" b/") {
        return rest[mid + 3..].to_string();
    }
    strip_prefix(rest.rsplit(' ').next().unwrap_or(rest)).to_string()
}

/// Splits `text` into files and classifies every line; `cut`: the text was cut.
pub fn parse(text: &str, cut: bool) -> Diff {
    let mut files: Vec<FileDiff> = Vec::new();
    // Inside a file's header (before its first hunk): `---`/`+++` are headers.
    let mut in_header = false;
    for raw in text.lines() {
        if let Some(rest) = raw.strip_prefix("diff --git ") {
            files.push(FileDiff {
                path: path_of_git_line(rest),
                added: 0,
                removed: 0,
                lines: Vec::new(),
            });
            in_header = true;
            push(&mut files, LineKind::FileHeader, raw);
            continue;
        }
        let kind = if raw.starts_with("@@") {
            in_header = false;
            LineKind::Hunk
        } else if in_header {
            if let Some(p) = raw.strip_prefix("+++ ") {
                if p != "/dev/null" {
                    if let Some(f) = files.last_mut() {
                        f.path = strip_prefix(p).to_string();
                    }
                }
            }
            LineKind::FileHeader
        } else if raw.starts_with('+') {
            LineKind::Added
        } else if raw.starts_with('-') {
            LineKind::Removed
        } else {
            LineKind::Context
        };
        if files.is_empty() {
            // Text before any file header (not git's output): one unnamed file.
            files.push(FileDiff {
                path: String::new(),
                added: 0,
                removed: 0,
                lines: Vec::new(),
            });
        }
        push(&mut files, kind, raw);
    }
    Diff { files, cut }
}

fn push(files: &mut [FileDiff], kind: LineKind, raw: &str) {
    if let Some(f) = files.last_mut() {
        match kind {
            LineKind::Added => f.added += 1,
            LineKind::Removed => f.removed += 1,
            _ => {}
        }
        f.lines.push(DiffLine {
            kind,
            text: raw.replace('\t', "    "),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TWO: &str = "diff --git a/src/main.rs b/src/main.rs
index 1111111..2222222 100644
--- a/src/main.rs
+++ b/src/main.rs
@@ -1,3 +1,4 @@
 fn main() {
-    println!(\"hi\");
+    println!(\"hello\");
+    println!(\"world\");
 }
diff --git a/notes new.txt b/notes new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/notes new.txt
@@ -0,0 +1 @@
+--- not a header
";

    #[test]
    fn files_are_split_and_lines_classified() {
        let d = parse(TWO, false);
        assert_eq!(d.files.len(), 2);
        let f = &d.files[0];
        assert_eq!(f.path, "src/main.rs");
        assert_eq!((f.added, f.removed), (2, 1));
        let kinds: Vec<LineKind> = f.lines.iter().map(|l| l.kind).collect();
        use LineKind::*;
        assert_eq!(
            kinds,
            [
                FileHeader, FileHeader, FileHeader, FileHeader, Hunk, Context, Removed, Added,
                Added, Context
            ]
        );
        let g = &d.files[1];
        assert_eq!(g.path, "notes new.txt");
        // A `---` inside a hunk is an added line, not a header.
        assert_eq!(g.lines.last().map(|l| l.kind), Some(Added));
        assert_eq!((g.added, g.removed), (1, 0));
        assert!(!d.cut);
    }

    #[test]
    fn file_positions() {
        let d = parse(TWO, true);
        assert!(d.cut);
        assert_eq!(d.file_starts(), vec![0, 10]);
        assert_eq!(d.file_at(0), Some(0));
        assert_eq!(d.file_at(9), Some(0));
        assert_eq!(d.file_at(10), Some(1));
        assert_eq!(d.file_at(1000), Some(1));
        assert_eq!(d.line_count(), 17);
        assert_eq!(parse("", false).file_at(0), None);
    }

    #[test]
    fn a_deleted_file_keeps_its_old_path_and_tabs_become_spaces() {
        let text = "diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-\tbye\n";
        let d = parse(text, false);
        assert_eq!(d.files[0].path, "gone.txt");
        assert_eq!(d.files[0].lines[5].text, "-    bye");
    }

    #[test]
    fn text_without_a_header_is_one_unnamed_file() {
        let d = parse("+x\n-y\n", false);
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.files[0].path, "");
        assert_eq!((d.files[0].added, d.files[0].removed), (1, 1));
    }

    proptest! {
        /// No line is lost or invented, and counts match the kinds.
        #[test]
        fn every_line_is_kept(lines in proptest::collection::vec("(diff --git a/x b/x|@@ -1 +1 @@|[-+ ]?[a-z ]{0,8}|--- a/x|\\+\\+\\+ b/y)", 0..60)) {
            let text = lines.join("\n");
            let d = parse(&text, false);
            prop_assert_eq!(d.line_count(), text.lines().count());
            for f in &d.files {
                let added = f.lines.iter().filter(|l| l.kind == LineKind::Added).count();
                let removed = f.lines.iter().filter(|l| l.kind == LineKind::Removed).count();
                prop_assert_eq!((added, removed), (f.added, f.removed));
            }
            let starts = d.file_starts();
            for (i, s) in starts.iter().enumerate() {
                prop_assert_eq!(d.file_at(*s), Some(i));
            }
        }
    }
}
