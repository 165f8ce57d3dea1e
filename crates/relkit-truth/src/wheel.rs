//! `relkit sbom verify WHEEL.whl`: the PEP 770 SBOMs a wheel carries
//! (`*.dist-info/sboms/*.json`) checked against the wheel's own bytes, exactly as a declared
//! SBOM is checked against binaries: every declared component is confirmed, contradicted or
//! unverifiable by the binary rules, and what the bytes show but nobody declared (a library
//! built from source and vendored, which auditwheel does not list) is reported as undeclared.
//!
//! A distribution package's version (`pkg:rpm/…@1.15.1-55.el7_9`, `pkg:deb/…@2:1.2.3-4`)
//! carries the packager's epoch and release; what a library embeds is its upstream version, so
//! the upstream part is what is compared, and the report says so.

use std::io::Read;
use std::path::Path;

use relkit_sbom::Document;

use crate::error::{Error, Result};
use crate::{Report, Summary};

/// Verifies the PEP 770 declarations of the wheel at `path` against its bytes. A wheel without
/// any PEP 770 SBOM is an error: there is nothing declared to verify.
pub fn verify_wheel(path: &Path) -> Result<Report> {
    let docs = pep770_documents(path)?;
    if docs.is_empty() {
        return Err(Error::NothingDeclared {
            path: path.display().to_string(),
        });
    }
    let mut declared = Document::default();
    let mut notes = Vec::new();
    for (member, doc) in docs {
        for mut p in doc.packages {
            if doc.describes.contains(&p.id) || p.purls.iter().any(|u| u.starts_with("pkg:pypi/")) {
                continue;
            }
            if let (Some(v), Some((kind, ty))) = (p.version.clone(), distro_kind(&p.purls)) {
                let upstream = relkit_ident::version::upstream_of(&ty, &v);
                if upstream != v {
                    notes.push(format!(
                        "{member}: {} is declared as the {kind} package version {v}; its upstream \
                         version {upstream} is what the library embeds and what is compared",
                        p.name
                    ));
                    p.version = Some(upstream.to_string());
                }
            }
            // auditwheel lists a distribution package once per library file copied from it.
            if declared
                .packages
                .iter()
                .any(|q| q.name == p.name && q.version == p.version && q.purls == p.purls)
            {
                continue;
            }
            p.id = format!("{}:{}", member, p.id);
            declared.packages.push(p);
        }
    }
    let (packages, undeclared, mut binary_notes) = crate::binary::verify(&declared, path)?;
    notes.append(&mut binary_notes);
    Ok(Report {
        sbom: String::new(),
        against: path.display().to_string(),
        mode: "wheel (PEP 770)".into(),
        packages,
        undeclared,
        notes,
        summary: Summary::default(),
    }
    .finish())
}

/// Every PEP 770 SBOM of the wheel, read, with its member path.
fn pep770_documents(path: &Path) -> Result<Vec<(String, Document)>> {
    struct Collect {
        found: Vec<(String, Vec<u8>)>,
    }
    impl relkit_archive::read::Visit for Collect {
        fn visit(
            &mut self,
            member: relkit_archive::read::Member,
            content: &mut dyn Read,
        ) -> std::io::Result<relkit_archive::read::Flow> {
            let name = String::from_utf8_lossy(&member.path).into_owned();
            if member.kind == relkit_archive::read::MemberKind::File
                && relkit_sbom::pep770::is_sbom(&name)
            {
                let mut bytes = Vec::new();
                content.take(64 << 20).read_to_end(&mut bytes)?;
                self.found.push((name, bytes));
            }
            Ok(relkit_archive::read::Flow::Continue)
        }
    }
    let mut c = Collect { found: Vec::new() };
    relkit_archive::read::walk_path(path, &mut c).map_err(|source| Error::Archive {
        path: path.display().to_string(),
        what: "not a readable wheel",
        source: Box::new(source),
    })?;
    let mut docs = Vec::new();
    for (name, bytes) in c.found {
        let origin = format!("{}!{name}", path.display());
        let value = relkit_sbom::json::parse(&bytes, &origin)?;
        let (doc, _, _) = relkit_sbom::read(&value, &origin)?;
        docs.push((name, doc));
    }
    Ok(docs)
}

/// The distribution whose package version a PURL gives (`RPM`, `Debian`, …), if any.
fn distro_kind(purls: &[String]) -> Option<(&'static str, String)> {
    purls.iter().find_map(|u| {
        let ty = u.strip_prefix("pkg:")?.split('/').next()?;
        if !relkit_ident::version::DISTRO_TYPES.contains(&ty) {
            return None;
        }
        let kind = match ty {
            "rpm" => "RPM",
            "deb" => "Debian",
            "apk" => "Alpine",
            _ => "Arch",
        };
        Some((kind, ty.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_purls() {
        assert_eq!(
            distro_kind(&["pkg:rpm/centos/pcre@8.32-17.el7".into()]),
            Some(("RPM", "rpm".to_string()))
        );
        assert_eq!(distro_kind(&["pkg:generic/x@1".into()]), None);
    }
}
