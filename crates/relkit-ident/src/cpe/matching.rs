//! CPE name matching (NISTIR 7696): attribute-wise set relations and whole-name relations.
//!
//! This follows the specification's pseudo-code (§6.1) with one correction: the leftover
//! after a match counts only the target's escapes after the matched text (the pseudo-code
//! also counts those inside it). The Python `cpe` package differs too: its
//! `_compare_strings` never counts leading `?` wildcards (`startswith(…, start, start)`
//! tests an empty slice) and it counts the source's escapes from a target index. The
//! oracle test documents and excludes exactly those cases.

use serde::Serialize;

use super::{AttrValue, Attribute, Wfn, has_unquoted_wildcards};

/// Set relation between a source and a target attribute value (NISTIR 7696 Table 6-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttributeRelation {
    /// The source value denotes a superset of the target's.
    Superset,
    /// The source value denotes a subset of the target's.
    Subset,
    /// Equal values.
    Equal,
    /// No overlap.
    Disjoint,
    /// The target contains wildcards: the relation is undefined.
    Undefined,
}

/// Relation between two whole names (NISTIR 7696 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NameRelation {
    /// Every attribute EQUAL.
    Equal,
    /// Every attribute SUPERSET or EQUAL: the source name matches the target.
    Superset,
    /// Every attribute SUBSET or EQUAL.
    Subset,
    /// At least one attribute DISJOINT.
    Disjoint,
    /// None of the above (a mix, or an undefined attribute).
    Undefined,
}

/// The attribute-wise and whole-name results of comparing two names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameComparison {
    /// One relation per attribute, in binding order.
    pub attributes: Vec<(Attribute, AttributeRelation)>,
    /// The whole-name relation.
    pub relation: NameRelation,
}

