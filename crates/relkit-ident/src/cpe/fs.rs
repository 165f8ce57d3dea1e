//! The CPE 2.3 formatted string binding (NISTIR 7695 §6.2): `cpe:2.3:part:vendor:…:other`.

use super::{
    AttrValue, Attribute, CpeError, Wfn, check_charset, check_wildcard_placement,
    validate_wfn_value,
};

const PREFIX_LEN: usize = "cpe:2.3:".len();

/// Binds a WFN to a formatted string (§6.2.2).
pub(super) fn bind(wfn: &Wfn) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("cpe:2.3");
    for (_, v) in wfn.attributes() {
        out.push(':');
        match v {
            AttrValue::Any => out.push('*'),
            AttrValue::Na => out.push('-'),
            // A literal lone hyphen keeps its quote, or it would read back as NA.
            AttrValue::Value(s) if s == "\\-" => out.push_str("\\-"),
            AttrValue::Value(s) => push_fs_value(&mut out, s),
        }
    }
    out
}

/// `process_quoted_chars`: `\.`, `\-` and `\_` lose their quoting, other quotes stay.
fn push_fs_value(out: &mut String, s: &str) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                if !matches!(n, '.' | '-' | '_') {
                    out.push('\\');
                }
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
}

/// Unbinds a formatted string (§6.2.3), checking it against the §6.2.5 grammar.
pub(super) fn unbind(input: &str) -> Result<Wfn, CpeError> {
    check_charset(input)?;
    if !super::starts_with_ignore_case(input, "cpe:2.3:") {
        return Err(CpeError::UnknownPrefix);
    }
    let b = input.as_bytes();
    // Split on unquoted colons, remembering where each component starts.
    let mut comps: Vec<(usize, usize)> = Vec::with_capacity(11);
    let mut start = PREFIX_LEN;
    let mut i = PREFIX_LEN;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b':' => {
                comps.push((start, i));
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    comps.push((start, b.len().min(i)));
    if comps.len() != 11 {
        return Err(CpeError::ComponentCount { found: comps.len() });
    }
    let mut wfn = Wfn::new();
    for (attr, (s, e)) in Attribute::ALL.into_iter().zip(comps) {
        wfn.put(attr, unbind_value(attr, &input[s..e], s)?);
    }
    Ok(wfn)
}

/// `unbind_value_fs`: one component to a WFN value, with grammar checks.
fn unbind_value(attr: Attribute, s: &str, offset: usize) -> Result<AttrValue, CpeError> {
    let err = |pos: usize, reason: String| CpeError::InvalidAttribute {
        attribute: attr,
        position: offset + pos,
        reason,
    };
    match s {
        "" => {
            return Err(err(
                0,
                "empty component (write * for ANY or - for NA)".into(),
            ));
        }
        "*" => return Ok(AttrValue::Any),
        "-" => return Ok(AttrValue::Na),
        _ => {}
    }
    let b = s.as_bytes();
    // (position in component, character, quoted in the input)
    let mut tokens: Vec<(usize, u8, bool)> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let Some(&n) = b.get(i + 1) else {
                return Err(err(i, "dangling escape '\\' at end of component".into()));
            };
            if n.is_ascii_alphanumeric() {
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
            if !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'*' | b'?')) {
                return Err(err(
                    i,
                    format!(
                        "'{}' must be quoted as '\\{}' in a formatted string",
                        c as char, c as char
                    ),
                ));
            }
            tokens.push((i, c, false));
            i += 1;
        }
    }
    check_wildcard_placement(&tokens, |pos, reason| err(pos, reason.to_string()))?;
    let mut wfn = String::with_capacity(s.len() + 4);
    for &(_, c, quoted) in &tokens {
        let wildcard = !quoted && (c == b'*' || c == b'?');
        if !(wildcard || c.is_ascii_alphanumeric() || c == b'_') {
            wfn.push('\\');
        }
        wfn.push(c as char);
    }
    validate_wfn_value(attr, &wfn, offset).map_err(|e| match e {
        CpeError::InvalidAttribute {
            attribute, reason, ..
        } => CpeError::InvalidAttribute {
            attribute,
            position: offset,
            reason,
        },
        other => other,
    })?;
    Ok(AttrValue::Value(wfn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_count_is_checked() {
        assert_eq!(
            Wfn::from_fs("cpe:2.3:a:foo:bar:1.0"),
            Err(CpeError::ComponentCount { found: 4 })
        );
    }

    #[test]
    fn errors_name_attribute_and_position() {
        let e = Wfn::from_fs("cpe:2.3:a:foo:b*r:1.0:*:*:*:*:*:*:*").unwrap_err();
        assert_eq!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Product,
                position: 15,
                reason: "unquoted '*' is only allowed as the first or last character (write '\\*' for a literal asterisk)".into()
            }
        );
        let e = Wfn::from_fs("cpe:2.3:a:foo:bar!:1.0:*:*:*:*:*:*:*").unwrap_err();
        assert!(matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Product,
                position: 17,
                ..
            }
        ));
        let e = Wfn::from_fs("cpe:2.3:x:foo:bar:1.0:*:*:*:*:*:*:*").unwrap_err();
        assert!(matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Part,
                position: 8,
                ..
            }
        ));
        let e = Wfn::from_fs("cpe:2.3:a:foo:bar:1.0 :*:*:*:*:*:*:*").unwrap_err();
        assert_eq!(
            e,
            CpeError::BadCharacter {
                found: ' ',
                position: 21
            }
        );
    }
}
