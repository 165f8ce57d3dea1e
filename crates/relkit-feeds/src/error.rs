//! The update's errors: every one names the source, the URL (without credentials) and what
//! happened.

use std::fmt;

/// Why one source could not be updated. Its records in the DB are those of its previous
/// update.
#[derive(Debug)]
pub struct UpdateError {
    /// The source (`osv-PyPI`, `nvd`, `rustsec`, `ghsa`).
    pub source_name: String,
    /// The URL or path being read, credentials removed.
    pub url: String,
    /// What happened.
    pub kind: ErrorKind,
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "updating source {} from {}: {}",
            self.source_name, self.url, self.kind
        )
    }
}

impl std::error::Error for UpdateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The request could not be made or its answer not received.
    #[error("the request failed")]
    Request(#[source] Box<ureq::Error>),
    /// No answer: the connection was refused, reset or timed out on every try.
    #[error(
        "no answer after {retries} retries with backoff (connection refused, reset or timed out)"
    )]
    Unreachable {
        /// Retries made.
        retries: u32,
        /// The last error.
        #[source]
        source: Box<ureq::Error>,
    },
    /// A download kept being interrupted.
    #[error(
        "the download was interrupted {attempts} times; {}",
        if *.kept > 0 {
            format!("{} bytes{} are kept and the next update resumes from there", .kept, of_total(*.total))
        } else {
            "nothing could be kept to resume from".to_string()
        }
    )]
    Interrupted {
        /// Requests made.
        attempts: u32,
        /// Bytes kept for the next run (0: none).
        kept: u64,
        /// The full length, when known.
        total: Option<u64>,
        /// The last interruption.
        #[source]
        source: Box<ErrorKind>,
    },
    /// A partial answer (206) that does not continue the bytes already here.
    #[error("{0}")]
    Range(String),
    /// The connection ended before the body was complete.
    #[error("the connection dropped after {bytes} bytes{}", of(*.expected))]
    Dropped {
        /// Bytes received.
        bytes: u64,
        /// Content-Length, when sent.
        expected: Option<u64>,
        /// The read error.
        #[source]
        source: std::io::Error,
    },
    /// The body is shorter or longer than its Content-Length.
    #[error("the download has {bytes} bytes but Content-Length said {expected}")]
    WrongLength {
        /// Bytes received.
        bytes: u64,
        /// Content-Length.
        expected: u64,
    },
    /// The server answered with an error status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The server kept refusing (rate limit or outage).
    #[error(
        "HTTP {status} after {retries} retries with backoff; gave up (the server's rate limit or an outage: try again later{})",
        if *.nvd { ", or set NVD_API_KEY for NVD's higher limit" } else { "" }
    )]
    GaveUp {
        /// The last status.
        status: u16,
        /// Retries made.
        retries: u32,
        /// Whether this is NVD (where an API key raises the limit).
        nvd: bool,
    },
    /// The download is not a complete archive (truncated zip, corrupt tar.gz).
    #[error("the download is not a complete archive")]
    Archive(#[source] Box<relkit_archive::read::Error>),
    /// A member of the download is not valid JSON.
    #[error("invalid JSON in {member}")]
    Json {
        /// The member (or page) name.
        member: String,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A member of the download cannot be read at all (found by the import, which rolled
    /// back).
    #[error("{member} cannot be read ({at}): {message}")]
    Unreadable {
        /// The member.
        member: String,
        /// Where in it.
        at: String,
        /// The parser's message.
        message: String,
    },
    /// A member of the download is not UTF-8 text.
    #[error("{member} is not UTF-8 text")]
    NotText {
        /// The member.
        member: String,
    },
    /// The download holds no records.
    #[error("the download holds no advisories (an empty or wrong export)")]
    Empty,
    /// An NVD page does not fit the paging.
    #[error("{0}")]
    Paging(String),
    /// A local git repository could not be read.
    #[error("{0}")]
    Git(String),
    /// A local file could not be read or written.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The verified download could not be imported.
    #[error("the import failed; the DB keeps this source's previous records")]
    Db(#[source] Box<relkit_vuln::DbError>),
}

fn of_total(total: Option<u64>) -> String {
    total.map(|n| format!(" of {n}")).unwrap_or_default()
}

fn of(expected: Option<u64>) -> String {
    expected
        .map(|n| format!(" of {n} (Content-Length)"))
        .unwrap_or_default()
}

/// A URL fit for messages: any `user:password@` removed.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_are_removed() {
        assert_eq!(
            super::redact("https://u:secret@mirror.example/osv/all.zip"),
            "https://mirror.example/osv/all.zip"
        );
        assert_eq!(
            super::redact("http://127.0.0.1:8/a?x=u@v"),
            "http://127.0.0.1:8/a?x=u@v"
        );
    }
}
