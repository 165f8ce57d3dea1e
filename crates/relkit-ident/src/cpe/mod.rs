//! CPE 2.3 naming (NISTIR 7695) and name matching (NISTIR 7696).
//!
//! The central type is [`Wfn`], the well-formed CPE name: eleven attributes, each either a
//! logical value (ANY, NA) or a string value kept in the WFN's own quoted form (every
//! non-alphanumeric character other than `_` is preceded by `\`, unquoted `*` and `?` are
//! wildcards). Keeping the quoted form makes the spec's binding, unbinding and matching
//! algorithms direct transcriptions, and makes round trips exact.
//!
//! * [`Wfn::parse`] accepts a formatted string (`cpe:2.3:…`), a URI (`cpe:/…`) or a WFN
//!   string (`wfn:[…]`); [`Wfn::to_fs`], [`Wfn::to_uri`] and [`Wfn::to_wfn_string`] bind it.
//! * [`compare_names`] and [`compare_attribute`] implement NISTIR 7696.

mod fs;
mod matching;
mod uri;
mod wfn_string;

pub use matching::{
    AttributeRelation, NameComparison, NameRelation, compare_attribute, compare_names,
};

use std::fmt;

use serde::{Serialize, Serializer};

/// The eleven WFN attributes, in binding order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// `part`: a (application), o (operating system), h (hardware).
    Part,
    /// `vendor`.
    Vendor,
    /// `product`.
    Product,
    /// `version`.
    Version,
    /// `update`.
    Update,
    /// `edition` (legacy; packed with the extended attributes in URIs).
    Edition,
    /// `language` (an RFC 5646 language tag).
    Language,
    /// `sw_edition`.
    SwEdition,
    /// `target_sw`.
    TargetSw,
    /// `target_hw`.
    TargetHw,
    /// `other`.
    Other,
}

impl Attribute {
    /// All attributes in binding order.
    pub const ALL: [Attribute; 11] = [
        Attribute::Part,
        Attribute::Vendor,
        Attribute::Product,
        Attribute::Version,
        Attribute::Update,
        Attribute::Edition,
        Attribute::Language,
        Attribute::SwEdition,
        Attribute::TargetSw,
        Attribute::TargetHw,
        Attribute::Other,
    ];

    /// The attribute's name as written in WFNs (`sw_edition`, `target_hw`, …).
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Part => "part",
            Attribute::Vendor => "vendor",
            Attribute::Product => "product",
            Attribute::Version => "version",
            Attribute::Update => "update",
            Attribute::Edition => "edition",
            Attribute::Language => "language",
            Attribute::SwEdition => "sw_edition",
            Attribute::TargetSw => "target_sw",
            Attribute::TargetHw => "target_hw",
            Attribute::Other => "other",
        }
    }

    /// Looks an attribute up by its WFN name.
    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|a| a.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One attribute value of a WFN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// The logical value ANY (`*` in a formatted string, empty in a URI).
    Any,
    /// The logical value NA, "not applicable" (`-`).
    Na,
    /// A string value in WFN quoted form, e.g. `1\.0` or `*sql\+`.
    Value(String),
}

impl AttrValue {
    /// The WFN quoted form, or `None` for a logical value.
    pub fn quoted(&self) -> Option<&str> {
        match self {
            AttrValue::Value(s) => Some(s),
            _ => None,
        }
    }

    /// The value with WFN quoting removed (`1\.0` → `1.0`); unquoted wildcards are kept.
    /// `None` for a logical value.
    pub fn unquoted(&self) -> Option<String> {
        self.quoted().map(unquote)
    }

    /// Whether the value contains an unquoted `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.quoted().is_some_and(has_unquoted_wildcards)
    }

    /// Builds a string value from plain text, quoting every character that needs it.
    /// `*` and `?` are quoted too, so the value matches literally.
    pub fn literal(text: &str) -> AttrValue {
        let mut out = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            if !(c.is_ascii_alphanumeric() || c == '_') {
                out.push('\\');
            }
            out.push(c);
        }
        AttrValue::Value(out)
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::Any => f.write_str("ANY"),
            AttrValue::Na => f.write_str("NA"),
            AttrValue::Value(s) => write!(f, "\"{s}\""),
        }
    }
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Any => serializer.serialize_str("ANY"),
            AttrValue::Na => serializer.serialize_str("NA"),
            AttrValue::Value(s) => serializer.serialize_str(s),
        }
    }
}

