//! The publish step. To a directory: every file is copied into a staging directory beside
//! the target, synced, and the staging directory renamed onto the target, so readers see the
//! whole release or nothing; a target that exists is left alone unless it already holds
//! exactly these files. To a server: the release directory is uploaded with relkit-client
//! (resumable and idempotent; the server verifies each upload on arrival).

use std::path::{Path, PathBuf};

use crate::steps::{ARTIFACT_STEPS, Cx, Step, StepError, StepOutput, file_name};

/// Runs the publish step.
pub fn publish(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let settings = cx
        .plan
        .publish
        .as_ref()
        .expect("publish step only with [publish]");
    let files = cx.outputs_of(Step::Publish.deps());
    match (&settings.dir, &settings.url) {
        (Some(dir), _) => publish_dir(&cx.repo.join(cx.expand(dir)), &files),
        (_, Some(url)) => upload(cx, url, settings.token_file.as_deref()),
        _ => unreachable!("validated: dir or url"),
    }
}

fn io_failed(path: &Path, e: std::io::Error, what: &str) -> StepError {
    StepError::caused(format!("{what} {}", path.display()), e)
}

/// Copies `files` into `target` atomically (staging directory + rename).
pub fn publish_dir(target: &Path, files: &[PathBuf]) -> Result<StepOutput, StepError> {
    if target.exists() {
        return already_published(target, files);
    }
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| io_failed(parent, e, "cannot create the publish directory's parent"))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.relkit-staging-", file_name(target)))
        .tempdir_in(parent)
        .map_err(|e| io_failed(parent, e, "cannot stage the release in"))?;
    let mut outputs = Vec::new();
    for file in files {
        let to = staging.path().join(file_name(file));
        std::fs::copy(file, &to).map_err(|e| io_failed(&to, e, "cannot copy to"))?;
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(|e| io_failed(&to, e, "cannot sync"))?;
        outputs.push(target.join(file_name(file)));
    }
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, target) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io_failed(target, e, "cannot move the staged release to"));
    }
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(StepOutput {
        notes: vec![format!(
            "{} file(s) published to {}",
            files.len(),
            target.display()
        )],
        outputs,
        ..StepOutput::default()
    })
}

/// A target that exists is accepted only when it holds exactly these files, byte for byte.
fn already_published(target: &Path, files: &[PathBuf]) -> Result<StepOutput, StepError> {
    let mut present: Vec<String> = std::fs::read_dir(target)
        .map_err(|e| io_failed(target, e, "cannot read"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    present.sort();
    let mut wanted: Vec<String> = files.iter().map(|f| file_name(f)).collect();
    wanted.sort();
    let same_names = present == wanted;
    let same_bytes = same_names
        && files.iter().all(|f| {
            let published = target.join(file_name(f));
            let digest = |p: &Path| relkit_attest::checksum::sha256_file(p).ok();
            matches!(digest(f), Some(d) if Some(d) == digest(&published))
        });
    if !same_bytes {
        return Err(StepError::Failed(
            format!(
                "{} already exists and holds other files; a published release is never overwritten: publish under another version or remove it deliberately",
                target.display()
            ),
            None,
        ));
    }
    Ok(StepOutput {
        notes: vec![format!("{} already holds this release", target.display())],
        outputs: files.iter().map(|f| target.join(file_name(f))).collect(),
        ..StepOutput::default()
    })
}

/// Lays the release out for relkit-client: each artifact with its SBOMs, its signature or
/// bundle, and the release's provenance as `X.intoto.jsonl`, so the server can verify every
/// file against its own material on arrival.
fn upload_dir(cx: &Cx<'_>) -> Result<PathBuf, StepError> {
    let dir = cx.state_dir.join("work").join("upload");
    let failed = |p: &Path, e: std::io::Error| io_failed(p, e, "cannot stage the upload in");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| failed(&dir, e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| failed(&dir, e))?;
    let provenance = cx.outputs_of(&["attest"]).into_iter().next();
    let link = |from: &Path, name: &str| -> Result<(), StepError> {
        let to = dir.join(name);
        std::fs::hard_link(from, &to)
            .or_else(|_| std::fs::copy(from, &to).map(|_| ()))
            .map_err(|e| failed(&to, e))
    };
    for artifact in cx.outputs_of(ARTIFACT_STEPS) {
        let name = file_name(&artifact);
        if name == relkit_source::manifest::MANIFEST_FILE {
            // Build metadata, not a release file: it stays in dist/ and in published directories.
            continue;
        }
        link(&artifact, &name)?;
        for ext in [
            ".spdx.json",
            ".cdx.json",
            ".sigstore.json",
            ".sig",
            ".minisig",
        ] {
            let material = cx.dist.join(format!("{name}{ext}"));
            if material.is_file() {
                link(&material, &format!("{name}{ext}"))?;
            }
        }
        if let Some(p) = &provenance {
            link(p, &format!("{name}.intoto.jsonl"))?;
        }
    }
    Ok(dir)
}

fn upload(cx: &Cx<'_>, url: &str, token_file: Option<&str>) -> Result<StepOutput, StepError> {
    let token_file = token_file.expect("validated: url needs token-file");
    let token = std::fs::read_to_string(cx.repo.join(token_file))
        .map_err(|e| StepError::caused(format!("cannot read the upload token {token_file}"), e))?;
    let dir = upload_dir(cx)?;
    let opts = relkit_client::PublishOptions {
        server: url.trim_end_matches('/').to_string(),
        token: token.trim().to_string(),
        project: cx.name.to_string(),
        version: cx.version.to_string(),
        tag: cx
            .tag_ref
            .map(|t| t.trim_start_matches("refs/tags/").to_string())
            .unwrap_or_else(|| cx.rev.to_string()),
        commit: cx.commit.to_string(),
        dir,
        publish: true,
    };
    let report = relkit_client::publish_dir(&opts).map_err(|e| {
        let problems = match &e {
            relkit_client::Error::Http { missing, .. } if !missing.is_empty() => {
                format!(" ({})", missing.join("; "))
            }
            _ => String::new(),
        };
        // The client's error and its causes (transport, file, JSON) are the `caused by:` lines.
        StepError::caused(format!("uploading to {url}{problems}"), e)
    })?;
    let mut notes = vec![format!(
        "{} item(s) uploaded to {url}, {} already there; release {}",
        report.uploaded(),
        report.unchanged(),
        if report.published {
            "published"
        } else {
            "not published"
        }
    )];
    notes.extend(
        report
            .items
            .iter()
            .filter(|i| !i.status.is_empty())
            .map(|i| format!("{}: {}", i.name, i.status)),
    );
    if !report.published {
        return Err(StepError::Failed(
            format!("the server did not publish {} {}", cx.name, cx.version),
            None,
        ));
    }
    Ok(StepOutput {
        notes,
        ..StepOutput::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_directory_that_cannot_be_made_keeps_the_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("pub");
        std::fs::write(&blocker, "a file where the publish directory should be").unwrap();
        let file = dir.path().join("SHA256SUMS");
        std::fs::write(&file, "x\n").unwrap();
        let e = publish_dir(&blocker.join("demo"), &[file]).unwrap_err();
        let StepError::Caused { context, source } = &e else {
            panic!("expected a caused step error, got {e:?}");
        };
        assert_eq!(
            context,
            &format!(
                "cannot create the publish directory's parent {}",
                blocker.display()
            )
        );
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source:?}"
        );
    }
}
