//! The feeds configuration: which sources `relkit db update` downloads and from where.
//!
//! A TOML file (`--feeds FILE`, else `$XDG_CONFIG_HOME/relkit/feeds.toml` when it exists,
//! else the built-in defaults: the public feeds). A file lists the sources to update: a
//! section that is absent is not updated; a key that is absent takes the public default.
//! A mirror or an air-gapped copy is another base URL (`http://`, `https://` or `file://`).
//!
//! ```toml
//! # Every key is optional; these are the defaults.
//! [http]
//! timeout_secs = 60         # waiting for an answer's headers (connect: 30 s)
//! body_timeout_secs = 3600  # receiving one whole body
//! max_retries = 5           # on 403 / 429 / 503, on no connection, on an interrupted
//!                           # download (resumed with Range), then that source fails
//! backoff_ms = 6000         # first wait when the server gives no Retry-After; doubles
//! max_wait_secs = 120       # no single wait is longer (Retry-After included)
//!
//! [osv]                     # sources osv-PyPI, osv-Go, …: BASE/ECOSYSTEM/all.zip
//! base = "https://osv-vulnerabilities.storage.googleapis.com"
//! ecosystems = ["PyPI", "Go", "crates.io", "npm", "Maven", "RubyGems", "NuGet", "Packagist"]
//!
//! [nvd]                     # source nvd: the CVE API 2.0
//! url = "https://services.nvd.nist.gov/rest/json/cves/2.0"
//! # since = "2024-01-01T00:00:00Z"  # first run: from here in windows; absent: every CVE
//! results_per_page = 2000   # at most 2000
//! window_days = 120         # at most 120
//! # api_key_file = "/run/secrets/nvd-api-key"   # or env NVD_API_KEY (preferred)
//! rate_window_secs = 30     # NVD allows 5 requests per 30 s, 50 with an API key
//!
//! [rustsec]                 # source rustsec: an archive URL or a local bare git repository
//! archive = "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz"
//! # git = "/srv/mirrors/advisory-db.git"
//!
//! [ghsa]                    # source ghsa
//! archive = "https://github.com/github/advisory-database/archive/refs/heads/main.tar.gz"
//! # git = "/srv/mirrors/advisory-database.git"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The public OSV export bucket.
pub const OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The OSV ecosystems updated by default.
pub const OSV_ECOSYSTEMS: [&str; 8] = [
    "PyPI",
    "Go",
    "crates.io",
    "npm",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
];
/// The NVD CVE API 2.0.
pub const NVD_URL: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
/// RustSec's advisory database, as a GitHub archive.
pub const RUSTSEC_ARCHIVE: &str =
    "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz";
/// The GitHub Advisory Database, as a GitHub archive.
pub const GHSA_ARCHIVE: &str =
    "https://github.com/github/advisory-database/archive/refs/heads/main.tar.gz";

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {source}")]
    Toml {
        /// The file.
        path: String,
        /// The parser's message, with the line.
        #[source]
        source: toml::de::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or `built-in defaults`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// HTTP behaviour shared by every source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Timeout for an answer's headers, in seconds.
    pub timeout_secs: u64,
    /// Timeout for receiving one whole body, in seconds.
    pub body_timeout_secs: u64,
    /// Retries after 403 / 429 / 503, after a connection refused, reset or timed out, and
    /// after an interrupted download, each, before giving up.
    pub max_retries: u32,
    /// First wait without a Retry-After header, in milliseconds; doubled on each retry.
    pub backoff_ms: u64,
    /// Longest single wait, in seconds (a longer Retry-After is cut to this).
    pub max_wait_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout_secs: 60,
            body_timeout_secs: 3600,
            max_retries: 5,
            backoff_ms: 6000,
            max_wait_secs: 120,
        }
    }
}

/// The OSV exports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OsvConfig {
    /// Base URL; each ecosystem's export is `BASE/ECOSYSTEM/all.zip`.
    pub base: String,
    /// Ecosystems, spelled as OSV spells them.
    pub ecosystems: Vec<String>,
}

