//! Version ordering per ecosystem: PEP 440 (via `pep440_rs`), SemVer (via `semver`), Go
//! module versions (SemVer with a `v` prefix, pseudo-versions, `+incompatible`), Maven,
//! Debian dpkg, RubyGems, and a generic dotted comparator also used for NVD CPE versions —
//! and the one answer to "do these two strings name the same release?" ([`same_release`],
//! [`same_in`]) that `sbom check`, `sbom verify`, `sbom generate`'s binary rules, `cpe check`
//! and `scan` all use, so that they cannot disagree.
//!
//! Maven, dpkg, RubyGems and the generic order are written here: no maintained crate
//! implements them exactly (the dpkg and RubyGems algorithms are short and specified by
//! their reference implementations, which these follow).

use std::cmp::Ordering;

/// Which ordering rules a version string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Python PEP 440.
    Pep440,
    /// Semantic Versioning 2.0 (crates.io, npm, OSV `SEMVER` ranges).
    Semver,
    /// Go module versions: SemVer with an optional `v` prefix.
    Go,
    /// Maven ComparableVersion.
    Maven,
    /// Debian / Ubuntu dpkg versions.
    Dpkg,
    /// RubyGems `Gem::Version`.
    Gem,
    /// Dotted numbers with letter suffixes (`1.1.1w`, `3.45.3.0`, `2.0rc1`); also NVD.
    Generic,
}

impl Scheme {
    /// The ordering an OSV ecosystem uses (the part before any `:` suffix).
    pub fn for_ecosystem(ecosystem: &str) -> Scheme {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        match base {
            "PyPI" => Scheme::Pep440,
            "crates.io" | "npm" | "Hex" | "Pub" | "SwiftURL" => Scheme::Semver,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "RubyGems" => Scheme::Gem,
            _ => Scheme::Generic,
        }
    }
}

/// A version string that could not be read under a scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{version:?} is not a valid {scheme:?} version: {reason}")]
pub struct VersionError {
    /// The text.
    pub version: String,
    /// The scheme it was read under.
    pub scheme: Scheme,
    /// Why it was rejected.
    pub reason: String,
}

/// A parsed version that can be ordered against others of the same scheme.
#[derive(Debug, Clone)]
pub enum Version {
    /// PEP 440.
    Pep440(pep440_rs::Version),
    /// SemVer or Go (build metadata cleared: it has no precedence).
    Semver(semver::Version),
    /// Maven items.
    Maven(Vec<MavenItem>),
    /// dpkg epoch, upstream, revision.
    Dpkg(u64, String, String),
    /// RubyGems segments.
    Gem(Vec<Seg>),
    /// Generic tokens.
    Generic(Vec<Seg>),
}

/// One segment of a RubyGems or generic version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A number.
    Num(u128),
    /// A pre-release word (`alpha`, `rc`, …): sorts before the release.
    Pre(String),
    /// A post-release letter suffix (`1.1.1w`): sorts after the release.
    Post(String),
}

/// One item of a Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MavenItem {
    /// Numeric item.
    Num(u128),
    /// Qualifier with its rank (`alpha` … `sp`) or an unknown qualifier string.
    Qual(i32, String),
    /// Start of a `-` sub-list.
    Sub,
}

impl Version {
    /// Parses `text` under `scheme`.
    pub fn parse(scheme: Scheme, text: &str) -> Result<Version, VersionError> {
        let err = |reason: String| VersionError {
            version: text.to_string(),
            scheme,
            reason,
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(err("empty".into()));
        }
        match scheme {
            Scheme::Pep440 => t
                .parse::<pep440_rs::Version>()
                .map(Version::Pep440)
                .map_err(|e| err(e.to_string())),
            Scheme::Semver | Scheme::Go => {
                let s = if scheme == Scheme::Go {
                    t.strip_prefix('v').unwrap_or(t)
                } else {
                    t
                };
                parse_semver_lenient(s)
                    .map(Version::Semver)
                    .ok_or_else(|| err("not MAJOR.MINOR.PATCH[-pre][+build]".into()))
            }
            Scheme::Maven => Ok(Version::Maven(maven_items(t))),
            Scheme::Dpkg => parse_dpkg(t).map_err(err),
            Scheme::Gem => {
                if !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                {
                    return Err(err("only letters, digits, '.' and '-' are allowed".into()));
                }
                Ok(Version::Gem(gem_segments(t)))
            }
            Scheme::Generic => generic_tokens(t).map(Version::Generic).map_err(err),
        }
    }

