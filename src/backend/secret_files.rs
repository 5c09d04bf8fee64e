//! A secret's value read from its source on the host, and secret files written
//! into (or removed from) a workspace's tmpfs. Values live only in this process's
//! memory and in the exec's standard input: never on a command line, in a label,
//! in the container's config, in berth's log or on the host's disk. Never the
//! engine's archive API either: it writes beneath the tmpfs, into the container's
//! layer on the host's disk.
use super::provision::run_script;
use crate::domain::secrets::{frame, trim_one_newline, Source, DIR, MAX_VALUE};
use crate::engine::Engine;
use anyhow::{anyhow, bail, Context, Result};
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How long `--from-cmd`'s command may take.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(30);

/// Said whenever a value given on standard input is needed and is not there.
pub fn stdin_gone(name: &str) -> String {
    format!(
        "secret {name} was given on standard input, which berth keeps only in the memory of the berth process that read it: a workspace started later does not get it unless it is set again (`berth secret set {name}` with the value on standard input, or a --from-env/--from-file/--from-cmd source that berth can read again)"
    )
}

/// Reads secret `name`'s value from `source` now (stdin sources have none).
pub async fn read(name: &str, source: &Source) -> Result<Vec<u8>> {
    let v = match source {
        Source::Env(var) => std::env::var_os(var)
            .map(OsStringExt::into_vec)
            .ok_or_else(|| {
                anyhow!("secret {name}: ${var} is not set in this berth's environment; set it, or give the secret another source")
            })?,
        Source::File(path) => read_file(name, path).await?,
        Source::Cmd(cmd) => run_cmd(name, cmd).await?,
        Source::Stdin => bail!(stdin_gone(name)),
    };
    check_value(name, v)
}

/// A value as berth accepts it: not empty, at most [`MAX_VALUE`] bytes.
pub fn check_value(name: &str, v: Vec<u8>) -> Result<Vec<u8>> {
    if v.is_empty() {
        bail!("secret {name}: its source gave an empty value; check the source (an empty secret is refused)");
    }
    if v.len() > MAX_VALUE {
        bail!(
            "secret {name}: its value is larger than {} KiB (the workspace's tmpfs is small); keep big files in the workspace's home instead",
            MAX_VALUE / 1024
        );
    }
    Ok(v)
}

async fn read_file(name: &str, path: &str) -> Result<Vec<u8>> {
    let f = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("secret {name}: cannot read {path}"))?;
    let mut v = Vec::new();
    f.take(MAX_VALUE as u64 + 1)
        .read_to_end(&mut v)
        .await
        .with_context(|| format!("secret {name}: cannot read {path}"))?;
    Ok(v)
}

/// Standard input's value for `secret set` (bounded), one trailing newline trimmed.
pub async fn read_stdin(name: &str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    tokio::io::stdin()
        .take(MAX_VALUE as u64 + 2)
        .read_to_end(&mut v)
        .await
        .context("reading the secret's value from standard input")?;
    check_value(name, trim_one_newline(v))
}

/// `sh -c CMD` on the host, with [`CMD_TIMEOUT`]; its standard output, one
/// trailing newline trimmed. Standard error is shown (its last line) on failure.
async fn run_cmd(name: &str, cmd: &str) -> Result<Vec<u8>> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("secret {name}: cannot run `sh -c` on the host"))?;
    let (Some(out), Some(err)) = (child.stdout.take(), child.stderr.take()) else {
        bail!("secret {name}: the command's output is not readable");
    };
    let work = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let (mut out, mut err) = (out.take(MAX_VALUE as u64 + 2), err.take(64 * 1024));
        let (ro, re) = tokio::join!(out.read_to_end(&mut o), err.read_to_end(&mut e));
        ro?;
        re?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, o, e))
    };
    let (status, out, err) = match tokio::time::timeout(CMD_TIMEOUT, work).await {
        Ok(r) => r.with_context(|| format!("secret {name}: running its command"))?,
        // The child is killed when dropped (kill_on_drop).
        Err(_) => bail!(
            "secret {name}: its command did not finish within {} s (it may be waiting for input; berth gives it none)",
            CMD_TIMEOUT.as_secs()
        ),
    };
    if !status.success() {
        let err = String::from_utf8_lossy(&err);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        bail!(
            "secret {name}: its command failed ({status}){}{}",
            if last.is_empty() { "" } else { ": " },
            last.chars().take(200).collect::<String>()
        );
    }
    Ok(trim_one_newline(out))
}

