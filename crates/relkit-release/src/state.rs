//! `.relkit/state.json`: the checkpoint of a release run. Each finished step is recorded with
//! the fingerprint of its inputs and the SHA-256 of every output, so a re-run can skip what
//! is done, redo what changed, and refuse when a finished output was altered afterwards.
//! The file is written to a temporary file and renamed, so it is always whole.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// Schema identifier of `state.json`.
pub const STATE_SCHEMA: &str = "https://relkit.dev/schema/release-state/v1";

/// The checkpoint file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_SCHEMA`].
    pub schema: String,
    /// The revision the release is built from, as given.
    pub rev: Option<String>,
    /// The commit it resolved to when the release started.
    pub commit: Option<String>,
    /// The release version.
    pub version: Option<String>,
    /// Every step that ran, by name.
    pub steps: BTreeMap<String, StepRecord>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Finished; its outputs are recorded.
    Done,
    /// Failed; `error` says why.
    Failed,
    /// Stopped by Ctrl-C (SIGINT/SIGTERM) before it finished.
    Interrupted,
    /// Started and not finished (the process died): treated as not done.
    Running,
}

/// One step's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// How it ended.
    pub status: StepStatus,
    /// Fingerprint (SHA-256) of everything the step depends on.
    pub inputs: String,
    /// What the fingerprint covers, item by item (for "what changed" messages).
    pub input_items: BTreeMap<String, String>,
    /// Every output file (path relative to the repository) and its SHA-256.
    pub outputs: BTreeMap<String, String>,
    /// RFC 3339 start time.
    pub started: String,
    /// RFC 3339 end time.
    pub finished: Option<String>,
    /// Log file of commands the step ran, relative to the repository.
    pub log: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Notes worth keeping (warnings, finding counts).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl State {
    /// Reads `path`; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<State, Error> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    schema: STATE_SCHEMA.into(),
                    ..State::default()
                });
            }
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| Error::State {
            path: path.to_path_buf(),
            message: format!(
                "line {}, column {}: {e}; delete it to start the release over",
                e.line(),
                e.column()
            ),
        })?;
        if state.schema != STATE_SCHEMA {
            return Err(Error::State {
                path: path.to_path_buf(),
                message: format!(
                    "schema {:?} is not {STATE_SCHEMA:?}; delete it to start the release over",
                    state.schema
                ),
            });
        }
        Ok(state)
    }

    /// Writes the state to `path` atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut tmp = tempfile::NamedTempFile::with_prefix_in(".state-", dir).map_err(io)?;
        let mut bytes = serde_json::to_vec_pretty(self).expect("state serializes");
        bytes.push(b'\n');
        tmp.write_all(&bytes).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

/// Path of `state.json` in a state directory.
pub fn state_file(state_dir: &Path) -> PathBuf {
    state_dir.join("state.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut s = State::load(&path).unwrap();
        s.rev = Some("v1.0.0".into());
        s.steps.insert(
            "source".into(),
            StepRecord {
                status: StepStatus::Done,
                inputs: "ab".into(),
                input_items: BTreeMap::new(),
                outputs: BTreeMap::from([("dist/a.tar.gz".into(), "00".into())]),
                started: "2026-01-01T00:00:00Z".into(),
                finished: None,
                log: None,
                error: None,
                notes: Vec::new(),
            },
        );
        s.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), s);
        std::fs::write(&path, "{\"schema\": 3").unwrap();
        let err = State::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("state.json") && err.contains("line 1"),
            "{err}"
        );
    }
}