    /// Compares two versions; `None` when they are of different schemes.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => maven_cmp(a, b),
            (Version::Dpkg(e1, u1, r1), Version::Dpkg(e2, u2, r2)) => e1
                .cmp(e2)
                .then_with(|| dpkg_part_cmp(u1, u2))
                .then_with(|| dpkg_part_cmp(r1, r2)),
            (Version::Gem(a), Version::Gem(b)) => seg_cmp(a, b),
            (Version::Generic(a), Version::Generic(b)) => seg_cmp(a, b),
            _ => return None,
        })
    }
}

/// Compares two version strings under a scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    let va = Version::parse(scheme, a)?;
    let vb = Version::parse(scheme, b)?;
    Ok(va.compare(&vb).unwrap_or(Ordering::Equal))
}

/// Whether two version strings name the same release, when nothing says which scheme they
/// follow (a package version against its CPE or PURL version, a declared version against the
/// one a binary embeds):
/// - equal ignoring ASCII case and surrounding blanks;
/// - a leading `v` before a digit is not part of the version (`v1.2` = `1.2`);
/// - separators do not matter and missing trailing zero components count as zero
///   (`3.49.1.0` = `3.49.1`, `3.13.0rc1` = `3.13.0-rc1` = `3.13.0.rc1`), by the generic
///   order of this module;
/// - a letter suffix is part of the release (`1.0.2zf` ≠ `1.0.2`), and so is a Debian epoch
///   (`2:1.2.3-4` ≠ `1.2.3-4`);
/// - a git commit matches its abbreviation (at least 7 hex digits, one side a full 40-digit
///   id).
///
/// Text the generic order cannot read is compared as text only.
pub fn same_release(a: &str, b: &str) -> bool {
    let (a, b) = (strip_v(a.trim()), strip_v(b.trim()));
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let hex = |s: &str| s.len() >= 7 && s.bytes().all(|c| c.is_ascii_hexdigit());
    if hex(a) && hex(b) && (a.len() >= 40 || b.len() >= 40) {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        return a.starts_with(&b) || b.starts_with(&a);
    }
    // A commit-like string is not a dotted version: `abc1234` and `abc1234.0` are not one.
    if hex(a) != hex(b) && (a.len() >= 7 || b.len() >= 7) && (hex(a) || hex(b)) {
        let digits_only = |s: &str| s.bytes().all(|c| c.is_ascii_digit() || c == b'.');
        if !(digits_only(a) && digits_only(b)) {
            return false;
        }
    }
    compare(Scheme::Generic, a, b) == Ok(Ordering::Equal)
}

/// Whether two versions of one ecosystem's scheme are the same release by that scheme's own
/// equality (PEP 440: `1.0` = `1.0.0`, `3.13.0rc1` = `3.13.0-rc.1`; SemVer: build metadata
/// ignored; Go: the `v` prefix; dpkg: epoch 0 = no epoch). Text the scheme cannot read is
/// compared with [`same_release`].
pub fn same_in(scheme: Scheme, a: &str, b: &str) -> bool {
    match compare(scheme, a, b) {
        Ok(o) => o == Ordering::Equal,
        Err(_) => same_release(a, b),
    }
}

