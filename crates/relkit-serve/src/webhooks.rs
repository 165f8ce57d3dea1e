//! Webhooks: a project's maintainers register target URLs ([`crate::api::webhooks`]), only
//! among the URLs the server's operator allows (`relkit serve --webhook-allow URL`, exact, or
//! a prefix when it ends with `/`; none allowed by default); the watcher ([`crate::watch`])
//! queues an event for each of the project's webhooks when a published release becomes
//! affected by an advisory (`release.affected`) or stops being (`release.unaffected`), in the
//! same transaction as the findings that changed; a delivery task sends them.
//!
//! A delivery is `POST URL` with the event's JSON body and the headers
//! - `X-Relkit-Event`: `release.affected` or `release.unaffected`;
//! - `X-Relkit-Delivery`: the delivery's id (the same on every attempt: receivers deduplicate
//!   with it);
//! - `X-Relkit-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body bytes, keyed with the
//!   webhook's secret (its ASCII text), as GitHub's `X-Hub-Signature-256`. A receiver
//!   computes the same HMAC over the raw body and compares in constant time.
//!
//! A 2xx answer delivers; anything else (or no answer in 10 s; redirects are not followed,
//! they could leave the allowed URLs) is retried with exponential backoff (`--webhook-backoff-secs`
//! B: after B, 2B, 4B, … seconds) up to [`MAX_ATTEMPTS`] attempts, then the delivery is
//! `failed`. Each attempt is recorded (status, attempts, last HTTP status or error).
//!
//! Replicas: a delivery is claimed in the database before it is sent (an `UPDATE` that only
//! one process can win), so replicas sharing a database do not send it twice; a claim
//! expires after [`CLAIM_SECS`], so a delivery whose sender died is retried by another.
//!
//! Secrets: 32 random bytes shown once (hex) when the webhook is created; stored only XORed
//! with a pad derived from the server key (`DATA/server.key`), so the database alone does not
//! reveal them; never logged, listed, audited or served again.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::AppState;
use crate::auth::ServerKey;
use crate::db::{DbResult, Tx};

/// Attempts before a delivery is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a claimed delivery is reserved for its sender, seconds (longer than a send).
pub const CLAIM_SECS: i64 = 60;

/// How long one send may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the delivery task looks for due deliveries when it found none.
pub const POLL: Duration = Duration::from_millis(250);

/// The operator's webhook settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Allowed target URLs: exact, or a prefix when the entry ends with `/`.
    pub allow: Vec<String>,
    /// The first retry's delay; each next one doubles it.
    pub backoff: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allow: Vec::new(),
            backoff: Duration::from_secs(30),
        }
    }
}

impl Settings {
    /// Whether `url` is an allowed webhook target.
    pub fn allowed(&self, url: &str) -> bool {
        (url.starts_with("http://") || url.starts_with("https://"))
            && self
                .allow
                .iter()
                .any(|a| a == url || (a.ends_with('/') && url.starts_with(a.as_str())))
    }
}

/// The pad a webhook's secret is stored XORed with.
fn pad(key: &ServerKey, id: &str) -> Vec<u8> {
    hex::decode(key.hash(&format!("relkit-serve webhook secret {id}")))
        .expect("ServerKey::hash is hex")
}

/// A new secret for webhook `id`: (the secret to show once, its stored form).
pub(crate) fn new_secret(key: &ServerKey, id: &str) -> (String, String) {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).expect("the OS random source works");
    let sealed: Vec<u8> = raw.iter().zip(pad(key, id)).map(|(a, b)| a ^ b).collect();
    (hex::encode(raw), hex::encode(sealed))
}

/// The secret of webhook `id` from its stored form.
fn unseal(key: &ServerKey, id: &str, sealed: &str) -> Option<String> {
    let sealed = hex::decode(sealed).ok()?;
    (sealed.len() == 32).then(|| {
        hex::encode(
            sealed
                .iter()
                .zip(pad(key, id))
                .map(|(a, b)| a ^ b)
                .collect::<Vec<u8>>(),
        )
    })
}

/// `sha256=<hex>`: HMAC-SHA256 of `body` keyed with `secret`'s bytes.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// A component of a release an advisory affects.
#[derive(Debug, Clone, Serialize)]
pub struct EventComponent {
    /// Component name.
    pub component: String,
    /// Its version in the release.
    pub installed: String,
}

/// The JSON body of a delivery.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `release.affected` or `release.unaffected`.
    pub event: &'static str,
    /// The delivery's id (as `X-Relkit-Delivery`).
    pub delivery: String,
    /// Project.
    pub project: String,
    /// Version of the published release.
    pub version: String,
    /// Advisory id.
    pub advisory: String,
    /// Its other ids.
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: String,
    /// Summary.
    pub summary: Option<String>,
    /// The release's components the advisory affects (affected), or affected (unaffected).
    pub components: Vec<EventComponent>,
    /// When the change was found (Unix seconds).
    pub at: i64,
}

/// A change of a release's advisories, before it is addressed to webhooks.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// Whether the release became affected (else: stopped being).
    pub affected: bool,
    /// Advisory id.
    pub advisory: String,
    /// Space-separated aliases.
    pub aliases: String,
    /// Severity.
    pub severity: String,
    /// Summary.
    pub summary: Option<String>,
    /// The components concerned.
    pub components: Vec<EventComponent>,
}

