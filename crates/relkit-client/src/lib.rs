//! relkit-client: a small blocking client of the relkit release server (`relkit serve`).
//!
//! The main entry point is [`publish_dir`]: it uploads a release directory (e.g. `dist/`) —
//! the artifacts, their SBOMs (`X.spdx.json`, `X.cdx.json`), signatures (`X.sig`,
//! `X.minisig`), Sigstore bundles (`X.sigstore.json`, `X.sigstore`) and provenance
//! (`X.intoto.jsonl`) — and optionally publishes the release. It is idempotent and resumable:
//! it first asks the server what it already has, uploads only what is missing or different,
//! and re-running it after an interruption finishes the job; a different digest for a name of
//! a published release is refused by the server ([`Error::Http`] with status 409).
//!
//! ```no_run
//! let report = relkit_client::publish_dir(&relkit_client::PublishOptions {
//!     server: "http://127.0.0.1:8080".into(),
//!     token: std::fs::read_to_string("upload.token")?.trim().to_string(),
//!     project: "cpython".into(),
//!     version: "3.13.5".into(),
//!     tag: "v3.13.5".into(),
//!     commit: "6cb20a219a860eaf687b2d968b41c480c7461909".into(),
//!     dir: "dist".into(),
//!     publish: true,
//! })?;
//! println!("{} uploaded, {} already there", report.uploaded(), report.unchanged());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The request and answer bodies are `relkit_core::wire`'s types, the ones the server uses.
//!
//! Plain HTTP only (no TLS in this build): run the server behind a TLS-terminating proxy on
//! the same host, or on loopback. It must not: print (the CLI does), put the token in an
//! error message, decide what a release needs (the server verifies and refuses), or define
//! its own copy of a wire type.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use relkit_core::wire::{AttachmentInfo, FileInfo, Release, ReleaseDetail, UploadResult};
use relkit_core::wire::{ErrorBody, NewRelease};

/// Errors of the client. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status.
    #[error("{method} {url}: HTTP {status} {code}: {message}")]
    Http {
        /// HTTP method.
        method: &'static str,
        /// Request URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The server's error code (`invalid_token`, `immutable`, …).
        code: String,
        /// The server's explanation.
        message: String,
        /// For a refused publication: what is missing, one entry per problem.
        missing: Vec<String>,
    },
    /// The connection failed, or the answer could not be read.
    #[error("{method} {url}: request failed")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// Request URL.
        url: String,
        /// What went wrong (an HTTP or I/O error).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A local file could not be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The server's answer was not the expected JSON.
    #[error("{url}: unexpected response")]
    Json {
        /// Request URL.
        url: String,
        /// Why it does not parse.
        source: serde_json::Error,
    },
    /// The server's answer contradicts what the client just did.
    #[error("{url}: unexpected response: {message}")]
    Protocol {
        /// Request URL.
        url: String,
        /// What was wrong.
        message: String,
    },
}

impl Error {
    fn transport(
        method: &'static str,
        url: &str,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error {
        move |source| Error::Transport {
            method,
            url: url.to_string(),
            source,
        }
    }
}

/// Result of client operations.
pub type Result<T> = std::result::Result<T, Error>;

/// A connection to one server with one token.
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish()
    }
}

