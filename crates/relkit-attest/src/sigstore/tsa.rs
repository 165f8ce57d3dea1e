//! RFC 3161 timestamps (CMS SignedData) over the bundle's signature, verified against the
//! timestamp authorities of the trusted root.

use super::*;

pub(super) const OID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub(super) const OID_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
pub(super) const OID_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub(super) const OID_SHA256: &str = "2.16.840.1.101.3.4.2.1";
pub(super) const OID_SHA384: &str = "2.16.840.1.101.3.4.2.2";
pub(super) const OID_SHA512: &str = "2.16.840.1.101.3.4.2.3";

pub(super) fn digest_by_oid(oid: &str, data: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(match oid {
        OID_SHA256 => Sha256::digest(data).to_vec(),
        OID_SHA384 => Sha384::digest(data).to_vec(),
        OID_SHA512 => sha2::Sha512::digest(data).to_vec(),
        other => {
            return Err(fail(format!(
                "timestamp: unsupported digest algorithm {other}"
            )));
        }
    })
}

/// Parses `YYYYMMDDHHMMSS[.fff]Z` (RFC 3161 genTime may carry fractions, which the `der`
/// crate's GeneralizedTime rejects) into Unix seconds.
pub(super) fn parse_generalized_time(s: &str) -> Result<i64, Error> {
    let bad = || fail(format!("timestamp: bad genTime {s:?}"));
    let s = s.strip_suffix('Z').ok_or_else(bad)?;
    let whole = s.split('.').next().unwrap_or_default();
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |a: usize, b: usize| whole[a..b].parse::<u32>().map_err(|_| bad());
    let month = time::Month::try_from(n(4, 6)? as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(n(0, 4)? as i32, month, n(6, 8)? as u8)
        .map_err(|_| bad())?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8)
        .map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, t)
        .assume_utc()
        .unix_timestamp())
}

/// Reads messageImprint (algorithm OID, hash) and genTime from a DER TSTInfo.
pub(super) fn parse_tst_info(tst: &[u8]) -> Result<(String, Vec<u8>, i64), Error> {
    use der::{SliceReader, Tagged};
    let e = |e: der::Error| fail_from("timestamp: TSTInfo", e);
    let mut r = SliceReader::new(tst).map_err(e)?;
    let _seq = der::Header::decode(&mut r).map_err(e)?;
    let _version = der::asn1::Int::decode(&mut r).map_err(e)?;
    let _policy = der::asn1::ObjectIdentifier::decode(&mut r).map_err(e)?;
    let _imprint = der::Header::decode(&mut r).map_err(e)?;
    let alg = spki::AlgorithmIdentifierOwned::decode(&mut r).map_err(e)?;
    let hashed = der::asn1::OctetString::decode(&mut r).map_err(e)?;
    let _serial = der::asn1::Int::decode(&mut r).map_err(e)?;
    let gen_time = der::asn1::AnyRef::decode(&mut r).map_err(e)?;
    if gen_time.tag() != der::Tag::GeneralizedTime {
        return Err(fail("timestamp: TSTInfo genTime is not a GeneralizedTime"));
    }
    let gen_time = std::str::from_utf8(gen_time.value())
        .map_err(|_| fail("timestamp: genTime is not ASCII"))?;
    Ok((
        alg.oid.to_string(),
        hashed.as_bytes().to_vec(),
        parse_generalized_time(gen_time)?,
    ))
}