/// Removes WFN quoting: every `\x` becomes `x`.
fn unquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a WFN quoted string contains an unquoted `*` or `?`.
fn has_unquoted_wildcards(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'*' | b'?' => return true,
            _ => i += 1,
        }
    }
    false
}

/// The syntax in which a CPE name was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// CPE 2.3 formatted string, `cpe:2.3:…`.
    FormattedString,
    /// CPE 2.2-compatible URI, `cpe:/…`.
    Uri,
    /// WFN string, `wfn:[…]`.
    Wfn,
}

/// Why a CPE name could not be parsed; positions are 0-based character offsets in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpeError {
    /// The input does not start with `cpe:2.3:`, `cpe:/` or `wfn:[`.
    #[error(
        "not a CPE name: expected it to start with \"cpe:2.3:\" (formatted string), \"cpe:/\" (URI) or \"wfn:[\""
    )]
    UnknownPrefix,
    /// The input contains a character no CPE binding allows.
    #[error(
        "character {found:?} at position {position} is not allowed in a CPE name (only printable ASCII without spaces)"
    )]
    BadCharacter {
        /// Offending character.
        found: char,
        /// Its position.
        position: usize,
    },
    /// A formatted string without exactly 11 attribute components.
    #[error(
        "formatted string has {found} attribute components, expected 11 (part through other) after \"cpe:2.3:\""
    )]
    ComponentCount {
        /// How many were found.
        found: usize,
    },
    /// A URI with more than 7 components.
    #[error("URI has {found} components, at most 7 are allowed (part through language)")]
    UriComponentCount {
        /// How many were found.
        found: usize,
    },
    /// One attribute value is malformed.
    #[error("invalid {attribute} at position {position}: {reason}")]
    InvalidAttribute {
        /// Which attribute.
        attribute: Attribute,
        /// Position of the offending character (or the component start).
        position: usize,
        /// What is wrong and how to write it.
        reason: String,
    },
    /// A malformed WFN string (`wfn:[…]`).
    #[error("malformed WFN string at position {position}: {reason}")]
    WfnSyntax {
        /// Position of the problem.
        position: usize,
        /// What is wrong.
        reason: String,
    },
}

/// A well-formed CPE name (WFN).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wfn {
    attrs: [AttrValue; 11],
}

impl Default for Wfn {
    fn default() -> Self {
        Wfn {
            attrs: std::array::from_fn(|_| AttrValue::Any),
        }
    }
}

impl Wfn {
    /// A WFN with every attribute ANY.
    pub fn new() -> Wfn {
        Wfn::default()
    }

    /// Parses any binding: formatted string, URI or WFN string, chosen by prefix.
    pub fn parse(input: &str) -> Result<Wfn, CpeError> {
        Ok(Wfn::parse_with_binding(input)?.0)
    }

    /// Parses any binding and also says which binding it was.
    pub fn parse_with_binding(input: &str) -> Result<(Wfn, Binding), CpeError> {
        if starts_with_ignore_case(input, "cpe:2.3:") {
            Ok((fs::unbind(input)?, Binding::FormattedString))
        } else if starts_with_ignore_case(input, "cpe:/") {
            Ok((uri::unbind(input)?, Binding::Uri))
        } else if input.starts_with("wfn:[") {
            Ok((wfn_string::parse(input)?, Binding::Wfn))
        } else {
            Err(CpeError::UnknownPrefix)
        }
    }

    /// Unbinds a formatted string (`cpe:2.3:…`).
    pub fn from_fs(input: &str) -> Result<Wfn, CpeError> {
        fs::unbind(input)
    }

    /// Unbinds a URI (`cpe:/…`), unpacking a packed edition.
    pub fn from_uri(input: &str) -> Result<Wfn, CpeError> {
        uri::unbind(input)
    }

    /// Binds to a formatted string (`cpe:2.3:…`).
    pub fn to_fs(&self) -> String {
        fs::bind(self)
    }

    /// Binds to a URI (`cpe:/…`), packing the extended attributes into the edition.
    pub fn to_uri(&self) -> String {
        uri::bind(self)
    }

    /// Writes the WFN string form, `wfn:[part="a",vendor="…",…]` with all 11 attributes.
    pub fn to_wfn_string(&self) -> String {
        wfn_string::write(self)
    }

