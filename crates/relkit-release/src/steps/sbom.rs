//! The sbom step: SBOMs per artifact and the merged release SBOM.

use super::{Cx, StepError, StepOutput, fail, file_name, write_atomic};

pub(super) fn sbom(cx: &Cx<'_>) -> Result<StepOutput, StepError> {
    use relkit_sbom::{Format as SbomFormat, binary, generate, merge};
    let settings = &cx.plan.sbom;
    let formats: Vec<SbomFormat> = settings
        .formats
        .iter()
        .map(|f| SbomFormat::parse(f).expect("validated with the plan"))
        .collect();
    let created = cx.created();
    let mut docs = Vec::new();
    let mut out = StepOutput::default();
    let write =
        |doc: &relkit_sbom::Document, stem: &str, out: &mut StepOutput| -> Result<(), StepError> {
            for f in &formats {
                let (bytes, _lost) = relkit_sbom::write(doc, *f);
                let ext = match f.name() {
                    n if n.contains("cyclonedx") => "cdx.json",
                    _ => "spdx.json",
                };
                let path = cx.dist.join(format!("{stem}.{ext}"));
                write_atomic(&path, &bytes)?;
                out.outputs.push(path);
            }
            Ok(())
        };
    // Every source archive gets its own SBOM (the file it describes differs even though the
    // tree is the same); the first one also joins the release SBOM.
    // The project's defaults come from the plan's [sbom] table; the use case is the one
    // `relkit sbom generate` runs.
    let base = relkit_sbom::ProjectDefaults {
        name: Some(cx.name.to_string()),
        version: Some(cx.version.to_string()),
        supplier: settings.supplier.clone(),
        download_location: settings.download_location.clone(),
        license: settings.license.clone(),
        cpes: settings.cpe.iter().map(|c| cx.expand(c)).collect(),
        purls: settings.purl.iter().map(|p| cx.expand(p)).collect(),
        in_tree: settings.in_tree.clone(),
    };
    let docs_defaults = relkit_sbom::ProjectDefaults {
        name: Some(format!("{}-docs", cx.name)),
        cpes: Vec::new(),
        purls: Vec::new(),
        in_tree: None,
        ..base.clone()
    };
    // A release's source archive lists its files, as CPython's release SBOMs do.
    let flags = generate::Flags {
        created: created.clone(),
        files: Some(true),
        ..generate::Flags::default()
    };
    let docs_flags = generate::Flags {
        no_in_tree_sbom: true,
        ..flags.clone()
    };
    let archives = cx
        .source_archives()
        .into_iter()
        .map(|a| (a, &flags, &base))
        .chain(
            cx.outputs_of(&["docs"])
                .into_iter()
                .map(|a| (a, &docs_flags, &docs_defaults)),
        );
    for (i, (archive, flags, defaults)) in archives.enumerate() {
        cx.check_cancel()?;
        let generated = relkit_sbom::generate(&archive, flags, defaults, &|_| {}, &|_| false)
            .map_err(fail(format!("SBOM of {}", archive.display())))?;
        out.notes.extend(
            generated
                .warnings
                .iter()
                .map(|w| format!("{}: warning: {w}", file_name(&archive))),
        );
        let doc = generated.doc;
        write(&doc, &file_name(&archive), &mut out)?;
        out.notes.push(format!(
            "{}: {} packages, {} files",
            file_name(&archive),
            doc.packages.len(),
            doc.files.len()
        ));
        if i == 0 {
            docs.push(doc);
        }
    }
    for path in cx.outputs_of(&["gather"]) {
        cx.check_cancel()?;
        if !binary::looks_binary(&path).unwrap_or(false) {
            continue;
        }
        let opts = binary::BinaryOptions {
            name: Some(file_name(&path)),
            version: Some(cx.version.to_string()),
            created: created.clone(),
        };
        let mut doc =
            binary::generate(&path, &opts).map_err(fail(format!("SBOM of {}", path.display())))?;
        doc.normalize();
        write(&doc, &file_name(&path), &mut out)?;
        out.notes.push(format!(
            "{}: {} packages from the bytes",
            file_name(&path),
            doc.packages.len()
        ));
        docs.push(doc);
    }
    let mut release = merge::merge(&docs, cx.name, Some(cx.version), &created);
    release.normalize();
    write(
        &release,
        &format!("{}-{}.release", cx.name, cx.version),
        &mut out,
    )?;
    Ok(out)
}
