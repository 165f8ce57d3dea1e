//! The docs step: the docs command in a clean export, its output archived reproducibly.

use std::collections::BTreeMap;

use relkit_source::config::SourceConfig;
use relkit_source::{BuildRequest, Format, SourceInput, build_source, export_rev};

use super::{Cx, StepError, StepOutput, fail, file_name, move_into};
use crate::exec::{Exit, run_shell};

pub(super) fn docs(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    let docs = cx
        .plan
        .docs
        .as_ref()
        .expect("docs step only when [docs] is set");
    let work = cx.work("docs")?;
    let tree = work.join("tree");
    export_rev(cx.repo, cx.commit, &tree, &Default::default())
        .map_err(fail("exporting the tag for the docs build"))?;
    let log = cx.log("docs");
    let env = BTreeMap::from([
        ("SOURCE_DATE_EPOCH".to_string(), cx.commit_time.to_string()),
        ("TZ".to_string(), "UTC".to_string()),
    ]);
    match run_shell(&docs.command, &tree, &env, &log, cx.cancel)? {
        Exit::Success => {}
        Exit::Interrupted => return Err(StepError::Interrupted(Some(log))),
        Exit::Failed(how) => {
            return Err(StepError::Failed(
                format!("`{}` ended with {how}", docs.command),
                Some(log),
            ));
        }
    }
    let output = tree.join(&docs.output);
    if !output.is_dir() {
        return Err(StepError::Failed(
            format!(
                "the docs command did not create {}; fix [docs] output",
                docs.output
            ),
            Some(log),
        ));
    }
    let formats = docs
        .formats
        .iter()
        .map(|f| Format::parse(f).expect("validated with the plan"))
        .collect();
    let request = BuildRequest {
        input: SourceInput::Dir { path: output },
        out_dir: work.join("out"),
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        prefix: Some(cx.expand(&docs.prefix)),
        mtime: Some(cx.commit_time),
        no_clamp: false,
        formats: Some(formats),
        source: SourceConfig {
            exclude: Vec::new(),
            prepare: Vec::new(),
            ..cx.plan.source.clone()
        },
        force: true,
    };
    let result = build_source(&request).map_err(fail("archiving the docs"))?;
    let mut out = StepOutput {
        log: Some(log),
        ..StepOutput::default()
    };
    for path in &result.artifacts {
        let target = cx.dist.join(file_name(path));
        move_into(path, &target)?;
        out.outputs.push(target);
    }
    out.notes.push(format!(
        "{} files of documentation",
        result.manifest.members
    ));
    Ok(out)
}
