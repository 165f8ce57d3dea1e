//! "Which releases of project P contain component C (by PURL or CPE) in version range R", in
//! one request: `GET /api/v1/projects/{project}/components?purl=…` (or `?cpe=…`) with an
//! optional `range=`. Public, like the other release reads; only published releases are
//! searched, in their SBOM attachments (read with relkit-sbom, the reader the watcher uses).
//!
//! - `purl`: matched on type, namespace and name (as relkit-ident's PURL parser normalizes
//!   them); a version in it, without `range`, means exactly that version.
//! - `cpe`: a CPE 2.3 formatted string or URI, matched with CPE name matching (relkit-ident):
//!   the query must be equal to or a superset of a component's CPE; its version is ignored
//!   when `range` is given.
//! - `range`: comparators joined by `,` (all must hold: `>=1.0,<2.0`, `==2.10`, `!=1.5`), or
//!   a `vers:` range (`vers:pypi/>=1.0|<2.0`, the algorithm of the vers specification).
//!   Versions are compared by relkit-ident's order for the PURL's ecosystem (PEP 440 for
//!   pypi, SemVer for cargo/npm, …; the generic order for CPEs and unknown types). A component
//!   whose version that order cannot read is listed under `unreadable`, never silently dropped.
//!
//! A release whose SBOM cannot be read is listed in `errors` (fail closed: it was not
//! searched).

use std::cmp::Ordering;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use relkit_ident::cpe::{NameRelation, Wfn, compare_names};
use relkit_ident::purl::Purl;
use relkit_ident::version::{Scheme, Version};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, St, projects};

/// Query parameters of the component search.
#[derive(Debug, Clone, Deserialize)]
pub struct ComponentQuery {
    /// A PURL (`pkg:pypi/jinja2`, optionally with `@version`).
    pub purl: Option<String>,
    /// A CPE 2.3 name (formatted string or URI).
    pub cpe: Option<String>,
    /// A version range (see the module documentation).
    pub range: Option<String>,
}

/// A component found in a release.
#[derive(Debug, Clone, Serialize)]
pub struct FoundComponent {
    /// Its name in the SBOM.
    pub name: String,
    /// Its version (null when the SBOM gives none).
    pub version: Option<String>,
    /// Its PURLs.
    pub purls: Vec<String>,
    /// Its CPEs.
    pub cpes: Vec<String>,
    /// The SBOM it is in (`FILE/sbom/NAME`).
    pub sbom: String,
}

/// A release containing the component.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseComponents {
    /// Release version.
    pub version: String,
    /// The matching components (in range).
    pub components: Vec<FoundComponent>,
}

/// A release that could not be searched.
#[derive(Debug, Clone, Serialize)]
pub struct SearchError {
    /// Release version.
    pub version: String,
    /// Why.
    pub error: String,
}

/// `GET /api/v1/projects/{project}/components`.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReleases {
    /// Project.
    pub project: String,
    /// The PURL asked for.
    pub purl: Option<String>,
    /// The CPE asked for.
    pub cpe: Option<String>,
    /// The range asked for.
    pub range: Option<String>,
    /// Published releases searched.
    pub searched: usize,
    /// Releases with a matching component in range, by version as stored (oldest first).
    pub releases: Vec<ReleaseComponents>,
    /// Matching components whose version cannot be compared (no version, or one the
    /// ecosystem's order cannot read), by release.
    pub unreadable: Vec<ReleaseComponents>,
    /// Releases whose SBOMs could not be read.
    pub errors: Vec<SearchError>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message)
}

/// One comparator of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
        }
    }
}

/// Splits `>=1.0` into its comparator and version (`1.0` alone is `==1.0`).
fn constraint(s: &str) -> Result<(Op, String), ApiError> {
    let s = s.trim();
    let (op, rest) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ]
    .into_iter()
    .find_map(|(p, op)| s.strip_prefix(p).map(|r| (op, r)))
    .unwrap_or((Op::Eq, s));
    let v = rest.trim();
    if v.is_empty() {
        return Err(bad(format!("range constraint {s:?} has no version")));
    }
    Ok((op, v.to_string()))
}

/// A parsed range: all of the comparators (`,` form), or a vers range.
#[derive(Debug, Clone)]
enum Range {
    All(Vec<(Op, Version)>),
    /// vers constraints sorted by version; `None` for `*`.
    Vers(Option<Vec<(Op, Version)>>),
}

fn parse_version(scheme: Scheme, v: &str) -> Result<Version, ApiError> {
    Version::parse(scheme, v).map_err(|e| bad(format!("range: {e}")))
}

