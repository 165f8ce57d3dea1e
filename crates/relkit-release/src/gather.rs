//! The gather step: artifacts built elsewhere (Windows installers, macOS packages) fetched
//! from a path or an HTTPS URL and admitted into the release only after their SHA-256 is
//! checked, either against the plan or against a SHA256SUMS file whose signature is verified
//! with the builder's public key. A file that fails a check never appears in `dist/`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use relkit_attest::checksum::{Algo, parse_sums};
use relkit_attest::sigstore::Artifact;
use relkit_attest::verify::{Input, Inputs, VerifyKey, verify};
use sha2::{Digest, Sha256};

use crate::plan::GatherSettings;
use crate::steps::{Cx, StepError, StepOutput};

/// Largest SHA256SUMS or signature file read into memory.
const SMALL_FILE_LIMIT: u64 = 16 << 20;

/// Runs the gather step.
pub fn gather(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let mut out = StepOutput::default();
    for entry in &cx.plan.gather {
        let name = cx.expand(&entry.name);
        let expected = expected_digest(cx, entry, &name)?;
        let target = cx.dist.join(&name);
        std::fs::create_dir_all(&cx.dist).map_err(|e| failed(&name, &cx.dist, e))?;
        let mut tmp = tempfile::NamedTempFile::with_prefix_in(".relkit-gather-", &cx.dist)
            .map_err(|e| failed(&name, &cx.dist, e))?;
        let location = entry.url.clone().or(entry.path.clone()).unwrap_or_default();
        let location = cx.expand(&location);
        let mut hasher = Sha256::new();
        let mut reader = open(cx, &location)
            .map_err(|e| StepError::caused(format!("gather {name}: cannot fetch {location}"), e))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            if cx.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(StepError::Interrupted(None));
            }
            let n = reader
                .read(&mut buf)
                .map_err(|e| StepError::caused(format!("gather {name}: reading {location}"), e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| failed(&name, tmp.path(), e))?;
        }
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(&expected.0) {
            return Err(StepError::Failed(
                format!(
                    "gather {name}: {location} has sha256 {actual}, but {} says {}; the file was not admitted (a tampered or wrong artifact)",
                    expected.1, expected.0
                ),
                None,
            ));
        }
        tmp.persist(&target)
            .map_err(|e| failed(&name, &target, e.error))?;
        out.notes
            .push(format!("{name}: sha256 {actual} matches {}", expected.1));
        out.outputs.push(target);
    }
    Ok(out)
}

fn failed(name: &str, path: &Path, e: std::io::Error) -> StepError {
    StepError::caused(format!("gather {name}: {}", path.display()), e)
}

/// Why a gathered file (or its SHA256SUMS, or signature) could not be fetched.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// The HTTP request failed.
    #[error(transparent)]
    Http(#[from] ureq::Error),
    /// A local file cannot be opened.
    #[error("{path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Reading the bytes failed.
    #[error(transparent)]
    Read(#[from] std::io::Error),
}

/// Opens a path (relative to the repository) or an http(s) URL.
fn open(cx: &Cx<'_>, location: &str) -> Result<Box<dyn Read>, FetchError> {
    if location.starts_with("https://") || location.starts_with("http://") {
        let response = ureq::get(location).call()?;
        Ok(Box::new(response.into_body().into_reader()))
    } else {
        let path: PathBuf = cx.repo.join(location);
        std::fs::File::open(&path)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|source| FetchError::Open { path, source })
    }
}

fn read_small(cx: &Cx<'_>, location: &str) -> Result<Vec<u8>, FetchError> {
    let mut bytes = Vec::new();
    open(cx, location)?
        .take(SMALL_FILE_LIMIT)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The digest the file must have, and where that expectation comes from.
fn expected_digest(
    cx: &Cx<'_>,
    entry: &GatherSettings,
    name: &str,
) -> Result<(String, String), StepError> {
    if let Some(h) = &entry.sha256 {
        return Ok((h.to_lowercase(), "the plan".into()));
    }
    let sums_location = cx.expand(entry.sums.as_deref().expect("validated: sha256 or sums"));
    let err = |m: String| StepError::Failed(format!("gather {name}: {m}"), None);
    let caused = |what: &str| {
        let context = format!("gather {name}: {what}");
        move |e| StepError::caused(context, e)
    };
    let sums = read_small(cx, &sums_location).map_err(caused(&sums_location))?;
    if let (Some(sig_location), Some(key_path)) = (&entry.sums_signature, &entry.key) {
        let sig_location = cx.expand(sig_location);
        let signature = read_small(cx, &sig_location).map_err(caused(&sig_location))?;
        let key_text = std::fs::read_to_string(cx.repo.join(key_path))
            .map_err(|e| StepError::caused(format!("gather {name}: {key_path}"), e))?;
        let key = VerifyKey::parse(&key_text)
            .map_err(|e| StepError::caused(format!("gather {name}: {key_path}"), e))?;
        let inputs = Inputs {
            name: "SHA256SUMS".into(),
            artifact: Artifact {
                sha256: relkit_attest::checksum::sha256(&sums),
                bytes: Some(&sums),
            },
            checksums: None,
            signature: Some(Input {
                path: sig_location.clone(),
                content: signature,
            }),
            key: Some(key),
            bundle: None,
            provenance: None,
            policy: None,
            trusted_root: None,
        };
        let report = verify(&inputs)
            .map_err(|e| StepError::caused(format!("gather {name}: {sig_location}"), e))?;
        if !report.passed {
            let why: Vec<String> = report.checks.iter().map(|c| c.detail.clone()).collect();
            return Err(err(format!(
                "the signature {sig_location} over {sums_location} does not verify with {key_path}: {}",
                why.join("; ")
            )));
        }
    }
    let text = String::from_utf8_lossy(&sums);
    let parsed = parse_sums(Algo::Sha256, &text);
    let line = parsed
        .lines
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| err(format!("{sums_location} does not list {name}")))?;
    let source = match &entry.sums_signature {
        Some(_) => format!("{sums_location} (signature verified)"),
        None => sums_location.clone(),
    };
    Ok((line.hex.to_lowercase(), source))
}