impl Default for OsvConfig {
    fn default() -> Self {
        OsvConfig {
            base: OSV_BASE.into(),
            ecosystems: OSV_ECOSYSTEMS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The NVD CVE API 2.0.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NvdConfig {
    /// The API endpoint.
    pub url: String,
    /// First run: fetch CVEs modified since this time (RFC 3339) in windows; absent: every
    /// CVE, paged by `startIndex`.
    pub since: Option<String>,
    /// Page size (NVD allows at most 2000).
    pub results_per_page: u32,
    /// Length of one `lastModStartDate`..`lastModEndDate` window in days (at most 120).
    pub window_days: u32,
    /// A file holding the API key (the environment variable `NVD_API_KEY` wins).
    pub api_key_file: Option<PathBuf>,
    /// The rate-limit window in seconds: 5 requests per window without a key, 50 with one.
    pub rate_window_secs: u64,
}

impl Default for NvdConfig {
    fn default() -> Self {
        NvdConfig {
            url: NVD_URL.into(),
            since: None,
            results_per_page: 2000,
            window_days: 120,
            api_key_file: None,
            rate_window_secs: 30,
        }
    }
}

/// A source published as a repository: RustSec or GHSA.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// An archive URL (`.tar.gz` or any archive relkit-archive reads).
    pub archive: Option<String>,
    /// A local bare git repository (a path or `file://` URL); its HEAD tree is read.
    pub git: Option<String>,
}

/// The whole configuration as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    http: HttpConfig,
    osv: Option<OsvConfig>,
    nvd: Option<NvdConfig>,
    rustsec: Option<RepoConfig>,
    ghsa: Option<RepoConfig>,
}

/// Where one source is downloaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// An OSV ecosystem export (`all.zip`).
    Osv {
        /// The export's URL.
        url: String,
    },
    /// The NVD CVE API 2.0.
    Nvd,
    /// An archive of a repository of advisories.
    Archive {
        /// The archive's URL.
        url: String,
    },
    /// A local bare git repository of advisories.
    Git {
        /// The repository's path.
        path: PathBuf,
    },
}

/// One source to update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its name (`osv-PyPI`, `nvd`, `rustsec`, `ghsa`), the key of its status in the DB.
    pub name: String,
    /// Where it comes from.
    pub kind: SourceKind,
}

/// A loaded configuration.
#[derive(Debug, Clone)]
pub struct FeedsConfig {
    /// Where it came from (a path, or `built-in defaults`).
    pub origin: String,
    /// HTTP behaviour.
    pub http: HttpConfig,
    /// NVD settings (used when the `nvd` source is listed).
    pub nvd: NvdConfig,
    /// The sources, in update order.
    pub sources: Vec<Source>,
}

impl FeedsConfig {
    /// The public feeds.
    pub fn defaults() -> FeedsConfig {
        let file = FileConfig {
            http: HttpConfig::default(),
            osv: Some(OsvConfig::default()),
            nvd: Some(NvdConfig::default()),
            rustsec: Some(RepoConfig {
                archive: Some(RUSTSEC_ARCHIVE.into()),
                git: None,
            }),
            ghsa: Some(RepoConfig {
                archive: Some(GHSA_ARCHIVE.into()),
                git: None,
            }),
        };
        build("built-in defaults", file).expect("the defaults are valid")
    }

    /// Parses a configuration file's text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<FeedsConfig, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|source| ConfigError::Toml {
            path: origin.into(),
            source,
        })?;
        build(origin, file)
    }

    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<FeedsConfig, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: origin.clone(),
            source,
        })?;
        FeedsConfig::parse(&origin, &text)
    }

    /// The default file, `$XDG_CONFIG_HOME/relkit/feeds.toml` (or `~/.config/…`), if set.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("relkit").join("feeds.toml"))
    }

    /// Keeps only the sources named in `only` (a name, or a family: `osv` for every
    /// `osv-…`); every name must select something.
    pub fn select(&mut self, only: &[String]) -> Result<(), ConfigError> {
        if only.is_empty() {
            return Ok(());
        }
        let matches = |s: &Source, n: &str| {
            s.name.eq_ignore_ascii_case(n)
                || s.name
                    .strip_prefix(n)
                    .is_some_and(|rest| rest.starts_with('-'))
        };
        for n in only {
            if !self.sources.iter().any(|s| matches(s, n)) {
                let names: Vec<&str> = self.sources.iter().map(|s| s.name.as_str()).collect();
                return Err(ConfigError::Invalid {
                    path: self.origin.clone(),
                    message: format!(
                        "--source {n}: no such source (configured: {})",
                        names.join(", ")
                    ),
                });
            }
        }
        self.sources.retain(|s| only.iter().any(|n| matches(s, n)));
        Ok(())
    }
}

