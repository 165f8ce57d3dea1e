//! The Rekor transparency log: RFC 6962 inclusion proofs, signed checkpoints, signed entry
//! timestamps, and the binding of a log entry body to the bundle's signature and artifact.

use super::*;

/// RFC 6962 / RFC 9162 §2.1.3.2 inclusion proof verification.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
    root: &[u8],
) -> bool {
    if index >= size {
        return false;
    }
    let node = |l: &[u8], r: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().into()
    };
    let (mut fnode, mut snode, mut r) = (index, size - 1, leaf);
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r.as_slice() == root
}

/// RFC 6962 leaf hash.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// Verifies a signed-note checkpoint (C2SP signed note / Rekor checkpoint) with the log key;
/// returns (tree size, root hash). A signature line counts when it names the log (its host
/// name, e.g. `rekor.sigstore.dev`), its 4-byte key hint is the log id's first four bytes and
/// it verifies over the note text; other lines (witness cosignatures) are ignored.
pub(super) fn verify_checkpoint(
    note: &str,
    key: &AnyKey,
    key_id: &[u8],
    log_name: &str,
) -> Result<(u64, Vec<u8>), Error> {
    if note.matches("\n\n").count() != 1 {
        return Err(fail(
            "checkpoint: the note must have exactly one blank line between its text and its signatures",
        ));
    }
    let split = note.find("\n\n").expect("counted above");
    let body = &note[..split + 1];
    let sigs = &note[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(fail(
            "checkpoint: the signature block is empty or does not end with a newline",
        ));
    }
    let lines: Vec<&str> = body.trim().split('\n').collect();
    if lines.len() < 3 {
        return Err(fail(
            "checkpoint: the note needs an origin, a tree size and a root hash",
        ));
    }
    if lines[0].is_empty() {
        return Err(fail("checkpoint: empty origin line"));
    }
    let size = lines[1].parse::<u64>().map_err(|_| {
        fail(format!(
            "checkpoint: tree size {:?} is not an integer",
            lines[1]
        ))
    })?;
    let root = B64.decode(lines[2]).map_err(|_| {
        fail(format!(
            "checkpoint: root hash {:?} is not base64",
            lines[2]
        ))
    })?;
    let mut tried = 0;
    for sig_line in sigs.lines() {
        let Some(rest) = sig_line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let mut parts = rest.split(' ');
        let (Some(name), Some(sig_b64), None) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if name != log_name {
            continue;
        }
        let raw = B64
            .decode(sig_b64)
            .map_err(|_| fail("checkpoint: a signature is not base64"))?;
        if raw.len() < 5 {
            return Err(fail("checkpoint: a signature is too short"));
        }
        if key_id.len() < 4 || raw[..4] != key_id[..4] {
            continue;
        }
        tried += 1;
        if key.verify_message_sha256(body.as_bytes(), &raw[4..]) {
            return Ok((size, root));
        }
    }
    Err(fail(if tried == 0 {
        "checkpoint: no signature by the log (no signature line carries its name and key hint)"
            .to_string()
    } else {
        "checkpoint: the log's signature on the checkpoint does not verify".to_string()
    }))
}

/// What a verified log entry established.
pub(super) struct TlogResult {
    /// The log's URL in the trusted root.
    pub(super) log_url: String,
    /// Whether the SET verified.
    pub(super) set: bool,
    /// Whether the inclusion proof verified.
    pub(super) proof: bool,
    /// Whether a log-signed checkpoint for the proof's root verified.
    pub(super) checkpoint: bool,
    /// The log's integrated time, only when a verified SET authenticates it.
    pub(super) integrated_time: Option<i64>,
    /// Validity window of the log key, checked against the proven signing time.
    pub(super) key_valid_for: Option<ValidFor>,
}

