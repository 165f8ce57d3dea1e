//! Version consistency between a package's declared version, its CPE and its PURL.
//!
//! CPython shipped SBOMs whose CPE or PURL version disagreed with the package version;
//! [`check_versions`] says, for one component, which of the identifiers disagree and how.

use crate::version::same_release;
use serde::Serialize;

use crate::cpe::{AttrValue, Attribute, Wfn};
use crate::purl::Purl;

/// One disagreement between the package version and an identifier's version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionProblem {
    /// The CPE version (with its update, if any) is not the package version.
    CpeVersionDiffers {
        /// CPE version as written (unquoted).
        cpe_version: String,
        /// The package version.
        package_version: String,
    },
    /// The CPE version is ANY (`*`), NA (`-`) or a wildcard pattern, so it names no version.
    CpeVersionUnspecific {
        /// `*`, `-` or the pattern.
        cpe_version: String,
    },
    /// The PURL version is not the package version.
    PurlVersionDiffers {
        /// PURL version.
        purl_version: String,
        /// The package version.
        package_version: String,
    },
    /// The PURL has no version although the package has one.
    PurlVersionMissing,
}

impl VersionProblem {
    /// A one-line human explanation with the fix.
    pub fn message(&self) -> String {
        match self {
            VersionProblem::CpeVersionDiffers {
                cpe_version,
                package_version,
            } => format!(
                "CPE version {cpe_version} differs from package version {package_version}: update the CPE (or the package version)"
            ),
            VersionProblem::CpeVersionUnspecific { cpe_version } => format!(
                "CPE version is {cpe_version:?}, which matches every version: put the package version in the CPE"
            ),
            VersionProblem::PurlVersionDiffers {
                purl_version,
                package_version,
            } => format!(
                "PURL version {purl_version} differs from package version {package_version}: update the PURL (or the package version)"
            ),
            VersionProblem::PurlVersionMissing => {
                "the PURL has no @version although the package has one: add it".to_string()
            }
        }
    }
}

/// Whether a CPE's version (and update) names `package_version`, by the one judge
/// ([`crate::version::same_release`]: case, a leading `v`, separators and trailing zero
/// components do not matter); the update is part of the release (`3.13.0` + `rc1` =
/// `3.13.0rc1` = `3.13.0-rc1`).
pub fn cpe_version_matches(cpe: &Wfn, package_version: &str) -> bool {
    let Some(v) = cpe.version() else {
        return false;
    };
    if cpe.get(Attribute::Version).has_wildcards() {
        return false;
    }
    match cpe.get(Attribute::Update).unquoted() {
        Some(u) => ["", "-", "."]
            .iter()
            .any(|sep| same_release(&format!("{v}{sep}{u}"), package_version)),
        None => same_release(&v, package_version),
    }
}

/// Whether a PURL's version names `package_version`, by the one judge
/// ([`crate::version::same_release`]; Go's `v` prefix included).
pub fn purl_version_matches(purl: &Purl, package_version: &str) -> bool {
    purl.version
        .as_deref()
        .is_some_and(|v| same_release(v, package_version))
}