fn parse_range(text: &str, scheme: Scheme) -> Result<Range, ApiError> {
    if let Some(rest) = text.strip_prefix("vers:") {
        let (_, constraints) = rest
            .split_once('/')
            .ok_or_else(|| bad("a vers range is vers:SCHEME/CONSTRAINTS"))?;
        if constraints.trim() == "*" {
            return Ok(Range::Vers(None));
        }
        let mut cs = Vec::new();
        for c in constraints.split('|') {
            let (op, v) = constraint(c)?;
            cs.push((op, parse_version(scheme, &v)?));
        }
        cs.sort_by(|a, b| a.1.compare(&b.1).unwrap_or(Ordering::Equal));
        return Ok(Range::Vers(Some(cs)));
    }
    let mut cs = Vec::new();
    for c in text.split(',').filter(|c| !c.trim().is_empty()) {
        let (op, v) = constraint(c)?;
        cs.push((op, parse_version(scheme, &v)?));
    }
    if cs.is_empty() {
        return Err(bad("the range is empty"));
    }
    Ok(Range::All(cs))
}

/// Whether `v` is in the range.
fn contains(range: &Range, v: &Version) -> bool {
    let cmp = |c: &Version| v.compare(c).unwrap_or(Ordering::Equal);
    match range {
        Range::All(cs) => cs.iter().all(|(op, c)| op.holds(cmp(c))),
        Range::Vers(None) => true,
        Range::Vers(Some(cs)) => {
            // The vers specification's containment algorithm.
            for (op, c) in cs {
                if *op == Op::Eq && cmp(c) == Ordering::Equal {
                    return true;
                }
                if *op == Op::Ne && cmp(c) == Ordering::Equal {
                    return false;
                }
            }
            let rest: Vec<&(Op, Version)> = cs
                .iter()
                .filter(|(op, _)| !matches!(op, Op::Eq | Op::Ne))
                .collect();
            if rest.len() == 1 {
                return rest[0].0.holds(cmp(&rest[0].1));
            }
            for (i, w) in rest.windows(2).enumerate() {
                let ((cop, cv), (nop, nv)) = (w[0], w[1]);
                if i == 0 && matches!(cop, Op::Lt | Op::Le) && cop.holds(cmp(cv)) {
                    return true;
                }
                if i + 2 == rest.len() && matches!(nop, Op::Gt | Op::Ge) && nop.holds(cmp(nv)) {
                    return true;
                }
                if matches!(cop, Op::Gt | Op::Ge)
                    && matches!(nop, Op::Lt | Op::Le)
                    && cop.holds(cmp(cv))
                    && nop.holds(cmp(nv))
                {
                    return true;
                }
            }
            false
        }
    }
}

/// What the query names.
enum Target {
    Purl(Purl),
    Cpe(Wfn),
}

fn same_package(q: &Purl, c: &Purl) -> bool {
    q.ty.eq_ignore_ascii_case(&c.ty) && q.namespace == c.namespace && q.name == c.name
}

/// The ordering for versions of a PURL's ecosystem.
fn scheme_of(p: &Purl) -> Scheme {
    relkit_vuln::ecosystem::from_purl(p)
        .map(|(eco, _)| Scheme::for_ecosystem(eco))
        .unwrap_or(Scheme::Generic)
}

