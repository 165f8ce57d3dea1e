//! Who signed a release tag: the issuer of the OpenPGP signature in an annotated tag.
//!
//! A small hand parser rather than an OpenPGP crate: only the first Signature packet's
//! subpackets are needed (RFC 4880 / RFC 9580: issuer key id, subpacket 16; issuer
//! fingerprint, subpacket 33; creation time, subpacket 2), nothing is verified (that needs the
//! public keys and is `gpg`'s job), and the OpenPGP crates (sequoia, pgp) bring a full
//! cryptographic stack for it. Unknown packets and versions are reported as unreadable, never
//! guessed.

use serde::Serialize;

/// What a signature says about its issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issuer {
    /// The 64-bit key id, 16 upper-case hex digits (from subpacket 16, or the last 8 bytes
    /// of a v4 fingerprint, or the v3 signature's key id field).
    pub key_id: String,
    /// The issuer fingerprint (subpacket 33), upper-case hex, when present.
    pub fingerprint: Option<String>,
    /// Signature creation time (Unix seconds), when present.
    pub created: Option<i64>,
}

/// The ASCII-armored signature block inside a tag message, if any.
pub fn armored_block(message: &[u8]) -> Option<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN PGP SIGNATURE-----";
    let start = message.windows(BEGIN.len()).position(|w| w == BEGIN)?;
    Some(&message[start..])
}

/// Decodes an ASCII-armored block (headers skipped, checksum line dropped) to bytes.
pub fn dearmor(armored: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(armored).map_err(|_| "armor is not UTF-8".to_string())?;
    let mut lines = text.lines().map(str::trim_end);
    match lines.next() {
        Some(l) if l.starts_with("-----BEGIN PGP") => {}
        _ => return Err("no armor header line".into()),
    }
    // Armor headers ("Version: …", "Comment: …") end at the first blank line.
    let mut body = String::new();
    let mut in_headers = true;
    for line in lines {
        if line.starts_with("-----END PGP") {
            return base64(&body);
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if !line.contains(": ") {
                in_headers = false;
                body.push_str(line);
            }
            continue;
        }
        if line.starts_with('=') {
            continue; // CRC-24 checksum
        }
        body.push_str(line.trim());
    }
    Err("armor has no END line".into())
}

fn base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return Err(format!("invalid base64 character {:?}", c as char)),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// The issuer of the first packet of `data`, which must be a Signature packet.
pub fn issuer(data: &[u8]) -> Result<Issuer, String> {
    let (tag, body) = first_packet(data)?;
    if tag != 2 {
        return Err(format!(
            "first packet is of type {tag}, not a signature (2)"
        ));
    }
    let version = *body.first().ok_or("empty signature packet")?;
    match version {
        3 => {
            // v3: version, hashed length (5), type, time(4), key id(8), …
            let key = body.get(7..15).ok_or("truncated v3 signature")?;
            let time = body.get(3..7).ok_or("truncated v3 signature")?;
            Ok(Issuer {
                key_id: hex_upper(key),
                fingerprint: None,
                created: Some(i64::from(u32::from_be_bytes(
                    time.try_into().expect("4 bytes"),
                ))),
            })
        }
        4..=6 => {
            // version, type, public-key algorithm, hash algorithm, then the hashed and the
            // unhashed subpacket areas (2-byte lengths in v4, 4-byte in v5/v6).
            let wide = version != 4;
            let mut pos = 4;
            let mut found = Issuer {
                key_id: String::new(),
                fingerprint: None,
                created: None,
            };
            for _area in 0..2 {
                let len_bytes = if wide { 4 } else { 2 };
                let len = body
                    .get(pos..pos + len_bytes)
                    .ok_or("truncated subpacket area")?
                    .iter()
                    .fold(0usize, |a, &b| (a << 8) | usize::from(b));
                pos += len_bytes;
                let area = body.get(pos..pos + len).ok_or("truncated subpacket area")?;
                subpackets(area, &mut found)?;
                pos += len;
            }
            if found.key_id.is_empty() {
                if let Some(fp) = &found.fingerprint {
                    // A v4 key id is the fingerprint's low 64 bits; v5/v6 use its high 64.
                    found.key_id = if fp.len() == 40 {
                        fp[24..].to_string()
                    } else {
                        fp[..16].to_string()
                    };
                } else {
                    return Err("signature names no issuer (no subpacket 16 or 33)".into());
                }
            }
            Ok(found)
        }
        v => Err(format!("unsupported signature version {v}")),
    }
}

fn subpackets(mut area: &[u8], found: &mut Issuer) -> Result<(), String> {
    while !area.is_empty() {
        let (len, head) = match area[0] {
            0..=191 => (usize::from(area[0]), 1),
            192..=254 => {
                let b = *area.get(1).ok_or("truncated subpacket length")?;
                (
                    ((usize::from(area[0]) - 192) << 8) + usize::from(b) + 192,
                    2,
                )
            }
            255 => {
                let b = area.get(1..5).ok_or("truncated subpacket length")?;
                (
                    u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize,
                    5,
                )
            }
        };
        let sub = area
            .get(head..head + len)
            .ok_or("subpacket longer than its area")?;
        let (&kind, data) = sub.split_first().ok_or("empty subpacket")?;
        match kind & 0x7f {
            2 if data.len() == 4 => {
                found.created = Some(i64::from(u32::from_be_bytes(
                    data.try_into().expect("4 bytes"),
                )));
            }
            16 if data.len() == 8 => found.key_id = hex_upper(data),
            33 if data.len() > 1 => found.fingerprint = Some(hex_upper(&data[1..])),
            _ => {}
        }
        area = &area[head + len..];
    }
    Ok(())
}