/// Everything but RFC 3986 unreserved characters is escaped in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`), with an optional upload token.
    pub fn new(base: &str, token: Option<String>) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build();
        Client {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn release_path(project: &str, version: &str) -> String {
        format!(
            "/api/v1/projects/{}/releases/{}",
            seg(project),
            seg(version)
        )
    }

    fn finish<T: DeserializeOwned>(
        method: &'static str,
        url: &str,
        r: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut resp = r.map_err(|e| Error::transport(method, url)(e.into()))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| Error::transport(method, url)(e.into()))?;
        if status >= 400 {
            // A proxy's error page is not JSON: its first 500 characters are the message.
            let b: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|_| ErrorBody {
                message: text.chars().take(500).collect(),
                ..ErrorBody::default()
            });
            return Err(Error::Http {
                method,
                url: url.to_string(),
                status,
                code: b.error,
                message: b.message,
                missing: b.missing,
            });
        }
        serde_json::from_str(&text).map_err(|source| Error::Json {
            url: url.to_string(),
            source,
        })
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.as_deref().unwrap_or(""))
    }

    /// Creates a release (200 when an identical one exists, [`Error::Http`] 409 when it
    /// exists with another tag or commit).
    pub fn create_release(
        &self,
        project: &str,
        version: &str,
        tag: &str,
        commit: &str,
    ) -> Result<Release> {
        let url = self.url(&format!("/api/v1/projects/{}/releases", seg(project)));
        let body = NewRelease {
            version: version.to_string(),
            tag: tag.to_string(),
            commit: commit.to_string(),
        };
        let r = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer())
            .send_json(&body);
        Self::finish("POST", &url, r)
    }

    /// A release with its files, or None when it does not exist.
    pub fn release(&self, project: &str, version: &str) -> Result<Option<ReleaseDetail>> {
        let url = self.url(&Self::release_path(project, version));
        match Self::finish("GET", &url, self.agent.get(&url).call()) {
            Ok(d) => Ok(Some(d)),
            Err(Error::Http { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Uploads a file, streaming it, with its SHA-256 declared up front.
    pub fn upload_file(
        &self,
        project: &str,
        version: &str,
        name: &str,
        path: &Path,
        sha256: &str,
    ) -> Result<UploadResult> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let url = self.url(&format!(
            "{}/files/{}",
            Self::release_path(project, version),
            seg(name)
        ));
        let r = self
            .agent
            .put(&url)
            .header("Authorization", &self.bearer())
            .header("X-Content-SHA256", sha256)
            .header("Content-Length", &len.to_string())
            .header("Content-Type", "application/octet-stream")
            .send(ureq::SendBody::from_reader(&mut f));
        Self::finish("PUT", &url, r)
    }

    /// Attaches an SBOM / signature / bundle / provenance (`kind`) named `name` to `file`.
    pub fn upload_material(
        &self,
        project: &str,
        version: &str,
        file: &str,
        kind: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<UploadResult> {
        let url = self.url(&format!(
            "{}/files/{}/{}/{}",
            Self::release_path(project, version),
            seg(file),
            seg(kind),
            seg(name)
        ));
        let r = self
            .agent
            .put(&url)
            .header("Authorization", &self.bearer())
            .header("X-Content-SHA256", &hex::encode(Sha256::digest(bytes)))
            .send(bytes);
        Self::finish("PUT", &url, r)
    }

    /// Publishes a release; a refusal is [`Error::Http`] 422 with `missing` filled in.
    pub fn publish(&self, project: &str, version: &str) -> Result<ReleaseDetail> {
        let url = self.url(&format!("{}/publish", Self::release_path(project, version)));
        let r = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer())
            .send_empty();
        Self::finish("POST", &url, r)
    }

    /// Downloads a server path (e.g. a file's `url`) and returns its bytes and SHA-256 hex.
    pub fn download(&self, path: &str) -> Result<(Vec<u8>, String)> {
        let url = self.url(path);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| Error::transport("GET", &url)(e.into()))?;
        if resp.status().as_u16() >= 400 {
            return Self::finish("GET", &url, Ok(resp));
        }
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .map_err(|e| Error::transport("GET", &url)(e.into()))?;
        let sha = hex::encode(Sha256::digest(&bytes));
        Ok((bytes, sha))
    }
}

/// What [`publish_dir`] should do.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Server base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// Upload token of the project (`rk_…`).
    pub token: String,
    /// Project name.
    pub project: String,
    /// Release version.
    pub version: String,
    /// Git tag of the release.
    pub tag: String,
    /// Git commit of the release.
    pub commit: String,
    /// The release directory (not recursed into).
    pub dir: PathBuf,
    /// Publish the release after uploading (it becomes immutable).
    pub publish: bool,
}

/// One uploaded (or already present) item.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    /// File name in the directory.
    pub name: String,
    /// `file`, `sbom`, `signature`, `bundle` or `provenance`.
    pub kind: String,
    /// For material: the file it belongs to.
    pub attached_to: Option<String>,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// `created`, `replaced` or `unchanged` (already on the server, not sent again).
    pub outcome: String,
    /// For material: the server's verification status (`verified`, `warnings`).
    pub status: String,
}

/// What [`publish_dir`] did (stable JSON for `relkit publish --format json`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublishReport {
    /// Server base URL.
    pub server: String,
    /// Project.
    pub project: String,
    /// Version.
    pub version: String,
    /// Every file and piece of material, in upload order.
    pub items: Vec<Item>,
    /// Directory entries not uploaded, with the reason.
    pub ignored: Vec<(String, String)>,
    /// Whether the release is published now.
    pub published: bool,
}

impl PublishReport {
    /// Number of items sent (created or replaced).
    pub fn uploaded(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.outcome != "unchanged")
            .count()
    }

    /// Number of items the server already had.
    pub fn unchanged(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.outcome == "unchanged")
            .count()
    }
}

/// Material suffixes and their kinds, longest first.
const MATERIAL: &[(&str, &str)] = &[
    (".intoto.jsonl", "provenance"),
    (".sigstore.json", "bundle"),
    (".spdx.json", "sbom"),
    (".cdx.json", "sbom"),
    (".sigstore", "bundle"),
    (".minisig", "signature"),
    (".sig", "signature"),
];

/// Names the server generates itself.
const GENERATED: &[&str] = &["SHA256SUMS", "SHA512SUMS"];