/// Verifies one RFC 3161 timestamp token over `signature` against the trusted TSAs; returns
/// the time and the TSA URI.
pub(super) fn verify_timestamp(
    token: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(i64, String), Error> {
    use cms::signed_data::SignedData;
    let e = |what: &str, err: der::Error| fail_from(format!("timestamp: {what}"), err);
    let ci = content_info(token)?;
    if ci.content_type.to_string() != OID_SIGNED_DATA {
        return Err(fail("timestamp: not CMS SignedData"));
    }
    let sd = SignedData::from_der(&ci.content.to_der().map_err(|err| e("content", err))?)
        .map_err(|err| e("SignedData", err))?;
    if sd.encap_content_info.econtent_type.to_string() != OID_TST_INFO {
        return Err(fail("timestamp: the signed content is not a TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| fail("timestamp: no TSTInfo content"))?;
    if der::Tagged::tag(econtent) != der::Tag::OctetString {
        return Err(fail(
            "timestamp: the TSTInfo content is not an OCTET STRING",
        ));
    }
    let tst = econtent.value().to_vec();
    let (imprint_alg, imprint, gen_time) = parse_tst_info(&tst)?;
    if digest_by_oid(&imprint_alg, signature)? != imprint {
        return Err(fail(
            "timestamp: it does not timestamp this signature (message imprint differs)",
        ));
    }
    let (si, digest) = signer_info(&sd, &tst)?;
    trusted_tsa(root, &sd, si, &digest, gen_time)
}

/// The token's CMS ContentInfo: the TimeStampToken itself, or the one inside a whole
/// TimeStampResp whose status is a plain "granted".
fn content_info(token: &[u8]) -> Result<cms::content_info::ContentInfo, Error> {
    use cms::content_info::ContentInfo;
    let e = |what: &str, err: der::Error| fail_from(format!("timestamp: {what}"), err);
    // Bundles carry either the TimeStampToken (a ContentInfo) or the whole TimeStampResp
    // `SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }`.
    Ok(match ContentInfo::from_der(token) {
        Ok(ci) => ci,
        Err(_) => {
            use der::{Reader, SliceReader};
            let mut r = SliceReader::new(token).map_err(|err| e("not DER", err))?;
            let resp = der::Header::decode(&mut r).map_err(|err| e("TimeStampResp", err))?;
            let status_hdr = der::Header::decode(&mut r).map_err(|err| e("PKIStatusInfo", err))?;
            let resp_len = resp.encoded_len().map_err(|err| e("TimeStampResp", err))? + resp.length;
            if resp.tag != der::Tag::Sequence
                || status_hdr.tag != der::Tag::Sequence
                || resp_len.map_err(|err| e("TimeStampResp", err))?
                    != der::Length::try_from(token.len()).map_err(|err| e("TimeStampResp", err))?
            {
                return Err(fail("timestamp: malformed TimeStampResp"));
            }
            let status = der::asn1::Int::decode(&mut r).map_err(|err| e("PKIStatus", err))?;
            // Only `granted` (0) with no statusString / failInfo is accepted.
            if status.as_bytes() != [0] || status_hdr.length != der::Length::new(3) {
                return Err(fail(
                    "timestamp: the timestamp response status is not a plain \"granted\"",
                ));
            }
            let ci = ContentInfo::decode(&mut r).map_err(|err| e("not a CMS ContentInfo", err))?;
            if !r.is_finished() {
                return Err(fail("timestamp: trailing data after the timestamp token"));
            }
            ci
        }
    })
}

/// The token's one signer, checked (versions, digest algorithm, messageDigest over the
/// TSTInfo), and the digest of its signed attributes that the TSA signed.
fn signer_info<'a>(
    sd: &'a cms::signed_data::SignedData,
    tst: &[u8],
) -> Result<(&'a cms::signed_data::SignerInfo, Vec<u8>), Error> {
    let e = |what: &str, err: der::Error| fail_from(format!("timestamp: {what}"), err);
    let [si] = sd.signer_infos.0.as_slice() else {
        return Err(fail("timestamp: expected exactly one signer"));
    };
    // RFC 5652: SignedData v3 (TSTInfo content), SignerInfo v1 (issuer and serial number).
    if sd.version != cms::content_info::CmsVersion::V3
        || si.version != cms::content_info::CmsVersion::V1
    {
        return Err(fail(
            "timestamp: unexpected SignedData / SignerInfo version",
        ));
    }
    if sd.crls.is_some() || si.unsigned_attrs.is_some() {
        return Err(fail(
            "timestamp: unexpected CRLs or unsigned attributes in the token",
        ));
    }
    if !sd
        .digest_algorithms
        .iter()
        .any(|a| a.oid == si.digest_alg.oid)
    {
        return Err(fail(
            "timestamp: the signer's digest algorithm is not listed in SignedData",
        ));
    }
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| fail("timestamp: no signed attributes"))?;
    let md = attrs
        .iter()
        .find(|a| a.oid.to_string() == OID_MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .ok_or_else(|| fail("timestamp: no messageDigest attribute"))?;
    if md.value() != digest_by_oid(&si.digest_alg.oid.to_string(), tst)? {
        return Err(fail(
            "timestamp: the messageDigest attribute does not match the TSTInfo",
        ));
    }
    let signed = attrs.to_der().map_err(|err| e("signed attributes", err))?;
    let digest = match si.signature_algorithm.oid.to_string().as_str() {
        OID_ECDSA_SHA256 => Sha256::digest(&signed).to_vec(),
        OID_ECDSA_SHA384 => Sha384::digest(&signed).to_vec(),
        other => {
            return Err(fail(format!(
                "timestamp: unsupported signature algorithm {other}"
            )));
        }
    };
    Ok((si, digest))
}

/// The trusted TSA whose key signed the token (`digest` of its signed attributes), whose
/// certificates the token names, valid at `gen_time`, with a chain that verifies then.
fn trusted_tsa(
    root: &TrustedRoot,
    sd: &cms::signed_data::SignedData,
    si: &cms::signed_data::SignerInfo,
    digest: &[u8],
    gen_time: i64,
) -> Result<(i64, String), Error> {
    let mut reasons = Vec::new();
    for tsa in &root.timestamp_authorities {
        let mut chain = Vec::new();
        for c in &tsa.cert_chain.certificates {
            chain.push(
                Certificate::from_der(&b64(&c.raw_bytes, "trusted TSA certificate")?)
                    .map_err(|err| Error::format_caused("trusted root TSA certificate", err))?,
            );
        }
        let Some(leaf) = chain.first() else { continue };
        if !cert_key(leaf)?.verify_prehash(digest, si.signature.as_bytes()) {
            continue;
        }
        // The unsigned parts of the token must agree with the trusted TSA: the signer id is
        // the TSA certificate, and any embedded certificate is one of the trusted chain.
        let sid_ok = match &si.sid {
            cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
                ias.issuer == leaf.tbs_certificate.issuer
                    && ias.serial_number == leaf.tbs_certificate.serial_number
            }
            cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(_) => false,
        };
        let embedded_ok = sd
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .all(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => chain.contains(c),
                cms::cert::CertificateChoices::Other(_) => false,
            });
        if !sid_ok || !embedded_ok {
            reasons.push(format!(
                "{}: the token's signer id or embedded certificates are not the trusted TSA's",
                tsa.uri
            ));
            continue;
        }
        if !valid_at(&tsa.valid_for, gen_time)? {
            reasons.push(format!("{}: not valid at {}", tsa.uri, fmt_time(gen_time)));
            continue;
        }
        let mut ok = true;
        for pair in chain.windows(2) {
            let (nb, na) = cert_validity(&pair[0]);
            ok &= verify_cert_signature(&pair[0], &pair[1]).is_ok()
                && nb <= gen_time
                && gen_time <= na;
        }
        if let Some(last) = chain.last() {
            ok &= verify_cert_signature(last, last).is_ok();
        }
        if ok {
            return Ok((gen_time, tsa.uri.clone()));
        }
        reasons.push(format!(
            "{}: the TSA certificate chain does not verify at {}",
            tsa.uri,
            fmt_time(gen_time)
        ));
    }
    Err(fail(format!(
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root{}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join("; "))
        }
    )))
}

/// At most this many RFC 3161 timestamps are read (as sigstore-go and sigstore-python).
pub(super) const MAX_TIMESTAMPS: usize = 32;

/// Verifies every RFC 3161 timestamp of the bundle; returns their times and TSA URIs.
pub(super) fn verify_timestamps(
    data: Option<&Value>,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<(i64, String)>, Error> {
    let tokens: Vec<&str> = data
        .and_then(|d| d["rfc3161Timestamps"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t["signedTimestamp"].as_str())
        .collect();
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    if tokens.len() > MAX_TIMESTAMPS {
        return Err(fail(format!(
            "the bundle has {} RFC 3161 timestamps, more than the {MAX_TIMESTAMPS} a verifier reads",
            tokens.len()
        )));
    }
    if tokens
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        != tokens.len()
    {
        return Err(fail("the bundle has the same RFC 3161 timestamp twice"));
    }
    if root.timestamp_authorities.is_empty() {
        return Err(fail(
            "the bundle has an RFC 3161 timestamp but the trusted root has no timestamp authority to verify it",
        ));
    }
    tokens
        .into_iter()
        .map(|t| verify_timestamp(&b64(t, "signedTimestamp")?, signature, root))
        .collect()
}