impl Serialize for Attribute {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Compares two names attribute by attribute (`compare_wfns`) and derives the name relation.
pub fn compare_names(source: &Wfn, target: &Wfn) -> NameComparison {
    let attributes: Vec<(Attribute, AttributeRelation)> = Attribute::ALL
        .into_iter()
        .map(|a| (a, compare_attribute(source.get(a), target.get(a))))
        .collect();
    let rels = attributes.iter().map(|(_, r)| *r);
    let relation = if rels.clone().any(|r| r == AttributeRelation::Disjoint) {
        NameRelation::Disjoint
    } else if rels.clone().all(|r| r == AttributeRelation::Equal) {
        NameRelation::Equal
    } else if rels
        .clone()
        .all(|r| matches!(r, AttributeRelation::Superset | AttributeRelation::Equal))
    {
        NameRelation::Superset
    } else if rels
        .clone()
        .all(|r| matches!(r, AttributeRelation::Subset | AttributeRelation::Equal))
    {
        NameRelation::Subset
    } else {
        NameRelation::Undefined
    };
    NameComparison {
        attributes,
        relation,
    }
}

/// `compare`: the relation of one source attribute value to one target value.
pub fn compare_attribute(source: &AttrValue, target: &AttrValue) -> AttributeRelation {
    let src = source.quoted().map(str::to_ascii_lowercase);
    let tgt = target.quoted().map(str::to_ascii_lowercase);
    if let Some(t) = &tgt
        && has_unquoted_wildcards(t)
    {
        return AttributeRelation::Undefined;
    }
    match (source, target) {
        (AttrValue::Any, AttrValue::Any) | (AttrValue::Na, AttrValue::Na) => {
            return AttributeRelation::Equal;
        }
        _ => {}
    }
    if let (Some(s), Some(t)) = (&src, &tgt)
        && s == t
    {
        return AttributeRelation::Equal;
    }
    if *source == AttrValue::Any {
        return AttributeRelation::Superset;
    }
    if *target == AttrValue::Any {
        return AttributeRelation::Subset;
    }
    match (src, tgt) {
        (Some(s), Some(t)) => compare_strings(s.as_bytes(), t.as_bytes()),
        _ => AttributeRelation::Disjoint,
    }
}

/// `compare_strings`: the source may have wildcards at its ends, the target none.
fn compare_strings(source: &[u8], target: &[u8]) -> AttributeRelation {
    let mut start = 0usize;
    let mut end = source.len();
    let mut begins: isize = 0;
    let mut ends: isize = 0;
    if source.first() == Some(&b'*') {
        start = 1;
        begins = -1;
    } else {
        while start < source.len() && source[start] == b'?' {
            start += 1;
            begins += 1;
        }
    }
    if end > 0 && source[end - 1] == b'*' && is_even_wildcards(source, end - 1) {
        end -= 1;
        ends = -1;
    } else {
        while end > 0 && source[end - 1] == b'?' && is_even_wildcards(source, end - 1) {
            end -= 1;
            ends += 1;
        }
    }
    let core: &[u8] = if end > start {
        &source[start..end]
    } else {
        &[]
    };
    let mut index: isize = -1;
    let mut leftover = target.len() as isize;
    while leftover > 0 {
        let from = (index + 1) as usize;
        let Some(found) = find(target, core, from) else {
            break;
        };
        index = found as isize;
        let escapes = count_escapes(target, 0, found) as isize;
        if index > 0 && begins != -1 && begins < index - escapes {
            break;
        }
        // The spec counts escapes from `index + 1`, which includes the escapes inside the
        // matched text and lets `1\.0?` match `1\.0\.2`; count only those after it.
        let escapes = count_escapes(target, found + core.len(), target.len()) as isize;
        leftover = target.len() as isize - index - escapes - core.len() as isize;
        if leftover > 0 && ends != -1 && leftover > ends {
            continue;
        }
        return AttributeRelation::Superset;
    }
    AttributeRelation::Disjoint
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Whether an even number of `\` precede position `idx`.
fn is_even_wildcards(s: &[u8], mut idx: usize) -> bool {
    let mut n = 0;
    while idx > 0 && s[idx - 1] == b'\\' {
        idx -= 1;
        n += 1;
    }
    n % 2 == 0
}

/// `count_escape_characters`: escaping backslashes in `s[start..end]`.
fn count_escapes(s: &[u8], start: usize, end: usize) -> usize {
    let mut result = 0;
    let mut active = false;
    for (i, &c) in s.iter().enumerate().take(end) {
        active = !active && c == b'\\';
        if active && i >= start {
            result += 1;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> AttrValue {
        match s {
            "ANY" => AttrValue::Any,
            "NA" => AttrValue::Na,
            _ => AttrValue::Value(s.into()),
        }
    }

    /// NISTIR 7696 Table 6-2, the enumeration of attribute comparison set relations.
    #[test]
    fn nistir_7696_table_6_2() {
        use AttributeRelation::*;
        let cases = [
            ("ANY", "ANY", Equal),
            ("ANY", "NA", Superset),
            ("ANY", "i", Superset),
            ("ANY", "m + wild cards", Undefined),
            ("NA", "ANY", Subset),
            ("NA", "NA", Equal),
            ("NA", "i", Disjoint),
            ("NA", "m + wild cards", Undefined),
            ("i", "ANY", Subset),
            ("i", "NA", Disjoint),
            ("i", "i", Equal),
            ("i", "k", Disjoint),
            ("i", "m + wild cards", Undefined),
            ("m + wild cards", "ANY", Subset),
            ("m + wild cards", "NA", Disjoint),
            ("m + wild cards", "m + wild cards", Undefined),
        ];
        let concrete = |s: &str| match s {
            "i" => v("foo"),
            "k" => v("bar"),
            "m + wild cards" => v("fo*"),
            other => v(other),
        };
        for (s, t, want) in cases {
            assert_eq!(
                compare_attribute(&concrete(s), &concrete(t)),
                want,
                "{s} vs {t}"
            );
        }
        // "m + wild cards" vs "i": SUPERSET when the wildcard pattern matches, else DISJOINT.
        assert_eq!(compare_attribute(&v("fo*"), &v("foo")), Superset);
        assert_eq!(compare_attribute(&v("ba*"), &v("foo")), Disjoint);
    }

    #[test]
    fn wildcard_strings() {
        use AttributeRelation::*;
        assert_eq!(compare_attribute(&v("*sql"), &v("mysql")), Superset);
        assert_eq!(compare_attribute(&v("?sql"), &v("mysql")), Disjoint);
        assert_eq!(compare_attribute(&v("??sql"), &v("mysql")), Superset);
        assert_eq!(compare_attribute(&v("my?"), &v("mysql")), Disjoint);
        assert_eq!(compare_attribute(&v("mys??"), &v("mysql")), Superset);
        assert_eq!(compare_attribute(&v("1\\.0*"), &v("1\\.0\\.2")), Superset);
        assert_eq!(compare_attribute(&v("1\\.0?"), &v("1\\.0\\.2")), Disjoint);
        assert_eq!(compare_attribute(&v("1\\.0??"), &v("1\\.0\\.2")), Superset);
        assert_eq!(compare_attribute(&v("\\*sql"), &v("mysql")), Disjoint);
        assert_eq!(compare_attribute(&v("MySQL"), &v("mysql")), Equal);
    }
}
