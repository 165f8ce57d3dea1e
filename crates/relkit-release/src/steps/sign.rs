//! The sign step: a signature per release file, in the plan's style.

use std::path::{Path, PathBuf};

use relkit_attest::keys::PrivateKey;
use relkit_attest::sigstore::Bundle;

use super::{Cx, Step, StepError, StepOutput, fail, file_name, write_atomic};

/// The release's own files (not signatures): what sign/attest/verify cover.
pub(super) fn release_files(cx: &Cx<'_>) -> Vec<PathBuf> {
    cx.outputs_of(Step::Sign.deps())
}

pub(super) fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut s = base.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Signs `files` in the plan's style; returns the signature files.
pub(super) fn sign_files(
    cx: &Cx<'_>,
    key: &PrivateKey,
    files: &[PathBuf],
) -> Result<Vec<PathBuf>, StepError> {
    let style = cx.plan.sign.as_ref().map_or("bundle", |s| s.style.as_str());
    let mut out = Vec::new();
    for file in files {
        cx.check_cancel()?;
        let data = std::fs::read(file).map_err(fail(file.display()))?;
        let (path, bytes) = match style {
            "minisign" => {
                let PrivateKey::Ed25519(sk) = key else {
                    return Err(StepError::Failed(
                        "minisign signatures need an ed25519 key".into(),
                        None,
                    ));
                };
                let vk = sk.verifying_key();
                let key_id = relkit_attest::minisign::derived_key_id(&vk);
                let tc = format!("file:{}\thashed", file_name(file));
                let sig = relkit_attest::minisign::sign(sk, &key_id, &data, &tc);
                (with_ext(file, ".minisig"), sig.into_bytes())
            }
            "raw" => (with_ext(file, ".sig"), key.sign(&data)),
            _ => (
                with_ext(file, ".sigstore.json"),
                Bundle::sign_message(key, &data).to_json().into_bytes(),
            ),
        };
        write_atomic(&path, &bytes)?;
        out.push(path);
    }
    Ok(out)
}

pub(super) fn sign(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let key = cx.signing_key()?;
    let files = release_files(cx);
    let outputs = sign_files(cx, &key, &files)?;
    Ok(StepOutput {
        notes: vec![format!(
            "{} file(s) signed with {} key {}",
            files.len(),
            key.kind().name(),
            key.public().key_id()
        )],
        outputs,
        ..StepOutput::default()
    })
}