/// Writes the files; refuses when /run/berth is not a tmpfs (rather than put
/// values on the disk). Each value is read from standard input, its length on a
/// line before it, into a temporary file beside its place, made 0400 and renamed
/// over the old one: a reader sees the old value or the new one, never half.
const WRITE: &str = r#"set -e
if ! grep -qs ' /run/berth tmpfs ' /proc/mounts; then
  echo "/run/berth is not a tmpfs in this workspace (made by an older berth); not writing secrets to its disk. Re-create the workspace to use secret files" >&2
  exit 3
fi
umask 077
d=/run/berth/secrets
mkdir -p "$d"
chmod 0700 "$d"
for n in "$@"; do
  IFS= read -r len
  t="$d/.$n.new.$$"
  head -c "$len" > "$t"
  got=$(wc -c < "$t")
  if [ "$got" -ne "$len" ]; then
    rm -f "$t"
    echo "secret $n: expected $len bytes, got $got" >&2
    exit 4
  fi
  chmod 0400 "$t"
  mv -f "$t" "$d/$n"
done
"#;

const REMOVE: &str = r#"for n in "$@"; do rm -f -- "/run/berth/secrets/$n"; done"#;

/// Writes `values` ((name, value)) as files in [`DIR`] of `container`.
pub async fn write(
    engine: &dyn Engine,
    container: &str,
    values: &[(String, Vec<u8>)],
) -> Result<()> {
    if values.is_empty() {
        return Ok(());
    }
    let (names, stdin) = frame(values);
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    run_script(
        engine,
        container,
        &format!("writing {DIR}"),
        WRITE,
        &args,
        stdin,
    )
    .await?;
    // Names only: never a value in berth's log, whatever its level.
    tracing::debug!("secret files written in {container}: {}", names.join(", "));
    Ok(())
}

/// Removes the files of `names` from `container` (those not there are no error).
pub async fn remove(engine: &dyn Engine, container: &str, names: &[String]) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let what = format!("removing from {DIR}");
    run_script(engine, container, &what, REMOVE, &args, Vec::new()).await?;
    tracing::debug!(
        "secret files removed from {container}: {}",
        names.join(", ")
    );
    Ok(())
}

/// The value a running workspace holds in its file `name` (for redaction of a
/// value given on stdin, which the host has no source for).
pub async fn read_back(engine: &dyn Engine, container: &str, name: &str) -> Result<Vec<u8>> {
    let req = crate::engine::ExecRequest {
        cmd: vec!["cat".into(), "--".into(), format!("{DIR}/{name}")],
        user: Some(crate::domain::workspace::WORKSPACE_USER.into()),
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    };
    let (outcome, out, _) = crate::engine::exec_collect(engine, container, req).await?;
    if outcome.exit_code != 0 || out.is_empty() {
        bail!("{}", stdin_gone(name));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sources_are_read_when_asked_and_say_what_went_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("v");
        std::fs::write(&f, "file-value\n").unwrap();
        let file = Source::File(f.display().to_string());
        // A file is taken as it is; a command's one trailing newline is trimmed.
        assert_eq!(read("S", &file).await.unwrap(), b"file-value\n");
        let cmd = Source::Cmd("printf 'cmd-value\\n\\n'".into());
        assert_eq!(read("S", &cmd).await.unwrap(), b"cmd-value\n");
        let e = read("S", &Source::Cmd("echo nope >&2; exit 3".into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("failed") && e.contains("nope"), "{e}");
        let e = read("S", &Source::Cmd("true".into())).await.unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = read("S", &Source::Env("BERTH_TEST_NEVER_SET_9X".into()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not set"), "{e}");
        let e = read("S", &Source::File("/nonexistent/x".into()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("cannot read /nonexistent/x"), "{e}");
        let e = read("S", &Source::Stdin).await.unwrap_err().to_string();
        assert!(e.contains("unless it is set again"), "{e}");
        let big = vec![b'x'; MAX_VALUE + 1];
        assert!(check_value("S", big).is_err());
    }
}
