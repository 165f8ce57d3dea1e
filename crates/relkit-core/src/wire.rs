//! The release server's wire types: every JSON body `relkit serve` (relkit-serve) sends or
//! receives and relkit-client parses, defined once so that the two sides cannot drift.
//! `docs/openapi.yaml` describes the same bodies (schemas of the same names); relkit-serve's
//! tests check that the two agree.
//!
//! Field order is the JSON order on the wire; `Option` fields are sent as `null`, never
//! omitted, except [`ErrorBody::missing`]. Deserialization is lenient where the client must
//! read an older or a proxied server (`#[serde(default)]`), strict where the server reads a
//! request (`deny_unknown_fields`).

use serde::{Deserialize, Serialize};

/// An error answer: `{"error": code, "message": text}`; a refused publication (422
/// `not_publishable`) adds `missing`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// Stable machine-readable code (`invalid_token`, `immutable`, `not_publishable`, …).
    #[serde(default)]
    pub error: String,
    /// What went wrong and what to do about it.
    #[serde(default)]
    pub message: String,
    /// For a refused publication only: one entry per missing or failing piece, `file: what`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// A project as listed by `GET /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProjectSummary {
    /// Project name.
    pub name: String,
    /// Number of releases (drafts included).
    pub releases: i64,
}

/// A project's verification settings: the body of `PUT /api/v1/projects/{project}` and the
/// answer of `GET` on the same path.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Policy TOML (see `relkit verify --help`), applied at publish.
    #[serde(default)]
    pub policy: Option<String>,
    /// Public key (SPKI PEM or minisign) for signatures, key-based bundles and DSSE.
    #[serde(default)]
    pub verify_key: Option<String>,
    /// Sigstore trusted_root.json text, for keyless bundles.
    #[serde(default)]
    pub trusted_root: Option<String>,
    /// Every file needs an SBOM before the release can be published.
    #[serde(default)]
    pub require_sbom: bool,
    /// Every file needs a verified signature or bundle.
    #[serde(default)]
    pub require_signature: bool,
    /// Every file needs verified provenance.
    #[serde(default)]
    pub require_provenance: bool,
}

/// The body of `POST /api/v1/projects/{project}/releases`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// Version (a name: letters, digits, `._+-~`, starting with a letter or digit).
    pub version: String,
    /// Git tag.
    #[serde(default)]
    pub tag: String,
    /// Git commit.
    #[serde(default)]
    pub commit: String,
}

/// A release as listed (`GET …/releases`) and as created (`POST …/releases`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Release {
    /// Version.
    pub version: String,
    /// Git tag.
    pub tag: String,
    /// Git commit.
    pub commit: String,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Publication time (Unix seconds), null while a draft.
    pub published: Option<i64>,
}

/// A file's attached material (SBOM, signature, bundle, provenance), as shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Attachment name (e.g. `x.tar.gz.spdx.json`).
    pub name: String,
    /// `sbom`, `signature`, `bundle` or `provenance`.
    pub kind: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// `verified` or `warnings`.
    pub status: String,
    /// Download path on the server.
    pub url: String,
    /// What the check proved: the `relkit sbom check` report (with its warnings) for SBOMs,
    /// the `relkit verify` report for signatures, bundles and provenance.
    #[serde(default)]
    pub report: serde_json::Value,
}

/// A file of a release, as shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileInfo {
    /// File name.
    pub name: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Download path on the server.
    pub url: String,
    /// SBOMs, signatures, bundles, provenance, by name.
    pub attachments: Vec<AttachmentInfo>,
}

/// A release with its files (`GET …/releases/{version}`, and the answer of a publication).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReleaseDetail {
    /// Project.
    pub project: String,
    /// The release (its fields are inlined in the JSON object).
    #[serde(flatten)]
    pub release: Release,
    /// Files, by name.
    pub files: Vec<FileInfo>,
}

/// The answer to an upload of a file or of material.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadResult {
    /// Name stored.
    pub name: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// `created`, `unchanged` or `replaced`.
    pub outcome: String,
    /// `verified` / `warnings` for material, empty for files.
    pub status: String,
}

/// One record of the audit log (`GET /api/v1/audit`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Token id (or `cli` for offline administration).
    pub actor: String,
    /// e.g. `file.upload`, `release.publish`.
    pub action: String,
    /// Project.
    pub project: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// File or `file/attachment`.
    pub name: Option<String>,
    /// Digest written.
    pub sha256: Option<String>,
    /// Free text.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_omits_missing_unless_a_publication_was_refused() {
        let e = ErrorBody {
            error: "immutable".into(),
            message: "m".into(),
            missing: vec![],
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"immutable","message":"m"}"#
        );
        let e = ErrorBody {
            missing: vec!["x: no SBOM".into()],
            ..e
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"immutable","message":"m","missing":["x: no SBOM"]}"#
        );
    }

    #[test]
    fn release_detail_inlines_the_release() {
        let d = ReleaseDetail {
            project: "p".into(),
            release: Release {
                version: "1".into(),
                tag: "v1".into(),
                commit: "c".into(),
                created: 5,
                published: None,
            },
            files: vec![],
        };
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(
            text,
            r#"{"project":"p","version":"1","tag":"v1","commit":"c","created":5,"published":null,"files":[]}"#
        );
        assert_eq!(serde_json::from_str::<ReleaseDetail>(&text).unwrap(), d);
    }
}
