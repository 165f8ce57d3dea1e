//! The CPE 2.2-compatible URI binding (NISTIR 7695 §6.1): `cpe:/part:vendor:product:…`,
//! with the extended attributes packed into the edition as `~ed~sw~tsw~thw~other`.

use super::{
    AttrValue, Attribute, CpeError, Wfn, check_charset, check_wildcard_placement,
    validate_wfn_value,
};

const PREFIX_LEN: usize = "cpe:/".len();

/// Binds a WFN to a URI (§6.1.2), trimming trailing empty components.
pub(super) fn bind(wfn: &Wfn) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("cpe:/");
    for attr in [
        Attribute::Part,
        Attribute::Vendor,
        Attribute::Product,
        Attribute::Version,
        Attribute::Update,
        Attribute::Edition,
        Attribute::Language,
    ] {
        if attr == Attribute::Edition {
            let ext = [
                Attribute::SwEdition,
                Attribute::TargetSw,
                Attribute::TargetHw,
                Attribute::Other,
            ];
            if ext.iter().all(|a| *wfn.get(*a) == AttrValue::Any) {
                push_uri_value(&mut out, wfn.get(attr));
            } else {
                out.push('~');
                push_uri_value(&mut out, wfn.get(attr));
                for a in ext {
                    out.push('~');
                    push_uri_value(&mut out, wfn.get(a));
                }
            }
        } else {
            push_uri_value(&mut out, wfn.get(attr));
        }
        out.push(':');
    }
    while out.ends_with(':') {
        out.pop();
    }
    out
}

/// `bind_value_for_URI` / `transform_for_uri`.
fn push_uri_value(out: &mut String, v: &AttrValue) {
    let s = match v {
        AttrValue::Any => return,
        AttrValue::Na => {
            out.push('-');
            return;
        }
        // A literal lone hyphen is encoded, or it would read back as NA.
        AttrValue::Value(s) if s == "\\-" => {
            out.push_str("%2d");
            return;
        }
        AttrValue::Value(s) => s,
    };
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    pct_encode(out, n);
                }
            }
            '?' => out.push_str("%01"),
            '*' => out.push_str("%02"),
            _ => out.push(c),
        }
    }
}

/// `pct_encode`: `-` and `.` stay as they are, other punctuation becomes `%xx` (lowercase).
fn pct_encode(out: &mut String, c: char) {
    match c {
        '-' | '.' => out.push(c),
        _ => {
            use std::fmt::Write;
            let _ = write!(out, "%{:02x}", c as u32);
        }
    }
}

/// Unbinds a URI (§6.1.3): lowercases, decodes percent-encoding and unpacks the edition.
pub(super) fn unbind(input: &str) -> Result<Wfn, CpeError> {
    check_charset(input)?;
    if !super::starts_with_ignore_case(input, "cpe:/") {
        return Err(CpeError::UnknownPrefix);
    }
    let lower = input.to_ascii_lowercase();
    let rest = &lower[PREFIX_LEN..];
    let mut comps: Vec<(usize, &str)> = Vec::with_capacity(7);
    let mut pos = PREFIX_LEN;
    for c in rest.split(':') {
        comps.push((pos, c));
        pos += c.len() + 1;
    }
    if comps.len() > 7 {
        return Err(CpeError::UriComponentCount { found: comps.len() });
    }
    let mut wfn = Wfn::new();
    for (attr, (offset, s)) in Attribute::ALL.into_iter().zip(comps) {
        if attr == Attribute::Edition && s.starts_with('~') {
            let fields: Vec<&str> = s[1..].split('~').collect();
            if fields.len() != 5 {
                return Err(CpeError::InvalidAttribute {
                    attribute: attr,
                    position: offset,
                    reason: format!(
                        "a packed edition needs exactly 5 fields (~edition~sw_edition~target_sw~target_hw~other), found {}",
                        fields.len()
                    ),
                });
            }
            let mut field_offset = offset + 1;
            for (a, f) in [
                Attribute::Edition,
                Attribute::SwEdition,
                Attribute::TargetSw,
                Attribute::TargetHw,
                Attribute::Other,
            ]
            .into_iter()
            .zip(fields)
            {
                wfn.put(a, decode(a, f, field_offset)?);
                field_offset += f.len() + 1;
            }
        } else {
            wfn.put(attr, decode(attr, s, offset)?);
        }
    }
    Ok(wfn)
}

/// `decode`: one URI component to a WFN value.
fn decode(attr: Attribute, s: &str, offset: usize) -> Result<AttrValue, CpeError> {
    let err = |pos: usize, reason: String| CpeError::InvalidAttribute {
        attribute: attr,
        position: offset + pos,
        reason,
    };
    match s {
        "" => return Ok(AttrValue::Any),
        "-" => return Ok(AttrValue::Na),
        _ => {}
    }
    let b = s.as_bytes();
    // (position, character, quoted); unquoted '*'/'?' come only from %02/%01.
    let mut tokens: Vec<(usize, u8, bool)> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || c == b'_' {
            tokens.push((i, c, false));
            i += 1;
        } else if matches!(c, b'.' | b'-' | b'~') {
            tokens.push((i, c, true));
            i += 1;
        } else if c == b'%' {
            let hex = s.get(i + 1..i + 3).filter(|h| h.len() == 2);
            let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                return Err(err(i, "'%' must be followed by two hex digits".into()));
            };
            match v {
                0x01 => tokens.push((i, b'?', false)),
                0x02 => tokens.push((i, b'*', false)),
                _ if v.is_ascii_graphic() => {
                    let quoted = !(v.is_ascii_alphanumeric() || v == b'_');
                    tokens.push((i, v, quoted));
                }
                _ => {
                    return Err(err(
                        i,
                        format!("%{:02x} does not encode a printable character", v),
                    ));
                }
            }
            i += 3;
        } else {
            return Err(err(
                i,
                format!("'{}' must be percent-encoded in a URI", c as char),
            ));
        }
    }
    check_wildcard_placement(&tokens, |pos, reason| {
        err(pos, reason.replace("'*'", "%02").replace("'?'", "%01"))
    })?;
    let mut wfn = String::with_capacity(s.len() + 4);
    for &(_, c, quoted) in &tokens {
        if quoted {
            wfn.push('\\');
        }
        wfn.push(c as char);
    }
    if wfn == "*" {
        return Ok(AttrValue::Any);
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
    fn packed_edition_needs_five_fields() {
        let e = Wfn::from_uri("cpe:/a:foo:bar:1.0::~a~b~c~d").unwrap_err();
        assert!(matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Edition,
                position: 20,
                ..
            }
        ));
    }

    #[test]
    fn raw_punctuation_is_rejected_with_position() {
        let e = Wfn::from_uri("cpe:/a:foo:b/r").unwrap_err();
        assert!(matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Product,
                position: 12,
                ..
            }
        ));
        assert!(Wfn::from_uri("cpe:/a:foo:bar:1.0:::en-us:x").is_err());
    }
}