/// Pairs of version strings and whether they name the same release: the table every caller of
/// the judge is tested on (here, and in `consistency` for CPE and PURL versions).
#[cfg(test)]
pub(crate) const TRICKY_PAIRS: &[(&str, &str, bool)] = &[
    ("3.49.1.0", "3.49.1", true),
    ("3.49.1", "3.49.1.0", true),
    ("3.49.1.1", "3.49.1", false),
    ("1.0.2zf", "1.0.2zf", true),
    ("1.0.2zf", "1.0.2", false),
    ("1.0.2zf", "1.0.2ze", false),
    ("1.1.1W", "1.1.1w", true),
    ("3.13.0rc1", "3.13.0-rc1", true),
    ("3.13.0rc1", "3.13.0.rc1", true),
    ("3.13.0rc1", "3.13.0", false),
    ("3.13.0rc1", "3.13.0rc2", false),
    ("3.13.0a1", "3.13.0b1", false),
    ("2:1.2.3-4", "2:1.2.3-4", true),
    ("2:1.2.3-4", "1.2.3-4", false),
    ("v1.2", "1.2", true),
    ("V1.2.0", "1.2", true),
    ("v1.2", "1.3", false),
    ("vim", "im", false),
    (" 2.6.4 ", "2.6.4", true),
    ("2.6.4", "2.6.40", false),
    ("1.12", "1.1.2", false),
    ("abc1234", "abc1234def5678abc1234def5678abc1234def56", true),
    ("abc1234", "abc1235def5678abc1234def5678abc1234def56", false),
    ("abc1234", "abc1234.0", false),
    ("2.0", "2", true),
    ("", "", true),
    ("", "1", false),
    ("1.0 (build 5)", "1.0 (build 5)", true),
    ("1.0 (build 5)", "1.0 (build 6)", false),
];

/// The upstream version inside a distribution package's version (what the library itself
/// embeds): the epoch and the packager's release removed (`1.15.1-55.el7_9` → `1.15.1`,
/// `2:1.2.3-4` → `1.2.3`), for PURL types whose versions carry them (`rpm`, `deb`, `apk`,
/// `alpm`); other versions unchanged.
pub fn upstream_of<'a>(purl_type: &str, version: &'a str) -> &'a str {
    if !DISTRO_TYPES.contains(&purl_type) {
        return version;
    }
    let v = match version.split_once(':') {
        Some((epoch, rest)) if epoch.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => version,
    };
    v.rsplit_once('-').map_or(v, |(upstream, _)| upstream)
}

/// PURL types of distribution packages, whose versions carry an epoch and a release.
pub const DISTRO_TYPES: [&str; 4] = ["rpm", "deb", "apk", "alpm"];

/// `v1.2` → `1.2`; `v` not before a digit is kept (`vim`).
fn strip_v(s: &str) -> &str {
    match s.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => s,
    }
}

/// SemVer, also accepting `1`, `1.2` (padded with zeros) as OSV data sometimes has.
fn parse_semver_lenient(s: &str) -> Option<semver::Version> {
    let mut v = match semver::Version::parse(s) {
        Ok(v) => v,
        Err(_) => {
            let (core, rest) = match s.find(['-', '+']) {
                Some(i) => s.split_at(i),
                None => (s, ""),
            };
            let parts: Vec<&str> = core.split('.').collect();
            if parts.is_empty()
                || parts.len() > 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return None;
            }
            let mut padded = parts.join(".");
            for _ in parts.len()..3 {
                padded.push_str(".0");
            }
            semver::Version::parse(&format!("{padded}{rest}")).ok()?
        }
    };
    v.build = semver::BuildMetadata::EMPTY;
    Some(v)
}

fn is_pre_word(w: &str) -> bool {
    matches!(
        w,
        "a" | "alpha"
            | "b"
            | "beta"
            | "c"
            | "rc"
            | "cr"
            | "pre"
            | "preview"
            | "dev"
            | "snapshot"
            | "m"
            | "milestone"
            | "ea"
    )
}

