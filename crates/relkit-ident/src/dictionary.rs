//! What a CPE dictionary answers, without any storage: the [`CpeDictionary`] trait (exact
//! lookup, search of any length, CVE descriptions), its result types and the natural version
//! order. The SQLite implementation lives in relkit-cpedict, so that crates which only check
//! identities (relkit-sbom) do not compile a database.

use serde::Serialize;

/// A CPE dictionary: what the identity checks ([`crate::check`]) ask of one.
pub trait CpeDictionary {
    /// Why a query failed (e.g. the database could not be read).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The products with this exact vendor and product (any part), best first.
    fn lookup(&self, vendor: &str, product: &str) -> Result<Vec<Product>, Self::Error>;

    /// Descriptions `(CVE id, description)` of the CVEs that name this vendor:product (up to
    /// `limit`), by CVE id.
    fn cve_descriptions(
        &self,
        vendor: &str,
        product: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, Self::Error>;

    /// Searches for `query` (any length): exact, prefix, word, substring, then fuzzy
    /// matches, each group by CVE count; at most `limit` hits.
    fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, Self::Error>;
}

/// One vendor:product of the dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// `a`, `o` or `h`.
    pub part: String,
    /// Vendor (unquoted).
    pub vendor: String,
    /// Product (unquoted).
    pub product: String,
    /// Title from the dictionary, if any.
    pub title: Option<String>,
    /// Number of CVEs whose configurations name this product.
    pub cve_count: u64,
    /// Number of dictionary names (versions, editions) under this product.
    pub name_count: u64,
    /// Lowest known version (dictionary names and CVE ranges).
    pub min_version: Option<String>,
    /// Highest known version.
    pub max_version: Option<String>,
    /// One CVE that names this product.
    pub sample_cve: Option<String>,
    /// That CVE's description.
    pub sample_description: Option<String>,
    /// Every dictionary name of this product is deprecated.
    pub deprecated: bool,
    /// The vendor:product its names were deprecated in favour of.
    pub deprecated_by: Option<String>,
    /// The most common target_sw of its names and CVE criteria (e.g. `go`, `python`).
    pub target_sw: Option<String>,
}

/// How a search hit matched the query, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The product (or `vendor:product`) is the query.
    ExactProduct,
    /// The vendor is the query.
    ExactVendor,
    /// The product starts with the query.
    Prefix,
    /// The query is a whole `_`/`-`/`.`-separated word of the product or vendor.
    Word,
    /// The query occurs somewhere in `vendor:product`.
    Substring,
    /// Within a small edit distance of the product.
    Fuzzy,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// How it matched.
    pub kind: MatchKind,
    /// The product.
    #[serde(flatten)]
    pub product: Product,
}

/// Natural version order: digit runs compare numerically, other runs as text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    // The next run of digits or of non-digits from `*i` on (walked in place: collecting the
    // runs into vectors was a tenth of a large dictionary import).
    fn chunk<'s>(s: &'s str, i: &mut usize) -> Option<(bool, &'s str)> {
        let b = s.as_bytes();
        if *i >= b.len() {
            return None;
        }
        let digit = b[*i].is_ascii_digit();
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() == digit {
            *i += 1;
        }
        Some((digit, &s[start..*i]))
    }
    let (mut i, mut j) = (0, 0);
    loop {
        match (chunk(a, &mut i), chunk(b, &mut j)) {
            (Some(x), Some(y)) => {
                let ord = match (x.0, y.0) {
                    (true, true) => {
                        let (xs, ys) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                        xs.len().cmp(&ys.len()).then(xs.cmp(ys))
                    }
                    _ => x.1.cmp(y.1),
                };
                if ord.is_ne() {
                    return ord;
                }
            }
            (x, y) => return x.is_some().cmp(&y.is_some()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_version_order() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("5.6.1", "5.10.0"), Less);
        assert_eq!(compare_versions("2.7.1", "2.6.3"), Greater);
        assert_eq!(compare_versions("1.0", "1.0.1"), Less);
        assert_eq!(compare_versions("3.13.0a1", "3.13.0b1"), Less);
        assert_eq!(compare_versions("007", "7"), Equal);
    }
}