/// Queues one delivery per webhook of `project` and change, in the caller's transaction.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    project: &str,
    version: &str,
    changes: &[Change],
) -> DbResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let hooks: Vec<(String,)> = tx
        .query(
            "SELECT id FROM webhooks WHERE project = $1 ORDER BY id",
            vec![project.into()],
        )
        .await?;
    let now = crate::now();
    for (hook,) in hooks {
        for c in changes {
            let delivery = crate::blobs::random_hex(16);
            let event = Event {
                event: if c.affected {
                    "release.affected"
                } else {
                    "release.unaffected"
                },
                delivery: delivery.clone(),
                project: project.to_string(),
                version: version.to_string(),
                advisory: c.advisory.clone(),
                aliases: c.aliases.split_whitespace().map(str::to_string).collect(),
                severity: c.severity.clone(),
                summary: c.summary.clone(),
                components: c.components.clone(),
                at: now,
            };
            let body = serde_json::to_string(&event).expect("events serialize");
            tx.execute(
                "INSERT INTO webhook_deliveries (uid, webhook, project, version, advisory, event, body, created, status, attempts, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $8)",
                vec![
                    delivery.into(),
                    hook.as_str().into(),
                    project.into(),
                    version.into(),
                    c.advisory.as_str().into(),
                    event.event.into(),
                    body.into(),
                    now.into(),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Starts the delivery task; it runs until the runtime ends.
pub fn spawn(s: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match deliver_one(&s).await {
                Ok(true) => {}
                // A database error is retried at the next poll (the deliveries stay queued).
                Ok(false) | Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    })
}

/// A claimed delivery: (uid, event, body, attempts, webhook id, url, sealed secret).
type Claimed = (String, String, String, i64, String, String, String);

/// Claims and sends the oldest due delivery; false when none was due.
async fn deliver_one(s: &AppState) -> DbResult<bool> {
    let now = crate::now();
    let due: Option<(i64,)> = s
        .db
        .query_opt(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt <= $1 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT 1",
            vec![now.into()],
        )
        .await?;
    let Some((id,)) = due else {
        return Ok(false);
    };
    let claim = crate::blobs::random_hex(8);
    let won = s
        .db
        .execute(
            "UPDATE webhook_deliveries SET claim = $1, claimed_until = $2 WHERE id = $3 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $4)",
            vec![
                claim.as_str().into(),
                (now + CLAIM_SECS).into(),
                id.into(),
                now.into(),
            ],
        )
        .await?;
    if won == 0 {
        return Ok(true); // another process claimed it first
    }
    let row: Option<Claimed> = s
        .db
        .query_opt(
            "SELECT d.uid, d.event, d.body, d.attempts, w.id, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook WHERE d.id = $1",
            vec![id.into()],
        )
        .await?;
    let Some((uid, event, body, attempts, hook, url, sealed)) = row else {
        // The webhook was deleted since: nothing to send.
        s.db.execute(
            "UPDATE webhook_deliveries SET status = 'cancelled', claimed_until = NULL, last_error = 'the webhook was deleted' WHERE id = $1 AND claim = $2",
            vec![id.into(), claim.as_str().into()],
        )
        .await?;
        return Ok(true);
    };
    let attempts = attempts + 1;
    let outcome: Result<u16, String> = if !s.webhooks.allowed(&url) {
        Err("the target is no longer among the server's allowed webhook URLs".into())
    } else {
        match unseal(&s.key, &hook, &sealed) {
            None => Err("the webhook's stored secret cannot be read".into()),
            Some(secret) => {
                let sig = signature(&secret, body.as_bytes());
                let (url, body) = (url.clone(), body.clone());
                tokio::task::spawn_blocking(move || send(&url, &event, &uid, &sig, body))
                    .await
                    .unwrap_or_else(|e| Err(format!("the send task failed: {e}")))
            }
        }
    };
    let now = crate::now();
    match outcome {
        Ok(code) if (200..300).contains(&code) => {
            s.db.execute(
                "UPDATE webhook_deliveries SET status = 'delivered', attempts = $1, last_status = $2, last_error = NULL, delivered = $3, claimed_until = NULL WHERE id = $4 AND claim = $5",
                vec![
                    attempts.into(),
                    i64::from(code).into(),
                    now.into(),
                    id.into(),
                    claim.as_str().into(),
                ],
            )
            .await?;
        }
        other => {
            let (code, error) = match other {
                Ok(code) => (Some(i64::from(code)), format!("HTTP {code}")),
                Err(e) => (None, e),
            };
            let status = if attempts >= MAX_ATTEMPTS {
                "failed"
            } else {
                "pending"
            };
            let delay = s.webhooks.backoff.as_secs().max(1) as i64 * (1i64 << (attempts - 1));
            // NULL is bound to text columns only (see db::Value): no answer is a literal NULL.
            let (sql, code) = match code {
                Some(c) => (
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_error = $3, next_attempt = $4, claimed_until = NULL, last_status = $5 WHERE id = $6 AND claim = $7",
                    Some(c),
                ),
                None => (
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_error = $3, next_attempt = $4, claimed_until = NULL, last_status = NULL WHERE id = $5 AND claim = $6",
                    None,
                ),
            };
            let mut params = vec![
                status.into(),
                attempts.into(),
                error.into(),
                (now + delay).into(),
            ];
            params.extend(code.map(crate::db::Value::Int));
            params.extend([id.into(), claim.as_str().into()]);
            s.db.execute(sql, params).await?;
        }
    }
    Ok(true)
}

/// One POST; the HTTP status, or why there was none.
fn send(url: &str, event: &str, uid: &str, sig: &str, body: String) -> Result<u16, String> {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(SEND_TIMEOUT))
        .user_agent(concat!("relkit-serve/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Relkit-Event", event)
        .header("X-Relkit-Delivery", uid)
        .header("X-Relkit-Signature", sig)
        .send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}
