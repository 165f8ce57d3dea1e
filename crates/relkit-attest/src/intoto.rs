//! in-toto Statement v1 with SLSA provenance v1 and SBOM predicates, filled from GitHub
//! Actions environment variables or explicit values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Error;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Predicate type of SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// Build type relkit records for GitHub Actions builds.
pub const GITHUB_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// Predicate type for an SPDX SBOM.
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
/// Predicate type for a CycloneDX SBOM.
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";

/// An in-toto resource descriptor used as a subject (name + digests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Artifact name (file name).
    #[serde(default)]
    pub name: String,
    /// Digests by algorithm (`sha256` → hex).
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// A subject with one SHA-256 digest.
    pub fn sha256(name: &str, digest: &[u8; 32]) -> Self {
        Subject {
            name: name.to_string(),
            digest: BTreeMap::from([("sha256".to_string(), hex::encode(digest))]),
        }
    }
}

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// The artifacts the statement is about.
    pub subject: Vec<Subject>,
    /// Predicate type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate.
    pub predicate: Value,
}

impl Statement {
    /// Parses a statement from JSON, checking `_type`.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let st: Statement = serde_json::from_slice(bytes)
            .map_err(|e| Error::format_caused("in-toto statement", e))?;
        if st.type_ != STATEMENT_TYPE && st.type_ != "https://in-toto.io/Statement/v0.1" {
            return Err(Error::Format(format!(
                "in-toto statement: $._type is {:?}, expected {STATEMENT_TYPE:?}",
                st.type_
            )));
        }
        Ok(st)
    }
}

/// Where and how the artifacts were built (the inputs of a SLSA provenance predicate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// Source repository URL, e.g. `https://github.com/python/cpython`.
    pub repository: String,
    /// Git ref, e.g. `refs/tags/v3.13.5`.
    pub git_ref: String,
    /// Commit SHA-1 the build ran on.
    pub commit: String,
    /// Workflow path inside the repository, e.g. `.github/workflows/build-release.yml`.
    pub workflow_path: String,
    /// Builder id URI (for GitHub: the workflow ref URL).
    pub builder_id: String,
    /// Invocation id (for GitHub: the run URL with attempt).
    pub invocation_id: String,
    /// RFC 3339 start time.
    pub started_on: String,
    /// RFC 3339 finish time.
    pub finished_on: String,
    /// Extra internal parameters (e.g. runner environment), recorded verbatim.
    pub internal: BTreeMap<String, String>,
}

impl BuildInfo {
    /// Fills what GitHub Actions provides from an environment lookup; returns `None` outside
    /// Actions (no `GITHUB_ACTIONS=true`).
    pub fn from_github_env(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        if get("GITHUB_ACTIONS").as_deref() != Some("true") {
            return None;
        }
        let server = get("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
        let repo = get("GITHUB_REPOSITORY").unwrap_or_default();
        let workflow_ref = get("GITHUB_WORKFLOW_REF").unwrap_or_default();
        // GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/x.yml@refs/heads/main".
        let workflow_path = workflow_ref
            .strip_prefix(&format!("{repo}/"))
            .and_then(|s| s.split('@').next())
            .unwrap_or_default()
            .to_string();
        let run_id = get("GITHUB_RUN_ID").unwrap_or_default();
        let attempt = get("GITHUB_RUN_ATTEMPT").unwrap_or_else(|| "1".into());
        let mut internal = BTreeMap::new();
        for (k, name) in [
            ("GITHUB_EVENT_NAME", "github_event_name"),
            ("GITHUB_REPOSITORY_ID", "github_repository_id"),
            ("GITHUB_REPOSITORY_OWNER_ID", "github_repository_owner_id"),
            ("RUNNER_ENVIRONMENT", "runner_environment"),
        ] {
            if let Some(v) = get(k) {
                internal.insert(name.to_string(), v);
            }
        }
        Some(BuildInfo {
            repository: format!("{server}/{repo}"),
            git_ref: get("GITHUB_REF").unwrap_or_default(),
            commit: get("GITHUB_SHA").unwrap_or_default(),
            workflow_path,
            builder_id: format!("{server}/{workflow_ref}"),
            invocation_id: format!("{server}/{repo}/actions/runs/{run_id}/attempts/{attempt}"),
            started_on: String::new(),
            finished_on: String::new(),
            internal,
        })
    }

    /// The SLSA provenance v1 predicate for this build.
    pub fn provenance(&self) -> Value {
        let mut metadata = serde_json::Map::new();
        if !self.invocation_id.is_empty() {
            metadata.insert("invocationId".into(), json!(self.invocation_id));
        }
        if !self.started_on.is_empty() {
            metadata.insert("startedOn".into(), json!(self.started_on));
        }
        if !self.finished_on.is_empty() {
            metadata.insert("finishedOn".into(), json!(self.finished_on));
        }
        json!({
            "buildDefinition": {
                "buildType": GITHUB_BUILD_TYPE,
                "externalParameters": {
                    "workflow": {
                        "ref": self.git_ref,
                        "repository": self.repository,
                        "path": self.workflow_path,
                    }
                },
                "internalParameters": self.internal,
                "resolvedDependencies": [{
                    "uri": format!("git+{}@{}", self.repository, self.git_ref),
                    "digest": { "gitCommit": self.commit },
                }],
            },
            "runDetails": {
                "builder": { "id": self.builder_id },
                "metadata": metadata,
            }
        })
    }
}

/// The current UTC time in RFC 3339 with whole seconds (for `finishedOn`).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time always formats as RFC 3339")
}