/// Verifies one log entry against the trusted logs: inclusion proof with its signed
/// checkpoint (required from bundle v0.2 on) and the SET (required for v0.1).
pub(super) fn verify_tlog(
    entry: &TlogEntry,
    root: &TrustedRoot,
    v01: bool,
) -> Result<TlogResult, Error> {
    if !matches!(entry.kind_version.version.as_str(), "0.0.1" | "0.0.2") {
        return Err(fail(format!(
            "unsupported log entry version {} {}",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    let key_id = b64(&entry.log_id.key_id, "logId.keyId")?;
    let log = root
        .tlogs
        .iter()
        .find(|l| B64.decode(&l.log_id.key_id).is_ok_and(|k| k == key_id))
        .ok_or_else(|| {
            fail(format!(
                "the log entry is from a log ({}) that is not in the trusted root",
                entry.log_id.key_id
            ))
        })?;
    let integrated = entry
        .integrated_time
        .as_deref()
        .map(|s| parse_u64(s, "integratedTime").map(|v| v as i64))
        .transpose()?
        .filter(|t| *t != 0);
    let key = AnyKey::from_spki_der(&b64(&log.public_key.raw_bytes, "trusted log key")?)?;
    let body = b64(&entry.canonicalized_body, "canonicalizedBody")?;
    let log_index = parse_u64(&entry.log_index, "logIndex")?;
    let mut set_ok = false;
    if let Some(p) = &entry.inclusion_promise {
        let integrated = integrated.ok_or_else(|| {
            fail("the log entry has a signed entry timestamp but no integrated time")
        })?;
        // The SET signs the canonical JSON of the entry (keys sorted, no spaces).
        let payload = format!(
            "{{\"body\":{},\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
            serde_json::to_string(&B64.encode(&body)).expect("string serializes"),
            integrated,
            hex::encode(&key_id),
            log_index
        );
        let sig = b64(&p.signed_entry_timestamp, "signedEntryTimestamp")?;
        if !key.verify_message_sha256(payload.as_bytes(), &sig) {
            return Err(fail(
                "the signed entry timestamp (SET) does not verify with the log key",
            ));
        }
        set_ok = true;
    }
    let mut proof_ok = false;
    let mut checkpoint_ok = false;
    if let Some(p) = &entry.inclusion_proof {
        let index = parse_u64(&p.log_index, "inclusionProof.logIndex")?;
        let size = parse_u64(&p.tree_size, "inclusionProof.treeSize")?;
        let root_hash = b64(&p.root_hash, "inclusionProof.rootHash")?;
        let mut hashes = Vec::new();
        for h in &p.hashes {
            let v = b64(h, "inclusionProof.hashes")?;
            hashes.push(
                <[u8; 32]>::try_from(v.as_slice())
                    .map_err(|_| fail("inclusion proof hash is not 32 bytes"))?,
            );
        }
        if !verify_inclusion(index, size, leaf_hash(&body), &hashes, &root_hash) {
            return Err(fail(format!(
                "the inclusion proof does not lead from the entry (index {index}) to the root hash of the tree of size {size}"
            )));
        }
        match &p.checkpoint {
            Some(c) => {
                // The note signer name is the log's host name (e.g. rekor.sigstore.dev).
                let log_name = log
                    .base_url
                    .split_once("://")
                    .map_or(log.base_url.as_str(), |(_, rest)| rest)
                    .trim_end_matches('/');
                let (csize, croot) = verify_checkpoint(&c.envelope, &key, &key_id, log_name)?;
                if csize != size || croot != root_hash {
                    return Err(fail(
                        "the signed checkpoint is for a different tree than the inclusion proof",
                    ));
                }
                checkpoint_ok = true;
            }
            None if !v01 => {
                return Err(fail(
                    "the inclusion proof has no signed checkpoint: its root hash is unauthenticated",
                ));
            }
            None => {}
        }
        proof_ok = true;
    }
    if v01 && !set_ok {
        return Err(fail(
            "a v0.1 bundle needs the log's signed entry timestamp (inclusion promise), and it has none",
        ));
    }
    if !v01 && !proof_ok {
        return Err(fail(
            "this bundle version requires an inclusion proof, and it has none",
        ));
    }
    Ok(TlogResult {
        log_url: log.base_url.clone(),
        set: set_ok,
        proof: proof_ok,
        checkpoint: checkpoint_ok,
        integrated_time: if set_ok { integrated } else { None },
        key_valid_for: log.public_key.valid_for.clone(),
    })
}

pub(super) fn pem_to_der(pem_b64: &str) -> Result<Vec<u8>, Error> {
    let pem = String::from_utf8(b64(pem_b64, "log entry certificate or key")?)
        .map_err(|_| fail("log entry certificate or key is not PEM text"))?;
    let b: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    b64(&b, "log entry certificate PEM")
}

/// Who signed, as the log entry records it: a certificate or a public key (DER).
#[derive(Clone, Copy)]
pub(super) enum Verifier<'a> {
    Cert(&'a [u8]),
    Key(&'a [u8]),
}

impl Verifier<'_> {
    pub(super) fn der(&self) -> &[u8] {
        match self {
            Verifier::Cert(d) | Verifier::Key(d) => d,
        }
    }

    /// The DER a Rekor v2 verifier object carries for this kind of verifier.
    pub(super) fn v2_der(&self, v: &Value) -> Result<Vec<u8>, Error> {
        let raw = match self {
            Verifier::Cert(_) => v["x509Certificate"]["rawBytes"].as_str(),
            Verifier::Key(_) => v["publicKey"]["rawBytes"].as_str(),
        };
        b64(raw.unwrap_or_default(), "log entry verifier")
    }

    pub(super) fn what(&self) -> &'static str {
        match self {
            Verifier::Cert(_) => "certificate",
            Verifier::Key(_) => "public key",
        }
    }
}

/// Checks the log entry body is about this signature, certificate (or key) and artifact
/// digest: the binding that defeats CVE-2022-36056.
pub(super) fn verify_body(
    entry: &TlogEntry,
    verifier: Verifier<'_>,
    sig: &[u8],
    digest_hex: &str,
    envelope: Option<&Envelope>,
) -> Result<(), Error> {
    let body: Value = serde_json::from_slice(&b64(&entry.canonicalized_body, "canonicalizedBody")?)
        .map_err(|e| fail_from("log entry body is not JSON", e))?;
    let kind = body["kind"].as_str().unwrap_or_default();
    let version = body["apiVersion"].as_str().unwrap_or_default();
    if kind != entry.kind_version.kind || version != entry.kind_version.version {
        return Err(fail(format!(
            "log entry body is {kind} {version} but the bundle says {} {}",
            entry.kind_version.kind, entry.kind_version.version
        )));
    }
    let spec = &body["spec"];
    let mismatch = |what: &str| {
        fail(format!(
            "the log entry is not for this {what} (it records another signing)"
        ))
    };
    match (kind, version) {
        ("hashedrekord", "0.0.1") => {
            if spec["data"]["hash"]["algorithm"] != "sha256"
                || spec["data"]["hash"]["value"] != digest_hex
            {
                return Err(mismatch("artifact digest"));
            }
            if b64(
                spec["signature"]["content"].as_str().unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if pem_to_der(
                spec["signature"]["publicKey"]["content"]
                    .as_str()
                    .unwrap_or_default(),
            )? != verifier.der()
            {
                return Err(mismatch(verifier.what()));
            }
        }
        ("dsse", "0.0.1") => {
            let env = envelope
                .ok_or_else(|| fail("a dsse log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            if spec["payloadHash"]["algorithm"] != "sha256"
                || spec["payloadHash"]["value"] != hex::encode(Sha256::digest(&payload))
            {
                return Err(mismatch("DSSE payload"));
            }
            let sigs = spec["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the dsse log entry must have exactly one signature"));
            };
            if b64(s["signature"].as_str().unwrap_or_default(), "log signature")? != sig {
                return Err(mismatch("signature"));
            }
            if pem_to_der(s["verifier"].as_str().unwrap_or_default())? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("intoto", "0.0.2") => {
            // Rekor v1's in-toto type: the envelope with its payload and signatures each
            // base64-encoded once more, the signer as base64 PEM.
            let env = envelope
                .ok_or_else(|| fail("an intoto log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            let content = &spec["content"];
            if content["payloadHash"]["algorithm"] != "sha256"
                || content["payloadHash"]["value"] != hex::encode(Sha256::digest(&payload))
            {
                return Err(mismatch("DSSE payload"));
            }
            let logged = &content["envelope"];
            if let Some(p) = logged["payload"].as_str()
                && b64(
                    std::str::from_utf8(&b64(p, "log payload")?).unwrap_or_default(),
                    "log payload",
                )? != payload
            {
                return Err(mismatch("DSSE payload"));
            }
            if logged["payloadType"].as_str() != Some(env.payload_type.as_str()) {
                return Err(mismatch("DSSE payload type"));
            }
            let sigs = logged["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the intoto log entry must have exactly one signature"));
            };
            let logged_sig = b64(s["sig"].as_str().unwrap_or_default(), "log signature")?;
            if b64(
                std::str::from_utf8(&logged_sig).unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if pem_to_der(s["publicKey"].as_str().unwrap_or_default())? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("hashedrekord", "0.0.2") => {
            // Rekor v2: the digest is of the artifact, or of PAE(type, payload) for DSSE.
            let v = &spec["hashedRekordV002"];
            let want = match envelope {
                Some(env) => Sha256::digest(pae(&env.payload_type, &env.payload_bytes()?)).to_vec(),
                None => hex::decode(digest_hex).expect("hex we produced"),
            };
            if v["data"]["algorithm"] != "SHA2_256"
                || b64(
                    v["data"]["digest"].as_str().unwrap_or_default(),
                    "log digest",
                )? != want
            {
                return Err(mismatch(if envelope.is_some() {
                    "DSSE envelope"
                } else {
                    "artifact digest"
                }));
            }
            if b64(
                v["signature"]["content"].as_str().unwrap_or_default(),
                "log signature",
            )? != sig
            {
                return Err(mismatch("signature"));
            }
            if verifier.v2_der(&v["signature"]["verifier"])? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        ("dsse", "0.0.2") => {
            let v = &spec["dsseV002"];
            let env = envelope
                .ok_or_else(|| fail("a dsse log entry needs a DSSE envelope in the bundle"))?;
            let payload = env.payload_bytes()?;
            if v["payloadHash"]["algorithm"] != "SHA2_256"
                || b64(
                    v["payloadHash"]["digest"].as_str().unwrap_or_default(),
                    "log payload hash",
                )? != Sha256::digest(&payload).to_vec()
            {
                return Err(mismatch("DSSE payload"));
            }
            let sigs = v["signatures"].as_array().cloned().unwrap_or_default();
            let [s] = sigs.as_slice() else {
                return Err(fail("the dsse log entry must have exactly one signature"));
            };
            if b64(s["content"].as_str().unwrap_or_default(), "log signature")? != sig {
                return Err(mismatch("signature"));
            }
            if verifier.v2_der(&s["verifier"])? != verifier.der() {
                return Err(mismatch(verifier.what()));
            }
        }
        _ => return Err(fail(format!("unsupported log entry kind {kind} {version}"))),
    }
    Ok(())
}
