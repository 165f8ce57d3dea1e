//! Running the plan's shell commands: output to a log file, a process group of their own so
//! Ctrl-C stops the whole command tree and nothing outlives the step, and a check before
//! anything runs that every program a command names exists.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::Error;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Exit status 0.
    Success,
    /// Another exit status, or the signal that killed it.
    Failed(String),
    /// Stopped because the run was cancelled.
    Interrupted,
}

/// Runs `sh -c command` in `cwd` with `env` added, appending its output to `log`, until it
/// ends or `cancel` is set (then its process group gets SIGINT, and SIGKILL 5 s later).
pub fn run_shell(
    command: &str,
    cwd: &Path,
    env: &BTreeMap<String, String>,
    log: &Path,
    cancel: &AtomicBool,
) -> Result<Exit, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io(log))?;
    let err = out.try_clone().map_err(io(log))?;
    {
        use std::io::Write;
        let mut header = &out;
        writeln!(header, "$ cd {} && {command}", cwd.display()).map_err(io(log))?;
    }
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    // SAFETY: between fork and exec only async-signal-safe calls: signal(2). A relkit started
    // in the background of a non-interactive shell inherits SIGINT/SIGQUIT ignored, and
    // ignored signals stay ignored across exec; the step's commands must stay interruptible.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM] {
                libc::signal(sig, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(io(Path::new("sh")))?;
    let pid = child.id() as i32;
    let mut signalled: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait().map_err(io(Path::new("sh")))? {
            if signalled.is_some() {
                // Background jobs of a non-interactive shell ignore SIGINT: end what is left,
                // and return only once the group is gone (SIGKILL is delivered asynchronously:
                // "nothing outlives the step" must hold when the caller looks).
                signal_group(pid, libc::SIGKILL);
                wait_group_gone(pid, Duration::from_secs(5));
                return Ok(Exit::Interrupted);
            }
            return Ok(if status.success() {
                Exit::Success
            } else {
                Exit::Failed(describe(status))
            });
        }
        if cancel.load(Ordering::SeqCst) {
            match signalled {
                None => {
                    signal_group(pid, libc::SIGINT);
                    signalled = Some(Instant::now());
                }
                Some(at) if at.elapsed() > Duration::from_secs(5) => {
                    signal_group(pid, libc::SIGKILL);
                }
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to the process group `pgid`.
fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects.
    // The group is our own child's (process_group(0) above), so nothing else is hit.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Waits (polling, at most `limit`) until no process of the group `pgid` exists any more.
fn wait_group_gone(pgid: i32, limit: Duration) {
    let start = Instant::now();
    // SAFETY: kill(2) with signal 0 only asks whether the group exists; nothing is sent.
    while unsafe { libc::kill(-pgid, 0) } == 0 && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// Shell words that are not programs.
const SHELL_WORDS: &[&str] = &[
    "!", ".", ":", "[", "[[", "alias", "break", "case", "cd", "command", "continue", "do", "done",
    "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false", "fi", "for", "if",
    "in", "local", "printf", "pwd", "read", "return", "set", "shift", "source", "test", "then",
    "times", "trap", "true", "type", "ulimit", "umask", "unset", "until", "wait", "while", "{",
    "}", "(", ")",
];

/// The programs a shell command line starts: the first word of each simple command,
/// skipping variable assignments and shell keywords/builtins. Paths (`./configure`) are left
/// out: they come from the tree the command runs in.
pub fn programs(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in command.split(['\n', ';', '|', '&', '(', ')', '`']) {
        for word in part.split_whitespace() {
            if word.contains('=') && !word.starts_with('=') {
                continue; // VAR=value prefix
            }
            if word.contains('/') || word.starts_with('$') || word.starts_with('"') {
                break;
            }
            if !SHELL_WORDS.contains(&word) && !out.iter().any(|p| p == word) {
                out.push(word.to_string());
            }
            if !matches!(
                word,
                "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!"
            ) {
                break;
            }
        }
    }
    out
}

/// Finds `program` on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_programs_a_command_line_starts() {
        assert_eq!(
            programs("./configure && make -j2 && ./python -m test"),
            ["make"]
        );
        assert_eq!(
            programs("CC=gcc make check; if test -x foo; then cmake --build .; fi | tee log"),
            ["make", "cmake", "tee"]
        );
        assert_eq!(
            programs("cd Doc && sphinx-build -b html . build"),
            ["sphinx-build"]
        );
    }

    #[test]
    fn cancel_stops_the_whole_command_tree() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::SeqCst);
            });
            let exit = run_shell(
                "sleep 30 & sleep 30; echo never",
                dir.path(),
                &BTreeMap::new(),
                &log,
                &cancel,
            )
            .unwrap();
            assert_eq!(exit, Exit::Interrupted);
        });
        assert!(started.elapsed() < Duration::from_secs(5));
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("$ cd "), "{text}");
        assert!(!text.lines().any(|l| l == "never"), "{text}");
    }

    #[test]
    fn a_failing_command_reports_its_status() {
        let dir = tempfile::tempdir().unwrap();
        let exit = run_shell(
            "echo out; echo err >&2; exit 3",
            dir.path(),
            &BTreeMap::new(),
            &dir.path().join("log"),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(exit, Exit::Failed("exit status 3".into()));
        let text = std::fs::read_to_string(dir.path().join("log")).unwrap();
        assert!(text.contains("out\n") && text.contains("err\n"), "{text}");
    }
}