/// GET /api/v1/projects/{project}/components
pub async fn components(
    State(s): St,
    Path(project): Path<String>,
    Query(q): Query<ComponentQuery>,
) -> ApiResult<Json<ComponentReleases>> {
    let (target, scheme, implied) = match (&q.purl, &q.cpe) {
        (Some(p), None) => {
            let purl = Purl::parse(p).map_err(|e| bad(format!("purl {p:?}: {e}")))?;
            let scheme = scheme_of(&purl);
            let implied = purl.version.clone().map(|v| format!("=={v}"));
            (Target::Purl(purl), scheme, implied)
        }
        (None, Some(c)) => {
            let mut wfn = Wfn::parse(c).map_err(|e| bad(format!("cpe {c:?}: {e}")))?;
            if q.range.is_some() {
                wfn.set(
                    relkit_ident::cpe::Attribute::Version,
                    relkit_ident::cpe::AttrValue::Any,
                )
                .map_err(|e| bad(format!("cpe {c:?}: {e}")))?;
            }
            (Target::Cpe(wfn), Scheme::Generic, None)
        }
        _ => return Err(bad("give exactly one of purl= and cpe=")),
    };
    let range = match q.range.as_deref().or(implied.as_deref()) {
        Some(r) => Some(parse_range(r, scheme)?),
        None => None,
    };
    if !projects::exists(&s, &project).await? {
        return Err(ApiError::not_found(format!("no project {project}")));
    }
    let published: Vec<(String,)> = s
        .db
        .query(
            "SELECT version FROM releases WHERE project = $1 AND published IS NOT NULL ORDER BY created, version",
            vec![project.as_str().into()],
        )
        .await?;
    let mut out = ComponentReleases {
        project: project.clone(),
        purl: q.purl.clone(),
        cpe: q.cpe.clone(),
        range: q.range.clone(),
        searched: published.len(),
        releases: Vec::new(),
        unreadable: Vec::new(),
        errors: Vec::new(),
    };
    for (version,) in published {
        let sboms = crate::watch::release_sboms(&s, &project, &version).await?;
        let docs = tokio::task::spawn_blocking(move || {
            sboms
                .iter()
                .map(|(name, bytes)| {
                    crate::watch::read_sbom(name, bytes).map(|d| (name.clone(), d))
                })
                .collect::<Result<Vec<_>, String>>()
        })
        .await
        .unwrap_or_else(|e| Err(format!("the read task failed: {e}")));
        let docs = match docs {
            Ok(d) => d,
            Err(error) => {
                out.errors.push(SearchError { version, error });
                continue;
            }
        };
        let (mut hits, mut odd) = (Vec::new(), Vec::new());
        for (sbom, doc) in &docs {
            for p in &doc.packages {
                let (matched, comp_version) = match &target {
                    Target::Purl(qp) => {
                        let hit = p
                            .purls
                            .iter()
                            .filter_map(|t| Purl::parse(t).ok())
                            .find(|c| same_package(qp, c));
                        match hit {
                            Some(c) => (true, p.version.clone().or(c.version)),
                            None => (false, None),
                        }
                    }
                    Target::Cpe(qw) => {
                        let hit = p.cpes.iter().filter_map(|t| Wfn::parse(t).ok()).find(|c| {
                            matches!(
                                compare_names(qw, c).relation,
                                NameRelation::Equal | NameRelation::Superset
                            )
                        });
                        match hit {
                            Some(c) => (true, p.version.clone().or(c.version())),
                            None => (false, None),
                        }
                    }
                };
                if !matched {
                    continue;
                }
                let found = FoundComponent {
                    name: p.name.clone(),
                    version: comp_version.clone(),
                    purls: p.purls.clone(),
                    cpes: p.cpes.clone(),
                    sbom: sbom.clone(),
                };
                match (&range, comp_version.as_deref()) {
                    (None, _) => hits.push(found),
                    (Some(r), Some(v)) => match Version::parse(scheme, v) {
                        Ok(v) if contains(r, &v) => hits.push(found),
                        Ok(_) => {}
                        Err(_) => odd.push(found),
                    },
                    (Some(_), None) => odd.push(found),
                }
            }
        }
        if !hits.is_empty() {
            out.releases.push(ReleaseComponents {
                version: version.clone(),
                components: hits,
            });
        }
        if !odd.is_empty() {
            out.unreadable.push(ReleaseComponents {
                version,
                components: odd,
            });
        }
    }
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(range: &str, v: &str) -> bool {
        let r = parse_range(range, Scheme::Pep440).unwrap();
        contains(&r, &Version::parse(Scheme::Pep440, v).unwrap())
    }

    #[test]
    fn comma_ranges_need_every_comparator() {
        assert!(inside(">=2.0,<3.0", "2.10"));
        assert!(inside(">=2.0,<3.0", "2.0"));
        assert!(!inside(">=2.0,<3.0", "3.0"));
        assert!(inside("==2.10", "2.10.0"));
        assert!(!inside("!=2.10", "2.10"));
        assert!(inside("2.10", "2.10"));
    }

    #[test]
    fn vers_ranges_follow_the_specification() {
        // Examples of the vers specification.
        assert!(inside("vers:pypi/>=1.0|<2.0", "1.5"));
        assert!(!inside("vers:pypi/>=1.0|<2.0", "2.0"));
        assert!(!inside("vers:pypi/>=1.0|<2.0", "0.9"));
        // Two intervals and an exclusion.
        let r = "vers:pypi/<1.0|>=2.0|<3.0|!=2.5|>=4.0";
        assert!(inside(r, "0.5"));
        assert!(!inside(r, "1.5"));
        assert!(inside(r, "2.1"));
        assert!(!inside(r, "2.5"));
        assert!(!inside(r, "3.5"));
        assert!(inside(r, "4.2"));
        assert!(inside("vers:pypi/*", "9"));
        assert!(inside("vers:pypi/1.2|3.4", "3.4"));
        assert!(!inside("vers:pypi/1.2|3.4", "3.5"));
    }
}
