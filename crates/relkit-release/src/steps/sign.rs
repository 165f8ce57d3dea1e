//! The sign step: a signature per release file, in the plan's style
//! ([`relkit_attest::sign::sign_file`], the use case `relkit sign` runs too).

use std::path::{Path, PathBuf};

use relkit_attest::sign::{Signer, sign_file};

use super::{Cx, Step, StepError, StepOutput, fail};

/// The release's own files (not signatures): what sign/attest/verify cover.
pub(super) fn release_files(cx: &Cx<'_>) -> Vec<PathBuf> {
    cx.outputs_of(Step::Sign.deps())
}

pub(super) fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Signs `files` beside themselves; returns the signature files.
pub(super) fn sign_files(
    cx: &Cx<'_>,
    signer: &Signer,
    files: &[PathBuf],
) -> Result<Vec<PathBuf>, StepError> {
    let mut out = Vec::new();
    for file in files {
        cx.check_cancel()?;
        let path = sign_file(signer, file, None, None)
            .map_err(fail(format!("signing {}", file.display())))?;
        out.push(path);
    }
    Ok(out)
}

pub(super) fn sign(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let signer = cx.signer()?;
    let files = release_files(cx);
    let outputs = sign_files(cx, &signer, &files)?;
    let public = signer.public_key();
    Ok(StepOutput {
        notes: vec![format!(
            "{} file(s) signed with {} key {}",
            files.len(),
            public.kind().name(),
            public.key_id()
        )],
        outputs,
        ..StepOutput::default()
    })
}