    /// One attribute's value.
    pub fn get(&self, attribute: Attribute) -> &AttrValue {
        &self.attrs[attribute.index()]
    }

    /// Sets one attribute after checking the value against the WFN rules for it.
    pub fn set(&mut self, attribute: Attribute, value: AttrValue) -> Result<(), CpeError> {
        if let AttrValue::Value(s) = &value {
            validate_wfn_value(attribute, s, 0)?;
        }
        self.attrs[attribute.index()] = value;
        Ok(())
    }

    /// Sets an attribute to a value that is known to be valid (used by the unbinders).
    fn put(&mut self, attribute: Attribute, value: AttrValue) {
        self.attrs[attribute.index()] = value;
    }

    /// The vendor without quoting, or `None` when it is a logical value.
    pub fn vendor(&self) -> Option<String> {
        self.get(Attribute::Vendor).unquoted()
    }

    /// The product without quoting, or `None` when it is a logical value.
    pub fn product(&self) -> Option<String> {
        self.get(Attribute::Product).unquoted()
    }

    /// The version without quoting, or `None` when it is a logical value.
    pub fn version(&self) -> Option<String> {
        self.get(Attribute::Version).unquoted()
    }

    /// The part letter (`a`, `o`, `h`) or `None` when ANY/NA.
    pub fn part(&self) -> Option<String> {
        self.get(Attribute::Part).unquoted()
    }

    /// All attributes with their values, in binding order.
    pub fn attributes(&self) -> impl Iterator<Item = (Attribute, &AttrValue)> {
        Attribute::ALL.into_iter().zip(self.attrs.iter())
    }
}

impl Serialize for Wfn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(11))?;
        for (a, v) in self.attributes() {
            map.serialize_entry(a.name(), v)?;
        }
        map.end()
    }
}

impl fmt::Display for Wfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_fs())
    }
}

impl std::str::FromStr for Wfn {
    type Err = CpeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Wfn::parse(s)
    }
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Checks that every character of `input` is printable ASCII other than space.
fn check_charset(input: &str) -> Result<(), CpeError> {
    for (position, c) in input.chars().enumerate() {
        if !c.is_ascii_graphic() {
            return Err(CpeError::BadCharacter { found: c, position });
        }
    }
    Ok(())
}

/// Validates a WFN quoted string value for `attribute` (NISTIR 7695 §5.3.2).
///
/// `offset` is added to positions in errors (the value's place in the whole input).
/// Rules: only printable ASCII; alphanumerics and `_` unquoted, every other character
/// quoted with `\` (quoting an alphanumeric is an error); unquoted `*` only as the first
/// or last character; unquoted `?` only in runs at the start or end; not empty and not a
/// lone `*`; `part` is one of a, o, h; `language` is an RFC 5646 language-region tag.
fn validate_wfn_value(attribute: Attribute, s: &str, offset: usize) -> Result<(), CpeError> {
    let err = |pos: usize, reason: String| CpeError::InvalidAttribute {
        attribute,
        position: offset + pos,
        reason,
    };
    if s.is_empty() {
        return Err(err(0, "empty value (use ANY or NA)".into()));
    }
    let b = s.as_bytes();
    // Tokenize: (byte position, char, quoted?)
    let mut tokens: Vec<(usize, u8, bool)> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !c.is_ascii_graphic() {
            return Err(err(
                i,
                format!("character {:?} is not printable ASCII", c as char),
            ));
        }
        if c == b'\\' {
            let Some(&n) = b.get(i + 1) else {
                return Err(err(i, "dangling escape '\\' at end of value".into()));
            };
            if !n.is_ascii_graphic() {
                return Err(err(
                    i + 1,
                    format!("character {:?} is not printable ASCII", n as char),
                ));
            }
            if n.is_ascii_alphanumeric() || n == b'_' {
                return Err(err(
                    i,
                    format!(
                        "'\\{}' quotes an alphanumeric character; write it unquoted",
                        n as char
                    ),
                ));
            }
            tokens.push((i, n, true));
            i += 2;
        } else {
            if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'*' || c == b'?') {
                return Err(err(
                    i,
                    format!(
                        "'{}' must be quoted as '\\{}' in a WFN",
                        c as char, c as char
                    ),
                ));
            }
            tokens.push((i, c, false));
            i += 1;
        }
    }
    check_wildcard_placement(&tokens, |pos, reason| err(pos, reason.to_string()))?;
    let is_logical_star = tokens.len() == 1 && tokens[0].1 == b'*' && !tokens[0].2;
    if is_logical_star {
        return Err(err(
            0,
            "a lone '*' is the logical value ANY, not a string".into(),
        ));
    }
    let has_wild = tokens.iter().any(|t| !t.2 && (t.1 == b'*' || t.1 == b'?'));
    if attribute == Attribute::Part && !matches!(s, "a" | "o" | "h") {
        return Err(err(0, format!("part must be a, o or h, found {s:?}")));
    }
    if attribute == Attribute::Language && !has_wild && !valid_language_tag(&unquote(s)) {
        return Err(err(
            0,
            format!(
                "{:?} is not a language tag: expected 2-3 letters, optionally '-' and a 2-letter or 3-digit region (e.g. en-us)",
                unquote(s)
            ),
        ));
    }
    Ok(())
}

