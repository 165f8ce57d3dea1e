//! Reading JSON documents with precise error positions and encoding detection.

use serde_json::Value;

use crate::error::{Error, Result};

/// Parses SBOM bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM, as tools-python does.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Value> {
    let text: std::borrow::Cow<'_, [u8]> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        rest.into()
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let s = String::from_utf16(&units).map_err(|e| Error::Json {
            origin: origin.to_string(),
            line: 1,
            column: 1,
            message: format!("invalid UTF-16: {e}"),
        })?;
        s.into_bytes().into()
    } else {
        bytes.into()
    };
    serde_json::from_slice(&text).map_err(|e| Error::Json {
        origin: origin.to_string(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    })
}

/// Reads and parses a JSON file.
pub fn read_file(path: &std::path::Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes, &path.display().to_string())
}

/// Serializes a value as pretty JSON (2-space indent, sorted keys) with a final newline.
pub fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).expect("serde_json::Value always serializes");
    out.push(b'\n');
    out
}

/// Writes bytes to `path` atomically ([`relkit_core::fs::write_atomic`]: temporary file,
/// fsync, rename; devices such as `/dev/null` written in place).
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    relkit_core::fs::write_atomic(path, bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse(b"{\n  \"a\": 1,\n  \"b\": ]\n}", "x.json").unwrap_err();
        match err {
            Error::Json { line, column, .. } => assert_eq!((line, column), (3, 8)),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "{\"a\":1}".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse(&bytes, "x").unwrap()["a"], 1);
    }
}
