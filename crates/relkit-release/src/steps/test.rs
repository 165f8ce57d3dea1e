//! The test steps: a `[[test]]` command on the unpacked source archive.

use std::path::{Path, PathBuf};

use super::{Cx, StepError, StepOutput, fail, file_name};
use crate::exec::{Exit, run_shell};

pub(super) fn test(cx: &Cx<'_>, index: usize) -> Result<StepOutput, StepError> {
    let t = &cx.plan.test[index];
    let archive = cx.source_archive(t.archive.as_deref())?;
    let work = cx.work(&format!("test-{}", t.name))?;
    relkit_archive::extract::extract_path(&archive, &work)
        .map_err(fail(format!("unpacking {}", archive.display())))?;
    let top = single_top_dir(&work).unwrap_or(work.clone());
    let log = cx.log(&format!("test-{}", t.name));
    let mut env = t.env.clone();
    env.entry("SOURCE_DATE_EPOCH".into())
        .or_insert_with(|| cx.commit_time.to_string());
    match run_shell(&t.command, &top, &env, &log, cx.cancel)? {
        Exit::Success => Ok(StepOutput {
            notes: vec![format!("passed on {}", file_name(&archive))],
            log: Some(log),
            ..StepOutput::default()
        }),
        Exit::Interrupted => Err(StepError::Interrupted(Some(log))),
        Exit::Failed(how) => Err(StepError::Failed(
            format!(
                "`{}` ended with {how} in {} (unpacked {})",
                t.command,
                top.display(),
                file_name(&archive)
            ),
            Some(log),
        )),
    }
}

fn single_top_dir(dir: &Path) -> Option<PathBuf> {
    let mut entries = std::fs::read_dir(dir).ok()?;
    let first = entries.next()?.ok()?;
    if entries.next().is_some() || !first.file_type().ok()?.is_dir() {
        return None;
    }
    Some(first.path())
}
