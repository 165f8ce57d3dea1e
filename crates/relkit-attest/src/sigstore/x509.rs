//! Keys and certificates: P-256/P-384/ed25519/RSA verification, Fulcio chains to the trusted
//! CAs at a signing time, and the signing certificate's identity under the Sigstore profile.

use super::*;

/// Fulcio extension: OIDC issuer (v1, raw string value).
pub(super) const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio extension: OIDC issuer (v2, DER UTF8String value).
pub(super) const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
pub(super) const OID_SAN: &str = "2.5.29.17";
pub(super) const OID_EKU: &str = "2.5.29.37";
pub(super) const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
pub(super) const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub(super) const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";

/// A public key found in a certificate or a trusted root.
pub(super) enum AnyKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA (PKCS #1 v1.5 signatures): modulus, public exponent, modulus length in bytes.
    Rsa(num_bigint::BigUint, num_bigint::BigUint, usize),
}

pub(super) const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
pub(super) const OID_RSA_SHA256: &str = "1.2.840.113549.1.1.11";
pub(super) const OID_RSA_SHA384: &str = "1.2.840.113549.1.1.12";
pub(super) const OID_RSA_SHA512: &str = "1.2.840.113549.1.1.13";

/// The DER DigestInfo prefix of PKCS #1 v1.5 (RFC 8017 §9.2 note 1) for a digest length.
pub(super) fn digest_info_prefix(digest_len: usize) -> Option<&'static [u8]> {
    Some(match digest_len {
        32 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        48 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        64 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => return None,
    })
}

impl AnyKey {
    /// An RSA key from an SPKI whose algorithm is rsaEncryption.
    pub(super) fn rsa_from_spki_der(der: &[u8]) -> Option<Self> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der).ok()?;
        if spki.algorithm.oid.to_string() != OID_RSA_ENCRYPTION {
            return None;
        }
        let bits = spki.subject_public_key.as_bytes()?;
        let mut r = der::SliceReader::new(bits).ok()?;
        let (n, e) = der::Reader::sequence(&mut r, |r| {
            let n = der::asn1::UintRef::decode(r)?;
            let e = der::asn1::UintRef::decode(r)?;
            Ok((n.as_bytes().to_vec(), e.as_bytes().to_vec()))
        })
        .ok()?;
        let n = num_bigint::BigUint::from_bytes_be(&n);
        let len = n.bits().div_ceil(8) as usize;
        (len >= 256).then(|| AnyKey::Rsa(n, num_bigint::BigUint::from_bytes_be(&e), len))
    }

    /// RSASSA-PKCS1-v1_5 verification by re-encoding (RFC 8017 §8.2.2): the signature
    /// raised to e mod n must equal 00 01 FF…FF 00 DigestInfo(digest) byte for byte.
    pub(super) fn verify_rsa_pkcs1(&self, digest: &[u8], sig: &[u8]) -> bool {
        let AnyKey::Rsa(n, e, k) = self else {
            return false;
        };
        let Some(prefix) = digest_info_prefix(digest.len()) else {
            return false;
        };
        let t_len = prefix.len() + digest.len();
        if sig.len() != *k || *k < t_len + 11 {
            return false;
        }
        let s = num_bigint::BigUint::from_bytes_be(sig);
        if &s >= n {
            return false;
        }
        let m = s.modpow(e, n).to_bytes_be();
        let mut em = vec![0u8; k - m.len()];
        em.extend_from_slice(&m);
        let mut want = vec![0x00, 0x01];
        want.resize(k - t_len - 1, 0xff);
        want.push(0x00);
        want.extend_from_slice(prefix);
        want.extend_from_slice(digest);
        em == want
    }

    pub(super) fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        use p256::pkcs8::DecodePublicKey;
        if let Some(k) = Self::rsa_from_spki_der(der) {
            return Ok(k);
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::P384(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(AnyKey::Ed25519(k));
        }
        Err(fail(
            "unsupported public key algorithm (P-256, P-384, ed25519 and RSA ≥ 2048 bits are supported)",
        ))
    }

    /// Verifies an ECDSA DER signature over a prehashed digest (any length ≥ half the field).
    pub(super) fn verify_prehash(&self, digest: &[u8], sig: &[u8]) -> bool {
        match self {
            AnyKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            AnyKey::P384(k) => p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| k.verify_prehash(digest, &s).is_ok()),
            AnyKey::Ed25519(_) | AnyKey::Rsa(..) => false,
        }
    }

    /// Verifies a signature over a message, hashing with SHA-256 for ECDSA.
    pub(super) fn verify_message_sha256(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            AnyKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            AnyKey::Rsa(..) => self.verify_rsa_pkcs1(&Sha256::digest(msg), sig),
            _ => self.verify_prehash(&Sha256::digest(msg), sig),
        }
    }
}

