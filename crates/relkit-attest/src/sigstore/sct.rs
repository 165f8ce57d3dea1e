//! Embedded signed certificate timestamps (RFC 6962 §3.2) of Fulcio certificates.

use super::*;

pub(super) const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

/// Verifies an embedded SCT (RFC 6962 §3.2, precertificate entry) of the leaf against the
/// trusted CT logs; returns the CT log URL. The signed data is the leaf's TBSCertificate
/// without the SCT list extension, prefixed by the SHA-256 of the issuer's public key.
pub(super) fn verify_sct(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<String, Error> {
    let exts = leaf
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default();
    let sct_ext = exts
        .iter()
        .find(|e| e.extn_id.to_string() == OID_SCT_LIST)
        .ok_or_else(|| {
            fail("the signing certificate has no embedded SCT (certificate transparency)")
        })?;
    let list = der::asn1::OctetString::from_der(sct_ext.extn_value.as_bytes())
        .map_err(|e| fail_from("SCT list", e))?;
    let list = list.as_bytes();
    let bad = || fail("SCT list: malformed TLS encoding");
    let u16_at = |b: &[u8], i: usize| -> Result<usize, Error> {
        Ok(
            u16::from_be_bytes([*b.get(i).ok_or_else(bad)?, *b.get(i + 1).ok_or_else(bad)?])
                as usize,
        )
    };
    if u16_at(list, 0)? + 2 != list.len() {
        return Err(bad());
    }
    let mut tbs = leaf.tbs_certificate.clone();
    tbs.extensions = Some(
        exts.iter()
            .filter(|e| e.extn_id.to_string() != OID_SCT_LIST)
            .cloned()
            .collect(),
    );
    let tbs_der = tbs
        .to_der()
        .map_err(|e| fail_from("SCT: re-encoding the certificate", e))?;
    let issuer_spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| fail_from("SCT: issuer key", e))?;
    let issuer_key_hash = Sha256::digest(&issuer_spki);
    let mut pos = 2;
    let mut reasons = Vec::new();
    while pos < list.len() {
        let len = u16_at(list, pos)?;
        let sct = list.get(pos + 2..pos + 2 + len).ok_or_else(bad)?;
        pos += 2 + len;
        // version(1) log_id(32) timestamp(8) extensions(2+n) hash(1) sig(1) sig_len(2) sig
        if sct.len() < 47 || sct[0] != 0 {
            reasons.push("unsupported SCT version".to_string());
            continue;
        }
        let log_id = &sct[1..33];
        let timestamp = &sct[33..41];
        let ext_len = u16_at(sct, 41)?;
        let ext = sct.get(43..43 + ext_len).ok_or_else(bad)?;
        let rest = &sct[43 + ext_len..];
        if rest.len() < 4 || u16_at(rest, 2)? + 4 != rest.len() {
            return Err(bad());
        }
        let sig = &rest[4..];
        let Some(log) = root
            .ctlogs
            .iter()
            .find(|l| B64.decode(&l.log_id.key_id).is_ok_and(|k| k == log_id))
        else {
            reasons.push(format!(
                "SCT from a CT log not in the trusted root ({})",
                B64.encode(log_id)
            ));
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_key_hash);
        let n = tbs_der.len();
        signed.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        signed.extend_from_slice(&tbs_der);
        signed.extend_from_slice(&(ext_len as u16).to_be_bytes());
        signed.extend_from_slice(ext);
        let key = AnyKey::from_spki_der(&b64(&log.public_key.raw_bytes, "trusted CT log key")?)?;
        if key.verify_message_sha256(&signed, sig) {
            return Ok(log.base_url.clone());
        }
        reasons.push(format!(
            "the SCT signature of {} does not verify",
            log.base_url
        ));
    }
    Err(fail(format!(
        "no embedded SCT of the signing certificate verifies against a trusted CT log ({})",
        reasons.join("; ")
    )))
}
