//! `relkit db update`: downloads the vulnerability feeds named in a configuration (OSV's
//! per-ecosystem `all.zip` exports, the NVD CVE API 2.0, RustSec and the GitHub Advisory
//! Database as archives or local git repositories) and imports them into relkit's offline DB.
//!
//! * Conditional: OSV and archives with ETag / If-Modified-Since (304 → nothing imported),
//!   git by commit id, NVD incrementally by `lastModStartDate`/`lastModEndDate` windows.
//! * Verified: complete (the full length, the archive read to its end), every member a
//!   readable document (valid JSON / YAML, UTF-8 markdown), at least one record. A download
//!   or a git tree is verified in the import pass itself (NVD pages as they are fetched), and
//!   each source is imported in **one transaction of its own** together with its status
//!   (last successful update, newest record) and its validators: a failed check or import
//!   rolls that transaction back, so a failure leaves that source's previous records and state,
//!   and a re-run does not download again the sources that were updated (NVD: each window is
//!   its own step, so a re-run continues from the last completed window).
//! * Resumable: a download interrupted mid-body (dropped, reset, timed out, cut short) is
//!   continued with `Range` / `If-Range` after a backoff; when the retries run out the bytes
//!   stay next to the DB with their validators and the next run continues them (a partial
//!   whose validators no longer match is discarded; a partial file is never imported).
//! * Polite: NVD's rate limit, bounded retries with backoff on 403 / 429 / 503 and on
//!   connections refused or reset.
//!
//! The crate never prints: progress goes to a callback ([`Event`]); an NVD API key never
//! appears in a message, an error or `Debug` output. It holds no archive or compression
//! decoder: archives are read by relkit-archive, git by gix (no `git` process, no network
//! transport).

pub mod config;
pub mod error;
pub mod git;
pub mod http;
pub mod nvd;
mod update;
pub mod verify;

pub use config::{FeedsConfig, Source, SourceKind};
pub use error::{ErrorKind, UpdateError};
pub use update::{Outcome, SourceReport, UpdateReport, update};

/// What the update is doing, for a progress display.
#[derive(Debug, Clone)]
pub enum Event {
    /// A source's update begins.
    Source {
        /// Its name.
        name: String,
        /// Its URL or path, credentials removed.
        url: String,
    },
    /// A download begins; `total` from Content-Length.
    Download {
        /// The expected size.
        total: Option<u64>,
    },
    /// Bytes of the current download received so far.
    Bytes(u64),
    /// The current download is complete.
    Downloaded,
    /// An NVD page was received.
    Page {
        /// Its `startIndex`.
        start_index: u64,
        /// `totalResults`.
        total: u64,
    },
    /// Waiting before the next request.
    Waiting {
        /// For how long.
        seconds: f64,
        /// Why (rate limit, HTTP 429…).
        why: &'static str,
    },
    /// Verified; importing.
    Importing,
    /// Records imported so far in this source.
    Records(u64),
}

/// The progress callback.
pub type Progress<'a> = dyn Fn(Event) + 'a;