pub(super) fn cert_key(cert: &Certificate) -> Result<AnyKey, Error> {
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| fail_from("certificate public key", e))?;
    AnyKey::from_spki_der(&spki)
}

/// Checks that `parent` signed `child` (ECDSA with SHA-256 or SHA-384).
pub(super) fn verify_cert_signature(
    child: &Certificate,
    parent: &Certificate,
) -> Result<(), Error> {
    if child.tbs_certificate.issuer != parent.tbs_certificate.subject {
        return Err(fail("certificate issuer does not match the CA subject"));
    }
    let tbs = child
        .tbs_certificate
        .to_der()
        .map_err(|e| fail_from("certificate", e))?;
    let oid = child.signature_algorithm.oid.to_string();
    let (rsa, digest): (bool, Vec<u8>) = match oid.as_str() {
        OID_ECDSA_SHA256 => (false, Sha256::digest(&tbs).to_vec()),
        OID_ECDSA_SHA384 => (false, Sha384::digest(&tbs).to_vec()),
        OID_RSA_SHA256 => (true, Sha256::digest(&tbs).to_vec()),
        OID_RSA_SHA384 => (true, Sha384::digest(&tbs).to_vec()),
        OID_RSA_SHA512 => (true, sha2::Sha512::digest(&tbs).to_vec()),
        other => {
            return Err(fail(format!(
                "unsupported certificate signature algorithm {other}"
            )));
        }
    };
    let sig = child.signature.raw_bytes();
    let key = cert_key(parent)?;
    let ok = if rsa {
        key.verify_rsa_pkcs1(&digest, sig)
    } else {
        key.verify_prehash(&digest, sig)
    };
    if ok {
        Ok(())
    } else {
        Err(fail(
            "certificate signature does not verify with the CA key",
        ))
    }
}

pub(super) fn cert_validity(cert: &Certificate) -> (i64, i64) {
    let v = &cert.tbs_certificate.validity;
    (
        v.not_before.to_unix_duration().as_secs() as i64,
        v.not_after.to_unix_duration().as_secs() as i64,
    )
}

/// Verifies the leaf against the trusted CAs at time `t`; returns the CA URI.
/// Verifies the leaf against the trusted CAs at time `t`; returns the CA URI and the
/// issuing certificate (for the SCT's issuer key hash).
pub(super) fn verify_chain(
    leaf: &Certificate,
    root: &TrustedRoot,
    t: i64,
) -> Result<(String, Certificate), Error> {
    let (nb, na) = cert_validity(leaf);
    if t < nb || t > na {
        return Err(fail(format!(
            "the signing certificate was not valid at the proven signing time {} (valid {} to {})",
            fmt_time(t),
            fmt_time(nb),
            fmt_time(na)
        )));
    }
    let mut reasons = Vec::new();
    for ca in &root.certificate_authorities {
        if !valid_at(&ca.valid_for, t)? {
            continue;
        }
        let mut chain = Vec::new();
        for c in &ca.cert_chain.certificates {
            let der = b64(&c.raw_bytes, "trusted root certificate")?;
            chain.push(
                Certificate::from_der(&der)
                    .map_err(|e| Error::format_caused("trusted root certificate", e))?,
            );
        }
        let mut child = leaf;
        let mut ok = true;
        for parent in &chain {
            let (pb, pa) = cert_validity(parent);
            if let Err(e) = verify_cert_signature(child, parent) {
                reasons.push(format!("{}: {}", ca.uri, e.chain_text()));
                ok = false;
                break;
            }
            if t < pb || t > pa {
                reasons.push(format!(
                    "{}: CA certificate not valid at {}",
                    ca.uri,
                    fmt_time(t)
                ));
                ok = false;
                break;
            }
            child = parent;
        }
        if ok && let Some(last) = chain.last() {
            // The anchor must be self-signed.
            if verify_cert_signature(last, last).is_ok() {
                return Ok((ca.uri.clone(), chain[0].clone()));
            }
            reasons.push(format!("{}: root is not self-signed", ca.uri));
        }
    }
    Err(fail(format!(
        "the signing certificate does not chain to any Fulcio CA of the trusted root valid at {}{}",
        fmt_time(t),
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    )))
}