fn build(origin: &str, file: FileConfig) -> Result<FeedsConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        path: origin.into(),
        message,
    };
    let mut sources = Vec::new();
    if let Some(osv) = &file.osv {
        for eco in &osv.ecosystems {
            if eco.is_empty() || eco.contains(['/', '?', '#']) {
                return Err(invalid(format!(
                    "[osv] ecosystems: {eco:?} is not an ecosystem name"
                )));
            }
            sources.push(Source {
                name: format!("osv-{eco}"),
                kind: SourceKind::Osv {
                    url: format!("{}/{eco}/all.zip", osv.base.trim_end_matches('/')),
                },
            });
        }
    }
    let nvd = file.nvd.clone().unwrap_or_default();
    if file.nvd.is_some() {
        if !(1..=2000).contains(&nvd.results_per_page) {
            return Err(invalid("[nvd] results_per_page must be 1..=2000".into()));
        }
        if !(1..=120).contains(&nvd.window_days) {
            return Err(invalid(
                "[nvd] window_days must be 1..=120 (NVD's limit)".into(),
            ));
        }
        if let Some(since) = &nvd.since
            && relkit_vuln::freshness::parse_time(since).is_none()
        {
            return Err(invalid(format!(
                "[nvd] since = {since:?}: give a time like \"2024-01-01T00:00:00Z\""
            )));
        }
        sources.push(Source {
            name: "nvd".into(),
            kind: SourceKind::Nvd,
        });
    }
    for (name, repo) in [("rustsec", &file.rustsec), ("ghsa", &file.ghsa)] {
        let Some(repo) = repo else { continue };
        let kind = match (&repo.git, &repo.archive) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "[{name}]: give `archive` or `git`, not both"
                )));
            }
            (Some(git), None) => SourceKind::Git {
                path: PathBuf::from(git.strip_prefix("file://").unwrap_or(git)),
            },
            (None, Some(url)) => SourceKind::Archive { url: url.clone() },
            (None, None) => SourceKind::Archive {
                url: if name == "rustsec" {
                    RUSTSEC_ARCHIVE.into()
                } else {
                    GHSA_ARCHIVE.into()
                },
            },
        };
        sources.push(Source {
            name: name.into(),
            kind,
        });
    }
    if sources.is_empty() {
        return Err(invalid(
            "no sources: add [osv], [nvd], [rustsec] or [ghsa] sections".into(),
        ));
    }
    Ok(FeedsConfig {
        origin: origin.into(),
        http: file.http,
        nvd,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_public_feeds() {
        let c = FeedsConfig::defaults();
        let names: Vec<&str> = c.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names[0], "osv-PyPI");
        assert!(names.ends_with(&["nvd", "rustsec", "ghsa"]));
        assert_eq!(
            c.sources[2].kind,
            SourceKind::Osv {
                url: "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip".into()
            }
        );
    }

    #[test]
    fn a_file_lists_its_sources_and_select_narrows_them() {
        let mut c = FeedsConfig::parse(
            "feeds.toml",
            "[osv]\nbase = \"file:///srv/osv/\"\necosystems = [\"Go\", \"PyPI\"]\n[rustsec]\ngit = \"/srv/advisory-db.git\"\n",
        )
        .unwrap();
        assert_eq!(c.sources.len(), 3);
        assert_eq!(
            c.sources[0].kind,
            SourceKind::Osv {
                url: "file:///srv/osv/Go/all.zip".into()
            }
        );
        c.select(&["osv".into()]).unwrap();
        assert_eq!(c.sources.len(), 2);
        let e = c.select(&["nvd".into()]).unwrap_err().to_string();
        assert!(e.contains("--source nvd: no such source"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = FeedsConfig::parse("f.toml", "[nvd]\nwindow_days = 200\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml: [nvd] window_days"), "{e}");
        let e = FeedsConfig::parse("f.toml", "[nvd]\nurl = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.toml") && e.contains("line 2"), "{e}");
        let e = FeedsConfig::parse("f.toml", "[npm]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
