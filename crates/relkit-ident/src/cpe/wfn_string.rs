//! The WFN string notation of NISTIR 7695 §5.4: `wfn:[part="a",vendor="microsoft",…]`.
//! Omitted attributes are ANY; values are `ANY`, `NA` or a double-quoted WFN string.

use super::{AttrValue, Attribute, CpeError, Wfn, validate_wfn_value};

/// Writes all 11 attributes, ANY and NA unquoted.
pub(super) fn write(wfn: &Wfn) -> String {
    let mut out = String::from("wfn:[");
    for (i, (a, v)) in wfn.attributes().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(a.name());
        out.push('=');
        out.push_str(&v.to_string());
    }
    out.push(']');
    out
}

/// Parses a WFN string; whitespace after commas is allowed.
pub(super) fn parse(input: &str) -> Result<Wfn, CpeError> {
    let b = input.as_bytes();
    let err = |position: usize, reason: &str| CpeError::WfnSyntax {
        position,
        reason: reason.to_string(),
    };
    if !input.starts_with("wfn:[") {
        return Err(CpeError::UnknownPrefix);
    }
    let mut i = 5;
    let mut wfn = Wfn::new();
    let mut seen = [false; 11];
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i] == b' ' {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if b.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            skip_ws(&mut i);
            let name_start = i;
            while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_') {
                i += 1;
            }
            let name = &input[name_start..i];
            let Some(attr) = Attribute::from_name(name) else {
                return Err(err(name_start, &format!("unknown attribute name {name:?}")));
            };
            if std::mem::replace(&mut seen[attr as usize], true) {
                return Err(err(name_start, &format!("attribute {name} appears twice")));
            }
            if b.get(i) != Some(&b'=') {
                return Err(err(i, "expected '=' after the attribute name"));
            }
            i += 1;
            let value = if input[i..].starts_with("ANY") {
                i += 3;
                AttrValue::Any
            } else if input[i..].starts_with("NA") {
                i += 2;
                AttrValue::Na
            } else if b.get(i) == Some(&b'"') {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return Err(err(start - 1, "unterminated quoted value"));
                }
                let s = &input[start..i];
                validate_wfn_value(attr, s, start)?;
                i += 1;
                AttrValue::Value(s.to_string())
            } else {
                return Err(err(i, "expected ANY, NA or a double-quoted value"));
            };
            wfn.put(attr, value);
            skip_ws(&mut i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => return Err(err(i, "expected ',' or ']'")),
            }
        }
    }
    if i != b.len() {
        return Err(err(i, "unexpected text after ']'"));
    }
    Ok(wfn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses_with_spaces_and_defaults() {
        let w = Wfn::parse(
            r#"wfn:[part="a", vendor="microsoft", product="internet_explorer", version="8\.0\.6001", update="beta"]"#,
        )
        .unwrap();
        assert_eq!(
            w.to_fs(),
            "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*"
        );
        assert_eq!(Wfn::parse(&w.to_wfn_string()).unwrap(), w);
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            Wfn::parse(r#"wfn:[part="a",colour="red"]"#),
            Err(CpeError::WfnSyntax {
                position: 14,
                reason: "unknown attribute name \"colour\"".into()
            })
        );
        assert!(matches!(
            Wfn::parse(r#"wfn:[part="a",vendor="mi"crosoft"]"#),
            Err(CpeError::WfnSyntax { position: 25, .. })
        ));
    }
}