/// Checks a value is an RFC 3339 time.
pub fn check_rfc3339(what: &str, v: &str) -> Result<(), Error> {
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|_| ())
        .map_err(|_| {
            Error::Format(format!(
                "{what} {v:?} is not an RFC 3339 time such as 2025-06-11T15:04:05Z"
            ))
        })
}

/// A statement with SLSA provenance v1 for the given subjects.
pub fn provenance_statement(subjects: Vec<Subject>, build: &BuildInfo) -> Statement {
    Statement {
        type_: STATEMENT_TYPE.into(),
        subject: subjects,
        predicate_type: SLSA_PROVENANCE_V1.into(),
        predicate: build.provenance(),
    }
}

/// A statement binding an SBOM document (SPDX or CycloneDX JSON) to its subjects; the
/// predicate type is chosen from the document's content.
pub fn sbom_statement(subjects: Vec<Subject>, sbom: Value) -> Result<Statement, Error> {
    let predicate_type = if sbom.get("spdxVersion").is_some() {
        SPDX_PREDICATE
    } else if sbom.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        CYCLONEDX_PREDICATE
    } else {
        return Err(Error::Format(
            "SBOM: neither SPDX ($.spdxVersion) nor CycloneDX ($.bomFormat = \"CycloneDX\")".into(),
        ));
    };
    Ok(Statement {
        type_: STATEMENT_TYPE.into(),
        subject: subjects,
        predicate_type: predicate_type.into(),
        predicate: sbom,
    })
}

/// The facts a SLSA provenance v1 predicate states, extracted for policy checks and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProvenanceFacts {
    /// `buildDefinition.buildType`.
    pub build_type: String,
    /// `externalParameters.workflow.repository` (or the GitHub buildType's equivalent).
    pub repository: String,
    /// `externalParameters.workflow.ref`.
    pub git_ref: String,
    /// `externalParameters.workflow.path`.
    pub workflow_path: String,
    /// Commit digest of the first resolved dependency with a git commit / sha1.
    pub commit: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: String,
}

/// Reads the provenance facts from a SLSA v1 predicate.
pub fn provenance_facts(predicate: &Value) -> ProvenanceFacts {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let bd = &predicate["buildDefinition"];
    let wf = &bd["externalParameters"]["workflow"];
    let commit = bd["resolvedDependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| {
            d["digest"]["gitCommit"]
                .as_str()
                .or_else(|| d["digest"]["sha1"].as_str())
                .map(str::to_string)
        })
        .unwrap_or_default();
    ProvenanceFacts {
        build_type: s(&bd["buildType"]),
        repository: s(&wf["repository"]),
        git_ref: s(&wf["ref"]),
        workflow_path: s(&wf["path"]),
        commit,
        builder_id: s(&predicate["runDetails"]["builder"]["id"]),
        invocation_id: s(&predicate["runDetails"]["metadata"]["invocationId"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_env_fills_provenance() {
        let env = BTreeMap::from([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "python/release-tools"),
            ("GITHUB_REF", "refs/tags/v3.14.0"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            (
                "GITHUB_WORKFLOW_REF",
                "python/release-tools/.github/workflows/build-release.yml@refs/tags/v3.14.0",
            ),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
        ]);
        let b = BuildInfo::from_github_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
        let facts = provenance_facts(&b.provenance());
        assert_eq!(facts.repository, "https://github.com/python/release-tools");
        assert_eq!(facts.workflow_path, ".github/workflows/build-release.yml");
        assert_eq!(facts.commit, "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(
            facts.builder_id,
            "https://github.com/python/release-tools/.github/workflows/build-release.yml@refs/tags/v3.14.0"
        );
        assert_eq!(
            facts.invocation_id,
            "https://github.com/python/release-tools/actions/runs/42/attempts/2"
        );
        assert!(BuildInfo::from_github_env(|_| None).is_none());
    }

    #[test]
    fn reads_the_slsa_spec_example() {
        let text = include_str!(
            "../tests/fixtures/slsa/github-actions-workflow-v1-example.statement.json"
        );
        let v: Value = serde_json::from_str(text).unwrap();
        let f = provenance_facts(&v["predicate"]);
        assert_eq!(f.repository, "https://github.com/octocat/hello-world");
        assert_eq!(f.workflow_path, ".github/workflow/release.yml");
        assert_eq!(f.commit, "c27d339ee6075c1f744c5d4b200f7901aad2c369");
    }
}