/// Checks the CPE and PURL versions against the package version; empty = consistent.
pub fn check_versions(
    package_version: &str,
    cpe: Option<&Wfn>,
    purl: Option<&Purl>,
) -> Vec<VersionProblem> {
    let mut problems = Vec::new();
    if let Some(cpe) = cpe {
        match cpe.get(Attribute::Version) {
            AttrValue::Any => problems.push(VersionProblem::CpeVersionUnspecific {
                cpe_version: "*".into(),
            }),
            AttrValue::Na => problems.push(VersionProblem::CpeVersionUnspecific {
                cpe_version: "-".into(),
            }),
            v if v.has_wildcards() => problems.push(VersionProblem::CpeVersionUnspecific {
                cpe_version: v.unquoted().unwrap_or_default(),
            }),
            _ if cpe_version_matches(cpe, package_version) => {}
            _ => problems.push(VersionProblem::CpeVersionDiffers {
                cpe_version: cpe.version().unwrap_or_default(),
                package_version: package_version.to_string(),
            }),
        }
    }
    if let Some(purl) = purl {
        match purl.version.as_deref() {
            None => problems.push(VersionProblem::PurlVersionMissing),
            Some(_) if purl_version_matches(purl, package_version) => {}
            Some(v) => problems.push(VersionProblem::PurlVersionDiffers {
                purl_version: v.to_string(),
                package_version: package_version.to_string(),
            }),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpe(s: &str) -> Wfn {
        Wfn::parse(s).unwrap()
    }

    /// `sbom check` and `cpe check` judge a CPE or PURL version against the package version
    /// exactly as the one judge does (`sbom verify`, the binary rules): no disagreement on
    /// any tricky pair.
    #[test]
    fn identifier_checks_agree_with_the_one_judge() {
        for &(a, b, want) in crate::version::TRICKY_PAIRS {
            if a.is_empty() || b.is_empty() {
                continue;
            }
            let purl = Purl::build(
                "generic",
                None,
                "x",
                Some(a),
                &std::collections::BTreeMap::new(),
                None,
            )
            .unwrap();
            assert_eq!(purl_version_matches(&purl, b), want, "PURL {a:?} vs {b:?}");
            let plain = |v: &str| v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.');
            if plain(a.trim()) {
                let c = cpe(&format!("cpe:2.3:a:x:x:{}:*:*:*:*:*:*:*", a.trim()));
                assert_eq!(cpe_version_matches(&c, b), want, "CPE {a:?} vs {b:?}");
            }
        }
        let rc = cpe("cpe:2.3:a:python:python:3.13.0:rc1:*:*:*:*:*:*");
        for v in ["3.13.0rc1", "3.13.0-rc1", "3.13.0.rc1", "v3.13.0rc1"] {
            assert!(cpe_version_matches(&rc, v), "{v}");
        }
        assert!(!cpe_version_matches(&rc, "3.13.0"));
    }

    #[test]
    fn consistent_versions_have_no_problems() {
        let c = cpe("cpe:2.3:a:sqlite:sqlite:3.49.1.0:*:*:*:*:*:*:*");
        let p = Purl::parse("pkg:generic/sqlite@3.49.1.0").unwrap();
        assert!(check_versions("3.49.1.0", Some(&c), Some(&p)).is_empty());
        let rc = cpe("cpe:2.3:a:python:python:3.13.0:rc1:*:*:*:*:*:*");
        assert!(cpe_version_matches(&rc, "3.13.0rc1"));
        assert!(!cpe_version_matches(&rc, "3.13.0"));
        let go = Purl::parse("pkg:golang/github.com/ulikunitz/xz@v0.5.8").unwrap();
        assert!(purl_version_matches(&go, "0.5.8"));
    }

    /// CPython 3.13.5's expat: the SBOM says 2.6.3 while the vendored sources are 2.7.1.
    #[test]
    fn stale_cpe_and_purl_are_reported() {
        let c = cpe("cpe:2.3:a:libexpat_project:libexpat:2.6.3:*:*:*:*:*:*:*");
        let p = Purl::parse("pkg:generic/expat@2.6.3").unwrap();
        let problems = check_versions("2.7.1", Some(&c), Some(&p));
        assert_eq!(
            problems,
            vec![
                VersionProblem::CpeVersionDiffers {
                    cpe_version: "2.6.3".into(),
                    package_version: "2.7.1".into()
                },
                VersionProblem::PurlVersionDiffers {
                    purl_version: "2.6.3".into(),
                    package_version: "2.7.1".into()
                }
            ]
        );
        let any = cpe("cpe:2.3:a:libexpat_project:libexpat:*:*:*:*:*:*:*:*");
        assert_eq!(
            check_versions("2.7.1", Some(&any), None),
            vec![VersionProblem::CpeVersionUnspecific {
                cpe_version: "*".into()
            }]
        );
        let bare = Purl::parse("pkg:pypi/pip").unwrap();
        assert_eq!(
            check_versions("24.0", None, Some(&bare)),
            vec![VersionProblem::PurlVersionMissing]
        );
    }
}