/// Sigstore's other-name SAN type (a UTF8String identity, e.g. for SPIFFE-less usernames).
pub(super) const OID_OTHERNAME_SIGSTORE: &str = "1.3.6.1.4.1.57264.1.7";
pub(super) const OID_KEY_USAGE: &str = "2.5.29.15";
pub(super) const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";

/// The signing certificate's identity SANs and OIDC issuer, after the Sigstore X.509
/// profile checks (digitalSignature key usage, codeSigning EKU, not a CA).
pub(super) fn leaf_identity(leaf: &Certificate) -> Result<(Vec<String>, String), Error> {
    let mut identities = Vec::new();
    let mut issuer_v1 = None;
    let mut issuer_v2 = None;
    let mut code_signing = false;
    let mut digital_signature = false;
    for ext in leaf.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_SAN => {
                let san =
                    SubjectAltName::from_der(value).map_err(|e| fail_from("certificate SAN", e))?;
                for name in san.0 {
                    match name {
                        GeneralName::Rfc822Name(s) => identities.push(s.to_string()),
                        GeneralName::UniformResourceIdentifier(s) => identities.push(s.to_string()),
                        GeneralName::OtherName(o)
                            if o.type_id.to_string() == OID_OTHERNAME_SIGSTORE =>
                        {
                            let v = o
                                .value
                                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                                .map_err(|e| fail_from("certificate other-name SAN", e))?;
                            identities.push(v.as_str().to_string());
                        }
                        _ => {}
                    }
                }
            }
            OID_EKU => {
                let eku = ExtendedKeyUsage::from_der(value)
                    .map_err(|e| fail_from("certificate extended key usage", e))?;
                code_signing = eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING);
            }
            OID_KEY_USAGE => {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(value)
                    .map_err(|e| fail_from("certificate key usage", e))?;
                digital_signature = ku.digital_signature();
            }
            OID_ISSUER_V1 => issuer_v1 = Some(String::from_utf8_lossy(value).into_owned()),
            OID_ISSUER_V2 => {
                let s = der::asn1::Utf8StringRef::from_der(value)
                    .map_err(|e| fail_from("certificate issuer extension", e))?;
                issuer_v2 = Some(s.as_str().to_string());
            }
            _ => {}
        }
    }
    if is_ca(leaf)? {
        return Err(fail(
            "the signing certificate is a CA certificate, not a leaf",
        ));
    }
    if !digital_signature {
        return Err(fail(
            "the signing certificate's key usage is not digitalSignature",
        ));
    }
    if !code_signing {
        return Err(fail(
            "the signing certificate is not for code signing (no codeSigning EKU)",
        ));
    }
    if identities.is_empty() {
        return Err(fail(
            "the signing certificate has no e-mail, URI or Sigstore identity SAN",
        ));
    }
    let issuer = issuer_v2
        .or(issuer_v1)
        .ok_or_else(|| fail("the signing certificate has no OIDC issuer extension"))?;
    Ok((identities, issuer))
}

/// Whether a certificate is a CA (basicConstraints cA, or keyCertSign key usage).
pub(super) fn is_ca(cert: &Certificate) -> Result<bool, Error> {
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        let value = ext.extn_value.as_bytes();
        match ext.extn_id.to_string().as_str() {
            OID_BASIC_CONSTRAINTS => {
                let bc = x509_cert::ext::pkix::BasicConstraints::from_der(value)
                    .map_err(|e| fail_from("certificate basic constraints", e))?;
                if bc.ca {
                    return Ok(true);
                }
            }
            OID_KEY_USAGE => {
                let ku = x509_cert::ext::pkix::KeyUsage::from_der(value)
                    .map_err(|e| fail_from("certificate key usage", e))?;
                if ku.key_cert_sign() {
                    return Ok(true);
                }
            }
            _ => {}
        }
    }
    Ok(false)
}