/// Generic tokens: runs of digits and runs of letters; other characters separate.
///
/// A letter run directly after a number and not followed by digits (`1.1.1w`) is a
/// post-release suffix, as in OpenSSL; a word like `rc`, `beta`, `alpha` elsewhere or
/// followed by a number (`2.0rc1`, `3.13.0-alpha1`) is a pre-release.
fn generic_tokens(t: &str) -> Result<Vec<Seg>, String> {
    let lower = t.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n: u128 = lower[s..i]
                .parse()
                .map_err(|_| "number too large".to_string())?;
            out.push(Seg::Num(n));
        } else if c.is_ascii_alphabetic() {
            let s = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = lower[s..i].to_string();
            let after_number = s > 0 && b[s - 1].is_ascii_digit();
            let followed_by_digit = i < b.len() && b[i].is_ascii_digit();
            if after_number && !followed_by_digit && word.len() == 1 {
                out.push(Seg::Post(word));
            } else if is_pre_word(&word) || followed_by_digit {
                out.push(Seg::Pre(word));
            } else {
                out.push(Seg::Post(word));
            }
        } else if matches!(c, b'.' | b'-' | b'_' | b'+' | b'~' | b':') {
            i += 1;
        } else {
            return Err(format!("unexpected character {:?}", c as char));
        }
    }
    if out.is_empty() {
        return Err("no digits or letters".into());
    }
    Ok(out)
}

