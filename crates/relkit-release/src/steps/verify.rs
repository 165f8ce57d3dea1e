//! The verify step: everything published verified again (checksums, signatures, provenance),
//! and what a server serves compared with what was built.

use std::path::Path;

use relkit_attest::checksum::{Algo, parse_sums, sha256_file};
use relkit_attest::sigstore::Artifact;
use relkit_attest::verify::{Input, Inputs, VerifyKey, verify};

use super::attest::provenance_path;
use super::sign::{release_files, with_ext};
use super::{ARTIFACT_STEPS, Cx, StepError, StepOutput, fail, file_name, write_atomic};

/// The public key the final verification trusts.
pub(super) fn verify_key(cx: &Cx<'_>) -> Result<Option<VerifyKey>, StepError> {
    let Some(sign) = &cx.plan.sign else {
        return Ok(None);
    };
    match &sign.public_key {
        Some(p) => {
            let text = std::fs::read_to_string(cx.repo.join(p))
                .map_err(fail(format!("cannot read the public key {p}")))?;
            VerifyKey::parse(&text)
                .map(Some)
                .map_err(fail(format!("cannot use the public key {p}")))
        }
        // The same key id the sign step wrote (an imported minisign key keeps its own).
        None => Ok(Some(cx.signer()?.verify_key())),
    }
}

/// Verifies every release file in `dir` against SHA256SUMS, its signature and the provenance.
pub fn verify_dir(
    cx: &Cx<'_>,
    dir: &Path,
) -> Result<Vec<relkit_attest::verify::Report>, StepError> {
    let key = verify_key(cx)?;
    let sums_path = dir.join("SHA256SUMS");
    let sums = std::fs::read_to_string(&sums_path).map_err(fail(sums_path.display()))?;
    let listed = parse_sums(Algo::Sha256, &sums);
    let provenance_file = dir.join(file_name(&provenance_path(cx)));
    let provenance = std::fs::read_to_string(&provenance_file).ok();
    let style = cx.plan.sign.as_ref().map(|s| s.style.clone());
    let mut reports = Vec::new();
    for file in release_files(cx) {
        cx.check_cancel()?;
        let name = file_name(&file);
        let published = dir.join(&name);
        let data = std::fs::read(&published).map_err(fail(published.display()))?;
        if !listed.lines.iter().any(|e| e.name == name) {
            return Err(StepError::Failed(
                format!("{name} is not listed in {}", sums_path.display()),
                None,
            ));
        }
        let digest = relkit_attest::checksum::sha256(&data);
        let read = |ext: &str| std::fs::read(with_ext(&published, ext)).ok();
        let (signature, bundle) = match style.as_deref() {
            Some("minisign") => (read(".minisig"), None),
            Some("raw") => (read(".sig"), None),
            Some(_) => (
                None,
                read(".sigstore.json").map(|b| String::from_utf8_lossy(&b).into_owned()),
            ),
            None => (None, None),
        };
        if style.is_some() && signature.is_none() && bundle.is_none() {
            return Err(StepError::Failed(
                format!("{name} was published without its signature"),
                None,
            ));
        }
        let inputs = Inputs {
            name: name.clone(),
            artifact: Artifact {
                sha256: digest,
                bytes: Some(&data),
            },
            checksums: Some(Input {
                path: sums_path.display().to_string(),
                content: sums.clone(),
            }),
            signature: signature.map(|content| Input {
                path: format!("{name} signature"),
                content,
            }),
            key: key.clone(),
            bundle: bundle.map(|content| Input {
                path: format!("{name}.sigstore.json"),
                content,
            }),
            provenance: provenance.clone().map(|content| Input {
                path: provenance_file.display().to_string(),
                content,
            }),
            policy: None,
            trusted_root: None,
        };
        let report = verify(&inputs).map_err(fail(format!("verifying {name}")))?;
        if !report.passed {
            let failed: Vec<String> = report
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.check, c.detail))
                .collect();
            return Err(StepError::Failed(
                format!(
                    "{} does not verify: {}",
                    published.display(),
                    failed.join("; ")
                ),
                None,
            ));
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Downloads every uploaded file and the server's SHA256SUMS from a `relkit serve` server and
/// checks they are the local files; returns the names checked.
pub(super) fn verify_served(cx: &Cx<'_>, url: &str) -> Result<Vec<String>, StepError> {
    let client = relkit_client::Client::new(url.trim_end_matches('/'), None);
    let base = format!("/api/v1/projects/{}/releases/{}", cx.name, cx.version);
    let (sums, _) = client
        .download(&format!("{base}/SHA256SUMS"))
        .map_err(fail(format!("downloading SHA256SUMS from {url}")))?;
    let sums = String::from_utf8_lossy(&sums).into_owned();
    let listed = parse_sums(Algo::Sha256, &sums);
    let mut served = Vec::new();
    for file in cx.outputs_of(ARTIFACT_STEPS) {
        let name = file_name(&file);
        if name == relkit_source::manifest::MANIFEST_FILE {
            continue;
        }
        cx.check_cancel()?;
        let local = hex::encode(sha256_file(&file).map_err(fail(file.display()))?);
        let (_, remote) = client
            .download(&format!("{base}/files/{name}"))
            .map_err(fail(format!("downloading {name} from {url}")))?;
        if remote != local {
            return Err(StepError::Failed(
                format!("{url} serves {name} with sha256 {remote}, but the release built {local}"),
                None,
            ));
        }
        if !listed
            .lines
            .iter()
            .any(|l| l.name == name && l.hex == local)
        {
            return Err(StepError::Failed(
                format!("the server's SHA256SUMS does not list {name} with sha256 {local}"),
                None,
            ));
        }
        served.push(name);
    }
    Ok(served)
}

pub(super) fn verify_published(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let publish = cx.plan.publish.as_ref().expect("verify runs after publish");
    let (dir, served) = match (&publish.dir, &publish.url) {
        (Some(d), _) => (cx.repo.join(cx.expand(d)), None),
        // What the server serves must be the files verified here, byte for byte.
        (None, Some(url)) => (cx.dist.clone(), Some((url, verify_served(cx, url)?))),
        (None, None) => unreachable!("validated: dir or url"),
    };
    let reports = verify_dir(cx, &dir)?;
    let report_path = cx.report_path("verify");
    write_atomic(
        &report_path,
        &serde_json::to_vec_pretty(&reports).expect("reports serialize"),
    )?;
    let checks: usize = reports.iter().map(|r| r.checks.len()).sum();
    let mut notes = vec![format!(
        "{} file(s) in {} verified ({checks} checks passed)",
        reports.len(),
        dir.display()
    )];
    if let Some((url, names)) = served {
        notes.push(format!(
            "{} file(s) downloaded from {url} are the ones verified, and its SHA256SUMS lists them",
            names.len()
        ));
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}
