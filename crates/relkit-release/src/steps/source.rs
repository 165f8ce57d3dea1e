//! The source step: reproducible source archives from the tag.

use relkit_source::{BuildRequest, SourceInput, build_source};

use super::{Cx, StepError, StepOutput, fail, file_name, move_into};

pub(super) fn source(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let work = cx.work("source")?;
    let request = BuildRequest {
        input: SourceInput::Git {
            repo: cx.repo.to_path_buf(),
            rev: cx.commit.to_string(),
        },
        out_dir: work.clone(),
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        prefix: None,
        mtime: None,
        no_clamp: false,
        formats: None,
        source: cx.plan.source.clone(),
        force: true,
    };
    let result = build_source(&request).map_err(fail("building the source archives"))?;
    cx.check_cancel()?;
    let mut out = StepOutput::default();
    for path in result
        .artifacts
        .iter()
        .chain(std::iter::once(&result.manifest_path))
    {
        let target = cx.dist.join(file_name(path));
        move_into(path, &target)?;
        out.outputs.push(target);
    }
    out.notes.push(format!(
        "{} members from commit {}",
        result.manifest.members, cx.commit
    ));
    Ok(out)
}