/// Segment order: missing trailing numbers count as 0, a pre-release sorts before the
/// release and a post-release suffix after it.
fn seg_cmp(a: &[Seg], b: &[Seg]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let o = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => match (x, y) {
                (Seg::Num(p), Seg::Num(q)) => p.cmp(q),
                (Seg::Num(_), Seg::Pre(_)) => Ordering::Greater,
                (Seg::Pre(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Post(_)) => Ordering::Greater,
                (Seg::Post(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Pre(p), Seg::Pre(q)) | (Seg::Post(p), Seg::Post(q)) => p.cmp(q),
                (Seg::Pre(_), Seg::Post(_)) => Ordering::Less,
                (Seg::Post(_), Seg::Pre(_)) => Ordering::Greater,
            },
            (Some(x), None) => match x {
                Seg::Num(0) => Ordering::Equal,
                Seg::Num(_) | Seg::Post(_) => Ordering::Greater,
                Seg::Pre(_) => Ordering::Less,
            },
            (None, Some(y)) => match y {
                Seg::Num(0) => Ordering::Equal,
                Seg::Num(_) | Seg::Post(_) => Ordering::Less,
                Seg::Pre(_) => Ordering::Greater,
            },
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// RubyGems: segments split on `.` and at letter/digit boundaries; any letter segment
/// makes a pre-release (`Gem::Version#prerelease?`); `-` means `.pre.`.
fn gem_segments(t: &str) -> Vec<Seg> {
    let t = t.replace('-', ".pre.");
    let mut out = Vec::new();
    for part in t.split('.') {
        let mut cur = String::new();
        let mut digit = None;
        for ch in part.chars() {
            let d = ch.is_ascii_digit();
            if digit.is_some_and(|x| x != d) {
                out.push(gem_seg(&cur));
                cur.clear();
            }
            digit = Some(d);
            cur.push(ch);
        }
        if !cur.is_empty() {
            out.push(gem_seg(&cur));
        }
    }
    // Gem::Version#canonical_segments drops trailing zeros (and zeros before a letter).
    while matches!(out.last(), Some(Seg::Num(0))) {
        out.pop();
    }
    out
}

fn gem_seg(s: &str) -> Seg {
    match s.parse::<u128>() {
        Ok(n) => Seg::Num(n),
        Err(_) => Seg::Pre(s.to_string()),
    }
}

/// Maven ComparableVersion items (simplified to the documented ordering:
/// `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp`,
/// unknown qualifiers after `sp` in lexical order, numbers after qualifiers).
fn maven_items(t: &str) -> Vec<MavenItem> {
    let lower = t.to_ascii_lowercase();
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut digit: Option<bool> = None;
    let flush = |cur: &mut String, items: &mut Vec<MavenItem>, next_is_digit: bool| {
        if cur.is_empty() {
            return;
        }
        if let Ok(n) = cur.parse::<u128>() {
            items.push(MavenItem::Num(n));
        } else {
            let q = match cur.as_str() {
                "a" if next_is_digit => "alpha",
                "b" if next_is_digit => "beta",
                "m" if next_is_digit => "milestone",
                "cr" => "rc",
                "ga" | "final" | "release" => "",
                other => other,
            };
            let rank = match q {
                "alpha" => 0,
                "beta" => 1,
                "milestone" => 2,
                "rc" => 3,
                "snapshot" => 4,
                "" => 5,
                "sp" => 6,
                _ => 7,
            };
            items.push(MavenItem::Qual(rank, q.to_string()));
        }
        cur.clear();
    };
    for ch in lower.chars() {
        match ch {
            '.' => {
                flush(&mut cur, &mut items, false);
                digit = None;
            }
            '-' | '_' => {
                flush(&mut cur, &mut items, false);
                items.push(MavenItem::Sub);
                digit = None;
            }
            _ => {
                let d = ch.is_ascii_digit();
                if digit.is_some_and(|x| x != d) {
                    flush(&mut cur, &mut items, d);
                }
                digit = Some(d);
                cur.push(ch);
            }
        }
    }
    flush(&mut cur, &mut items, false);
    // Trailing "null" items (0, "", ga…) do not count.
    while matches!(
        items.last(),
        Some(MavenItem::Num(0)) | Some(MavenItem::Qual(5, _)) | Some(MavenItem::Sub)
    ) {
        items.pop();
    }
    items
}

fn maven_cmp(a: &[MavenItem], b: &[MavenItem]) -> Ordering {
    let null = MavenItem::Qual(5, String::new());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).unwrap_or(&null);
        let y = b.get(i).unwrap_or(&null);
        let o = match (x, y) {
            (MavenItem::Num(p), MavenItem::Num(q)) => p.cmp(q),
            (MavenItem::Num(0), MavenItem::Qual(5, _))
            | (MavenItem::Qual(5, _), MavenItem::Num(0)) => Ordering::Equal,
            (MavenItem::Num(_), _) => Ordering::Greater,
            (_, MavenItem::Num(_)) => Ordering::Less,
            (MavenItem::Qual(r1, s1), MavenItem::Qual(r2, s2)) => r1.cmp(r2).then(s1.cmp(s2)),
            (MavenItem::Sub, MavenItem::Sub) => Ordering::Equal,
            (MavenItem::Sub, MavenItem::Qual(r, _)) => 5.cmp(r),
            (MavenItem::Qual(r, _), MavenItem::Sub) => r.cmp(&5),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn parse_dpkg(t: &str) -> Result<Version, String> {
    let (epoch, rest) = match t.split_once(':') {
        Some((e, r)) => (
            e.parse::<u64>()
                .map_err(|_| format!("epoch {e:?} is not a number"))?,
            r,
        ),
        None => (0, t),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("the upstream version must start with a digit".into());
    }
    let ok = |s: &str, extra: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c) || extra.contains(c))
    };
    if !ok(upstream, "-:") || !ok(revision, "") {
        return Err("characters outside [A-Za-z0-9.+~-]".into());
    }
    Ok(Version::Dpkg(epoch, upstream.into(), revision.into()))
}

/// dpkg's `verrevcmp`: alternate non-digit runs (with `~` lowest, letters before
/// non-letters) and numeric runs.
fn dpkg_part_cmp(a: &str, b: &str) -> Ordering {
    fn order(c: Option<u8>) -> i32 {
        match c {
            None => 0,
            Some(b'~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => c as i32,
            Some(c) => c as i32 + 256,
        }
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(s: Scheme, a: &str, b: &str) -> Ordering {
        compare(s, a, b).unwrap()
    }

    /// The tricky pairs every command must judge alike.
    #[test]
    fn same_release_on_tricky_pairs() {
        let table = TRICKY_PAIRS;
        for &(a, b, want) in table {
            assert_eq!(same_release(a, b), want, "{a:?} vs {b:?}");
            assert_eq!(same_release(b, a), want, "{b:?} vs {a:?} (symmetric)");
        }
    }

    #[test]
    fn upstream_versions_of_distribution_packages() {
        assert_eq!(upstream_of("rpm", "1.15.1-55.el7_9"), "1.15.1");
        assert_eq!(upstream_of("deb", "2:1.2.3-4"), "1.2.3");
        assert_eq!(upstream_of("deb", "1.0.8"), "1.0.8");
        assert_eq!(upstream_of("npm", "1.2.3-rc.1"), "1.2.3-rc.1");
    }

    #[test]
    fn same_in_follows_the_scheme() {
        assert!(same_in(Scheme::Pep440, "1.0", "1.0.0"));
        assert!(same_in(Scheme::Pep440, "3.13.0rc1", "3.13.0-rc.1"));
        assert!(!same_in(Scheme::Pep440, "1.0", "1.0.post1"));
        assert!(same_in(Scheme::Go, "v1.2.3", "1.2.3"));
        assert!(same_in(Scheme::Semver, "1.2.3+build5", "1.2.3"));
        assert!(same_in(Scheme::Dpkg, "0:1.2-3", "1.2-3"));
        assert!(!same_in(Scheme::Dpkg, "1:1.2-3", "1.2-3"));
        assert!(same_in(Scheme::Generic, "3.49.1.0", "3.49.1"));
    }

    #[test]
    fn generic_nvd_versions() {
        assert_eq!(c(Scheme::Generic, "1.1.1w", "1.1.1k"), Greater);
        assert_eq!(c(Scheme::Generic, "1.1.1", "1.1.1a"), Less);
        assert_eq!(c(Scheme::Generic, "3.0.15", "3.0.9"), Greater);
        assert_eq!(c(Scheme::Generic, "2.6.4", "2.6.3"), Greater);
        assert_eq!(c(Scheme::Generic, "2.6.3", "2.6.3"), Equal);
        assert_eq!(c(Scheme::Generic, "3.45.3.0", "3.45.3"), Equal);
        assert_eq!(c(Scheme::Generic, "3.45.3.0", "3.43.0"), Greater);
        assert_eq!(c(Scheme::Generic, "3.49.1.0", "3.39.2"), Greater);
        assert_eq!(c(Scheme::Generic, "1.3.1", "1.3"), Greater);
        assert_eq!(c(Scheme::Generic, "2.0rc1", "2.0"), Less);
        assert_eq!(c(Scheme::Generic, "3.13.0-alpha1", "3.13.0"), Less);
    }

    #[test]
    fn pep440_and_semver_and_go() {
        assert_eq!(c(Scheme::Pep440, "23.3", "23.2.1"), Greater);
        assert_eq!(c(Scheme::Pep440, "1.0rc1", "1.0"), Less);
        assert_eq!(c(Scheme::Pep440, "1.0.post1", "1.0"), Greater);
        assert_eq!(c(Scheme::Semver, "0.2.1-0", "0.2.1"), Less);
        assert_eq!(c(Scheme::Go, "v0.23.0", "0.7.0"), Greater);
        assert_eq!(
            c(
                Scheme::Go,
                "v0.0.0-20220906165146-f3363e06e74c",
                "0.0.0-20220906165534-d0df966e6959"
            ),
            Less
        );
        assert_eq!(c(Scheme::Go, "v2.0.0+incompatible", "2.0.0"), Equal);
        assert!(Version::parse(Scheme::Pep440, "not a version").is_err());
    }

    #[test]
    fn dpkg_maven_gem() {
        assert_eq!(c(Scheme::Dpkg, "1.0~rc1", "1.0"), Less);
        assert_eq!(c(Scheme::Dpkg, "1:0.9", "2.0"), Greater);
        assert_eq!(c(Scheme::Dpkg, "2.36.1-8+deb11u1", "2.36.1-8"), Greater);
        assert_eq!(c(Scheme::Dpkg, "1.2.3-1", "1.2.10-1"), Less);
        assert_eq!(c(Scheme::Maven, "1.0-alpha1", "1.0"), Less);
        assert_eq!(c(Scheme::Maven, "1.0", "1.0.0"), Equal);
        assert_eq!(c(Scheme::Maven, "1.0-SNAPSHOT", "1.0"), Less);
        assert_eq!(c(Scheme::Maven, "1.0-sp1", "1.0"), Greater);
        assert_eq!(c(Scheme::Maven, "2.12.7.1", "2.12.7"), Greater);
        assert_eq!(c(Scheme::Gem, "1.0.0.pre", "1.0.0"), Less);
        assert_eq!(c(Scheme::Gem, "1.10", "1.9"), Greater);
        assert_eq!(c(Scheme::Gem, "1.0", "1"), Equal);
    }
}