/// The tag and body of the first OpenPGP packet (old and new header formats).
fn first_packet(data: &[u8]) -> Result<(u8, &[u8]), String> {
    let &h = data.first().ok_or("no packet")?;
    if h & 0x80 == 0 {
        return Err("not an OpenPGP packet (bit 7 of the header is clear)".into());
    }
    let (tag, len, head) = if h & 0x40 == 0 {
        let tag = (h >> 2) & 0x0f;
        let n = match h & 3 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => return Ok((tag, &data[1..])), // indeterminate length: the rest
        };
        let b = data.get(1..1 + n).ok_or("truncated packet header")?;
        (
            tag,
            b.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x)),
            1 + n,
        )
    } else {
        let tag = h & 0x3f;
        let o1 = *data.get(1).ok_or("truncated packet header")?;
        match o1 {
            0..=191 => (tag, usize::from(o1), 2),
            192..=223 => {
                let o2 = *data.get(2).ok_or("truncated packet header")?;
                (
                    tag,
                    ((usize::from(o1) - 192) << 8) + usize::from(o2) + 192,
                    3,
                )
            }
            255 => {
                let b = data.get(2..6).ok_or("truncated packet header")?;
                (
                    tag,
                    u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize,
                    6,
                )
            }
            _ => return Err("partial body lengths are not used by signatures".into()),
        }
    };
    let body = data
        .get(head..head + len)
        .ok_or("packet longer than the data")?;
    Ok((tag, body))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The issuer of the signature in a tag message, `Ok(None)` when the tag is not signed.
pub fn tag_signer(message: &[u8]) -> Result<Option<Issuer>, String> {
    match armored_block(message) {
        None => Ok(None),
        Some(block) => issuer(&dearmor(block)?).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xz's v5.2.5 tag (2020-03-17): Lasse Collin's key 38EE757D69184620.
    const XZ_525: &str = "-----BEGIN PGP SIGNATURE-----

iQJNBAABCgA3FiEENpDCQM5RtGcNMK0cOO51fWkYRiAFAl5xHS4ZHGxhc3NlLmNv
bGxpbkB0dWthYW5pLm9yZwAKCRA47nV9aRhGIJ9bD/94kkm5aRdQGgIOr1Lk1/I9
YkQFCRig/pm5bTTr0VpAqlogjnrwYi8BdhCpBC19cWuAre3T6wtMPIMFpEEoXBG9
LOO3f6KkNeFQPVFOiNEJBCRNvszYYm3N33Z9U37nDEgqMODgkzaffeHDGxfOlcYv
ogZX+B9okFem9UF4/bwI+ae3JvikSvDJnBZyN1rBsZOTW2ygBt+K7KJG3ltcarO8
LOIZYelqmg4qvk+ANOHN697JfBV+oCQpakjFLp/g7fqvnGAZWL3kw9KsvWpihfxL
DcujGUSwEj6AVvOaxXfS3vwlHrjl3ixioQuJjp+XOTonB4aE5qeFsJiHEhMd08Sc
a8X0NjCpYpdROg3laox93zqpIpwiMCA9qPqEvcA5z9XhQWyjCTWBz0Mpf8vrFxJG
7wJlbv0xIsxkovE4Q6+8xAhFVqrjhiBCZkRRz6oy2+A9t2sh0nNys0nUuk7M5/5T
lhKflYN2UNkiq4mwQpYY59PKcpwvnzspo6xbqi2I6cK8/e1NVgHs3IiFalbRvk+U
8bFBxplh9ZAZSJUrNK7yhuJLzYSfBFzPBwFt4oIrLAu7xjEBzcr3+RpeiVB8gHZi
aTyhaooTGwgQw34zzgaQ7k0Ueh4bEkS+iCJN5nSugBFGXEF1XMZNmVUeDByo1bQZ
UvPVU6O8bMnV86iv+R7eeA==
=bgjN
-----END PGP SIGNATURE-----
";

    #[test]
    fn xz_525_tag_signature_names_lasse_collins_key() {
        let msg = format!("XZ Utils 5.2.5\n{XZ_525}");
        let i = tag_signer(msg.as_bytes()).unwrap().unwrap();
        assert_eq!(i.key_id, "38EE757D69184620");
        assert_eq!(
            i.fingerprint.as_deref(),
            Some("3690C240CE51B4670D30AD1C38EE757D69184620")
        );
        assert_eq!(i.created, Some(1_584_471_342));
        assert_eq!(tag_signer(b"XZ Utils 5.2.5\n").unwrap(), None);
        let broken = msg.replace("iQJNBAAB", "iQJNBA");
        assert!(tag_signer(broken.as_bytes()).is_err());
    }
}