/// Unquoted `*`/`?` placement: `*` alone at either end, `?` in runs at either end.
fn check_wildcard_placement<E>(
    tokens: &[(usize, u8, bool)],
    err: impl Fn(usize, &str) -> E,
) -> Result<(), E> {
    let n = tokens.len();
    let is_wild = |t: &(usize, u8, bool)| !t.2 && (t.1 == b'*' || t.1 == b'?');
    // Leading run.
    let mut start = 0;
    if n > 0 && is_wild(&tokens[0]) {
        if tokens[0].1 == b'*' {
            start = 1;
        } else {
            while start < n && !tokens[start].2 && tokens[start].1 == b'?' {
                start += 1;
            }
        }
    }
    let mut end = n;
    if end > start && is_wild(&tokens[end - 1]) {
        if tokens[end - 1].1 == b'*' {
            end -= 1;
        } else {
            while end > start && !tokens[end - 1].2 && tokens[end - 1].1 == b'?' {
                end -= 1;
            }
        }
    }
    for t in &tokens[start..end] {
        if is_wild(t) {
            let what = if t.1 == b'*' {
                "unquoted '*' is only allowed as the first or last character (write '\\*' for a literal asterisk)"
            } else {
                "unquoted '?' is only allowed in runs at the start or end (write '\\?' for a literal question mark)"
            };
            return Err(err(t.0, what));
        }
    }
    Ok(())
}

/// RFC 5646 subset used by CPE: `2*3ALPHA ["-" (2ALPHA / 3DIGIT)]`.
fn valid_language_tag(s: &str) -> bool {
    let (lang, region) = match s.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (s, None),
    };
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|c| c.is_ascii_alphabetic());
    let region_ok = match region {
        None => true,
        Some(r) => {
            (r.len() == 2 && r.bytes().all(|c| c.is_ascii_alphabetic()))
                || (r.len() == 3 && r.bytes().all(|c| c.is_ascii_digit()))
        }
    };
    lang_ok && region_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_quotes_everything_but_alnum_and_underscore() {
        assert_eq!(
            AttrValue::literal("foo_bar-1.0*"),
            AttrValue::Value("foo_bar\\-1\\.0\\*".into())
        );
        assert_eq!(AttrValue::literal("a.b").unquoted().as_deref(), Some("a.b"));
    }

    #[test]
    fn set_validates_values() {
        let mut w = Wfn::new();
        assert!(
            w.set(Attribute::Part, AttrValue::Value("x".into()))
                .is_err()
        );
        assert!(
            w.set(Attribute::Vendor, AttrValue::Value("a.b".into()))
                .is_err()
        );
        assert!(
            w.set(Attribute::Vendor, AttrValue::Value("a\\.b".into()))
                .is_ok()
        );
        assert!(
            w.set(Attribute::Product, AttrValue::Value("a*b".into()))
                .is_err()
        );
        assert!(
            w.set(Attribute::Product, AttrValue::Value("??ab*".into()))
                .is_ok()
        );
        assert!(
            w.set(Attribute::Language, AttrValue::Value("en\\-us".into()))
                .is_ok()
        );
        assert!(
            w.set(Attribute::Language, AttrValue::Value("english".into()))
                .is_err()
        );
    }

    #[test]
    fn language_tags() {
        assert!(valid_language_tag("en"));
        assert!(valid_language_tag("en-us"));
        assert!(valid_language_tag("es-419"));
        assert!(!valid_language_tag("e"));
        assert!(!valid_language_tag("en-u"));
        assert!(!valid_language_tag("en-us-x"));
    }
}
