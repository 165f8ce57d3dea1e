//! The test steps: a `[[test]]` command on the unpacked source archive.

use std::path::{Path, PathBuf};

use relkit_source::Format;

use super::{Cx, StepError, StepOutput, extension, fail, file_name};
use crate::exec::{Exit, run_shell};

pub(super) fn test(cx: &Cx<'_>, index: usize) -> Result<StepOutput, StepError> {
    let t = &cx.plan.test[index];
    let archive = cx.source_archive(t.archive.as_deref())?;
    let work = cx.work(&format!("test-{}", t.name))?;
    unpack(&archive, &work).map_err(fail(format!("unpacking {}", archive.display())))?;
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

/// Unpacks a source archive into `dest` (tar crate: refuses members escaping `dest`).
pub(super) fn unpack(archive: &Path, dest: &Path) -> std::io::Result<()> {
    let file = std::fs::File::open(archive)?;
    let reader = std::io::BufReader::new(file);
    let ext = extension(archive);
    match Format::parse(&ext) {
        Some(Format::TarGz) => tar::Archive::new(flate2::read::GzDecoder::new(reader)).unpack(dest),
        Some(Format::TarXz) => {
            tar::Archive::new(liblzma::read::XzDecoder::new(reader)).unpack(dest)
        }
        Some(Format::Tar) => tar::Archive::new(reader).unpack(dest),
        _ => Err(std::io::Error::other(
            "tests unpack tar archives; set the test's `archive` to tar.gz, tar.xz or tar",
        )),
    }
}

pub(super) fn single_top_dir(dir: &Path) -> Option<PathBuf> {
    let mut entries = std::fs::read_dir(dir).ok()?;
    let first = entries.next()?.ok()?;
    if entries.next().is_some() || !first.file_type().ok()?.is_dir() {
        return None;
    }
    Some(first.path())
}
