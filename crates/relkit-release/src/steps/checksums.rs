//! The checksums step: SHA256SUMS over the release's files (signed when the plan signs).

use relkit_attest::checksum::{sha256_file, write_sums};

use super::sign::sign_files;
use super::{Cx, Step, StepError, StepOutput, fail, file_name, write_atomic};

pub(super) fn checksums(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let mut files = cx.outputs_of(Step::Checksums.deps());
    files.sort_by_key(|p| file_name(p));
    let mut entries = Vec::new();
    for f in &files {
        let digest = sha256_file(f).map_err(fail(f.display()))?;
        entries.push((file_name(f), digest));
    }
    let path = cx.dist.join("SHA256SUMS");
    write_atomic(&path, write_sums(&entries).as_bytes())?;
    let mut outputs = vec![path.clone()];
    if cx.plan.sign.is_some() {
        let signer = cx.signer()?;
        outputs.extend(sign_files(cx, &signer, std::slice::from_ref(&path))?);
    }
    Ok(StepOutput {
        notes: vec![format!("{} file(s) listed", entries.len())],
        outputs,
        ..StepOutput::default()
    })
}