/// Classifies a directory entry: Some((kind, artifact)) for material, None for an artifact.
pub fn classify(name: &str) -> Option<(&'static str, &str)> {
    MATERIAL
        .iter()
        .find_map(|(suffix, kind)| name.strip_suffix(suffix).map(|base| (*kind, base)))
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Uploads a release directory: creates the release (or finds it), uploads every artifact
/// the server does not already have with the same digest, then every SBOM / signature /
/// bundle / provenance file next to its artifact, then publishes when asked.
pub fn publish_dir(opts: &PublishOptions) -> Result<PublishReport> {
    let client = Client::new(&opts.server, Some(opts.token.clone()));
    let (names, mut ignored) = list_dir(&opts.dir)?;
    let (material, artifacts): (Vec<&String>, Vec<&String>) =
        names.iter().partition(|n| classify(n).is_some());
    client.create_release(&opts.project, &opts.version, &opts.tag, &opts.commit)?;
    let remote = client
        .release(&opts.project, &opts.version)?
        .ok_or_else(|| Error::Protocol {
            url: opts.server.clone(),
            message: "the release just created is not listed".into(),
        })?;
    let mut items = Vec::new();
    for name in &artifacts {
        items.push(upload_artifact(&client, opts, &remote, name)?);
    }
    for name in &material {
        let (kind, base) = classify(name).expect("partitioned as material");
        if !artifacts.iter().any(|a| a.as_str() == base) {
            ignored.push((
                (*name).clone(),
                format!("{kind} for {base}, which is not in the directory"),
            ));
            continue;
        }
        items.push(upload_material(&client, opts, &remote, name)?);
    }
    let mut published = remote.release.published.is_some();
    if opts.publish && !published {
        published = client
            .publish(&opts.project, &opts.version)?
            .release
            .published
            .is_some();
    }
    ignored.sort();
    Ok(PublishReport {
        server: opts.server.clone(),
        project: opts.project.clone(),
        version: opts.version.clone(),
        items,
        ignored,
        published,
    })
}

/// Directory entries left out of an upload: (name, why).
type Ignored = Vec<(String, String)>;

/// The names to upload in a release directory, sorted, and the entries left out.
fn list_dir(dir: &Path) -> Result<(Vec<String>, Ignored)> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    let mut ignored = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.path().is_file() {
            ignored.push((
                name,
                "not a regular file (directories are not recursed)".into(),
            ));
        } else if GENERATED.contains(&name.as_str())
            || classify(&name).is_some_and(|(_, b)| GENERATED.contains(&b))
        {
            ignored.push((name, "the server generates SHA256SUMS itself".into()));
        } else {
            names.push(name);
        }
    }
    names.sort();
    Ok((names, ignored))
}

/// Uploads an artifact unless the server has it with the same digest.
fn upload_artifact(
    client: &Client,
    opts: &PublishOptions,
    remote: &ReleaseDetail,
    name: &str,
) -> Result<Item> {
    let path = opts.dir.join(name);
    let (sha, size) = sha256_file(&path)?;
    let have = remote.files.iter().find(|f| f.name == name);
    let outcome = if have.is_some_and(|f| f.sha256 == sha) {
        "unchanged".to_string()
    } else {
        client
            .upload_file(&opts.project, &opts.version, name, &path, &sha)?
            .outcome
    };
    Ok(Item {
        name: name.to_string(),
        kind: "file".into(),
        attached_to: None,
        sha256: sha,
        size,
        outcome,
        status: String::new(),
    })
}

/// Attaches an SBOM / signature / bundle / provenance file to its artifact unless the
/// server has it with the same digest.
fn upload_material(
    client: &Client,
    opts: &PublishOptions,
    remote: &ReleaseDetail,
    name: &str,
) -> Result<Item> {
    let (kind, base) = classify(name).expect("material");
    let path = opts.dir.join(name);
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let have = remote
        .files
        .iter()
        .find(|f| f.name == base)
        .and_then(|f| f.attachments.iter().find(|a| a.name == name));
    let (outcome, status) = match have {
        Some(a) if a.sha256 == sha => ("unchanged".to_string(), a.status.clone()),
        _ => {
            let u =
                client.upload_material(&opts.project, &opts.version, base, kind, name, &bytes)?;
            (u.outcome, u.status)
        }
    };
    Ok(Item {
        name: name.to_string(),
        kind: kind.into(),
        attached_to: Some(base.to_string()),
        sha256: sha,
        size: bytes.len() as u64,
        outcome,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_material_by_longest_suffix() {
        assert_eq!(classify("x.tar.gz.spdx.json"), Some(("sbom", "x.tar.gz")));
        assert_eq!(classify("x.whl.sigstore.json"), Some(("bundle", "x.whl")));
        assert_eq!(
            classify("x.tgz.intoto.jsonl"),
            Some(("provenance", "x.tgz"))
        );
        assert_eq!(classify("x.tgz.minisig"), Some(("signature", "x.tgz")));
        assert_eq!(classify("x.tgz.sig"), Some(("signature", "x.tgz")));
        assert_eq!(classify("x.tgz"), None);
        assert_eq!(classify("notes.json"), None);
    }
}
