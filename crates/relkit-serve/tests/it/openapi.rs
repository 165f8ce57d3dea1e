//! `docs/openapi.yaml` agrees with the server: the routes it documents are the routes the
//! router serves (method and path, both ways, probed over HTTP too); every wire type of
//! `relkit_core::wire`, serialized, validates against the schema of the same name (property
//! names, required properties, JSON types, enums; a property the schema does not declare
//! fails); and the JSON answers of a live server validate against the schema documented for
//! their path, method and status.
//!
//! The schema check is a small subset of JSON Schema (what the document uses): `$ref`,
//! `allOf`, `type` (one or a list), `const`, `enum`, `properties`, `required`, `items`.

use std::collections::BTreeSet;

use relkit_core::wire::{
    AttachmentInfo, AuditEntry, ErrorBody, FileInfo, NewRelease, ProjectConfig, ProjectSummary,
    Release, ReleaseDetail, UploadResult,
};
use relkit_serve::Limits;
use relkit_serve::api::ROUTES;
use serde_json::{Value, json};

use crate::common::*;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn openapi() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (METHOD, path) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if METHODS.contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let doc = openapi();
    let documented = documented(&doc);
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(served.len(), ROUTES.len(), "a route is listed twice");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not in docs/openapi.yaml: {undocumented:?}; documented but not served: {unserved:?}"
    );
}

/// A path with its `{param}`s filled in with names that exist nowhere.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{kind}" => "sbom",
            s if s.starts_with('{') => "nothing-here",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn status_of(env: &Env, method: &str, path: &str) -> (u16, String) {
    let url = format!("{}{}", env.url, concrete(path));
    let agent = agent();
    let resp = match method {
        "GET" => agent.get(&url).call(),
        "DELETE" => agent.delete(&url).call(),
        "PUT" => agent.put(&url).send(&b"{}"[..]),
        "POST" => agent.post(&url).send(&b"{}"[..]),
        "PATCH" => agent.patch(&url).send(&b"{}"[..]),
        other => panic!("method {other}"),
    };
    let mut resp = resp.unwrap();
    let st = resp.status().as_u16();
    (st, resp.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn the_router_answers_exactly_the_documented_methods() {
    let env = Env::start(Backend::Sqlite, Limits::default());
    let doc = openapi();
    let documented = documented(&doc);
    let paths: BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
            let (st, body) = status_of(&env, method, path);
            if documented.contains(&(method.to_string(), path.clone())) {
                assert_ne!(st, 405, "{method} {path} is documented but not routed");
                // A 404 from a handler says what is missing; the router's own 404 is empty.
                if st == 404 {
                    let e: ErrorBody = serde_json::from_str(&body)
                        .unwrap_or_else(|e| panic!("{method} {path}: 404 {body:?}: {e}"));
                    assert!(!e.error.is_empty(), "{method} {path}: {body}");
                }
            } else {
                assert_eq!(
                    st, 405,
                    "{method} {path} is routed but not documented: {body}"
                );
            }
        }
    }
}

/// The schema at a `#/…` reference.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.strip_prefix('#').expect("local $ref"))
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

/// An object schema's properties and required names, through `allOf`.
fn object_parts<'a>(
    doc: &'a Value,
    schema: &'a Value,
    props: &mut serde_json::Map<String, Value>,
    required: &mut BTreeSet<String>,
) {
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        object_parts(doc, part, props, required);
    }
    if let Some(p) = schema["properties"].as_object() {
        props.extend(p.clone());
    }
    for r in schema["required"].as_array().into_iter().flatten() {
        required.insert(r.as_str().expect("required names").to_string());
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Problems of `value` against `schema`, each located by a JSON pointer. With `complete`,
/// every declared property must also be present (for values built with every field set).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, complete: bool) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut problems = Vec::new();
    if let Some(c) = schema.get("const")
        && c != value
    {
        problems.push(format!("{at}: {value} is not the constant {c}"));
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {e:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let t = json_type(value);
    let allowed =
        types.is_empty() || types.contains(&t) || (t == "integer" && types.contains(&"number"));
    if !allowed {
        problems.push(format!("{at}: {t} {value}, the schema says {types:?}"));
        return problems;
    }
    match value {
        Value::Object(o) => {
            let (mut props, mut required) = (serde_json::Map::new(), BTreeSet::new());
            object_parts(doc, schema, &mut props, &mut required);
            if props.is_empty() && required.is_empty() {
                return problems; // a free-form object
            }
            for (k, v) in o {
                match props.get(k) {
                    Some(s) => problems.extend(check(doc, s, v, &format!("{at}/{k}"), complete)),
                    None => problems.push(format!("{at}/{k}: not declared by the schema")),
                }
            }
            for r in &required {
                if !o.contains_key(r) {
                    problems.push(format!("{at}/{r}: required but absent"));
                }
            }
            if complete {
                for k in props.keys() {
                    if !o.contains_key(k) {
                        problems.push(format!("{at}/{k}: declared but never sent"));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    problems.extend(check(doc, s, v, &format!("{at}/{i}"), complete));
                }
            }
        }
        _ => {}
    }
    problems
}

fn release(published: Option<i64>) -> Release {
    Release {
        version: "1.0".into(),
        tag: "v1.0".into(),
        commit: "0123456789abcdef0123456789abcdef01234567".into(),
        created: 1_700_000_000,
        published,
    }
}

fn attachment() -> AttachmentInfo {
    AttachmentInfo {
        name: "x.tgz.spdx.json".into(),
        kind: "sbom".into(),
        sha256: "ab".repeat(32),
        size: 1234,
        status: "warnings".into(),
        url: "/api/v1/projects/p/releases/1.0/files/x.tgz/sbom/x.tgz.spdx.json".into(),
        report: json!({"valid": true, "warnings": 1, "problems": []}),
    }
}

fn file() -> FileInfo {
    FileInfo {
        name: "x.tgz".into(),
        sha256: "cd".repeat(32),
        size: 99,
        url: "/api/v1/projects/p/releases/1.0/files/x.tgz".into(),
        attachments: vec![attachment()],
    }
}

fn audit_entry(full: bool) -> AuditEntry {
    let some = |s: &str| full.then(|| s.to_string());
    AuditEntry {
        id: 7,
        at: 1_700_000_000,
        actor: "0011223344556677".into(),
        action: "file.upload".into(),
        project: some("p"),
        version: some("1.0"),
        name: some("x.tgz"),
        sha256: some(&"cd".repeat(32)),
        detail: "99 bytes".into(),
    }
}

fn project_config(full: bool) -> ProjectConfig {
    let some = |s: &str| full.then(|| s.to_string());
    ProjectConfig {
        policy: some("[signer]\nidentity = \"a@b\"\nissuer = \"https://i\"\n"),
        verify_key: some("-----BEGIN PUBLIC KEY-----"),
        trusted_root: some("{}"),
        require_sbom: full,
        require_signature: true,
        require_provenance: false,
    }
}

fn j<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// A representative of every wire type: (schema name, JSON, every property set?).
fn representatives() -> Vec<(&'static str, Value, bool)> {
    vec![
        (
            "ErrorBody",
            j(&ErrorBody {
                error: "immutable".into(),
                message: "published".into(),
                missing: vec![],
            }),
            false,
        ),
        (
            "PublishRefused",
            j(&ErrorBody {
                error: "not_publishable".into(),
                message: "p 1.0 cannot be published: 1 problem(s)".into(),
                missing: vec!["x.tgz: no SBOM (the project requires one)".into()],
            }),
            true,
        ),
        (
            "ProjectSummary",
            j(&ProjectSummary {
                name: "p".into(),
                releases: 3,
            }),
            true,
        ),
        ("ProjectConfig", j(&project_config(true)), true),
        ("ProjectConfig", j(&project_config(false)), true),
        (
            "NewRelease",
            j(&NewRelease {
                version: "1.0".into(),
                tag: "v1.0".into(),
                commit: "abc".into(),
            }),
            true,
        ),
        ("Release", j(&release(Some(1_700_000_100))), true),
        ("Release", j(&release(None)), true),
        ("AttachmentInfo", j(&attachment()), true),
        ("FileInfo", j(&file()), true),
        (
            "ReleaseDetail",
            j(&ReleaseDetail {
                project: "p".into(),
                release: release(Some(1_700_000_100)),
                files: vec![file()],
            }),
            true,
        ),
        (
            "UploadResult",
            j(&UploadResult {
                name: "x.tgz".into(),
                sha256: "cd".repeat(32),
                size: 99,
                outcome: "created".into(),
                status: String::new(),
            }),
            true,
        ),
        ("AuditEntry", j(&audit_entry(true)), true),
        ("AuditEntry", j(&audit_entry(false)), true),
        ("VulnDbState", j(&vuln_db()), true),
        ("VulnFinding", j(&vuln_finding()), true),
        (
            "ReleaseVulns",
            j(&relkit_serve::api::vulns::ReleaseVulns {
                project: "p".into(),
                version: "1.0".into(),
                database: Some(vuln_db()),
                scanned: Some(1_700_000_300),
                scan_error: Some("x.cdx.json: malformed JSON".into()),
                findings: vec![vuln_finding()],
                suppressed: vec![suppressed()],
            }),
            true,
        ),
        ("SuppressedFinding", j(&suppressed()), true),
        (
            "OpenVex",
            serde_json::json!({
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "tag:relkit-serve,2026:p/1.0/vex",
                "author": "maintainers of p (relkit serve)",
                "timestamp": "2026-12-06T08:00:00Z",
                "version": 1,
                "statements": [{"vulnerability": {"name": "CVE-2020-28493"}, "status": "not_affected",
                                "justification": "vulnerable_code_not_in_execute_path"}]
            }),
            true,
        ),
        ("FoundComponent", j(&found_component()), true),
        (
            "ReleaseComponents",
            j(&relkit_serve::api::query::ReleaseComponents {
                version: "1.0".into(),
                components: vec![found_component()],
            }),
            true,
        ),
        ("Webhook", j(&webhook()), true),
        (
            "CreatedWebhook",
            j(&relkit_serve::api::webhooks::CreatedWebhook {
                webhook: webhook(),
                secret: "ab".repeat(32),
            }),
            true,
        ),
        (
            "WebhookDelivery",
            j(&relkit_serve::api::webhooks::Delivery {
                id: "cd".repeat(16),
                event: "release.affected".into(),
                version: "1.0".into(),
                advisory: "CVE-2020-28493".into(),
                status: "delivered".into(),
                attempts: 2,
                last_status: Some(204),
                last_error: Some("HTTP 500".into()),
                created: 1_700_000_400,
                next_attempt: 1_700_000_401,
                delivered: Some(1_700_000_402),
            }),
            true,
        ),
        (
            "ComponentReleases",
            j(&relkit_serve::api::query::ComponentReleases {
                project: "p".into(),
                purl: Some("pkg:pypi/jinja2".into()),
                cpe: Some("cpe:2.3:a:palletsprojects:jinja:*:*:*:*:*:*:*:*".into()),
                range: Some(">=2.0,<3.0".into()),
                searched: 2,
                releases: vec![relkit_serve::api::query::ReleaseComponents {
                    version: "1.0".into(),
                    components: vec![found_component()],
                }],
                unreadable: vec![],
                errors: vec![relkit_serve::api::query::SearchError {
                    version: "2.0".into(),
                    error: "x.cdx.json: malformed JSON".into(),
                }],
            }),
            true,
        ),
        (
            "ProjectVulns",
            j(&relkit_serve::api::vulns::ProjectVulns {
                project: "p".into(),
                database: Some(vuln_db()),
                advisories: vec![relkit_serve::api::vulns::AdvisoryReleases {
                    advisory: "CVE-2020-28493".into(),
                    aliases: vec!["PYSEC-2021-66".into()],
                    severity: "unknown".into(),
                    summary: Some("ReDoS".into()),
                    releases: vec![relkit_serve::api::vulns::AffectedRelease {
                        version: "1.0".into(),
                        component: "jinja2".into(),
                        installed: "2.10".into(),
                        first_seen: 1_700_000_200,
                    }],
                }],
            }),
            true,
        ),
    ]
}

fn suppressed() -> relkit_serve::api::vulns::SuppressedFinding {
    relkit_serve::api::vulns::SuppressedFinding {
        finding: vuln_finding(),
        status: "not_affected".into(),
        justification: Some("vulnerable_code_not_in_execute_path".into()),
        impact_statement: Some("never rendered".into()),
    }
}

fn found_component() -> relkit_serve::api::query::FoundComponent {
    relkit_serve::api::query::FoundComponent {
        name: "jinja2".into(),
        version: Some("2.10".into()),
        purls: vec!["pkg:pypi/jinja2@2.10".into()],
        cpes: vec!["cpe:2.3:a:palletsprojects:jinja:2.10:*:*:*:*:*:*:*".into()],
        sbom: "x.tgz/sbom/x.cdx.json".into(),
    }
}

fn webhook() -> relkit_serve::api::webhooks::Webhook {
    relkit_serve::api::webhooks::Webhook {
        id: "0123456789abcdef".into(),
        project: "p".into(),
        url: "https://hooks.example/relkit".into(),
        created: 1_700_000_400,
    }
}

fn vuln_db() -> relkit_serve::watch::DbState {
    relkit_serve::watch::DbState {
        last_import: Some("2026-12-06T05:00:00Z".into()),
        newest_record: Some("2024-10-10T00:00:00Z".into()),
        age_seconds: Some(60),
        loaded: 1_700_000_100,
        error: Some("cannot be read".into()),
        stamp: String::new(),
    }
}

fn vuln_finding() -> relkit_serve::api::vulns::VulnFinding {
    relkit_serve::api::vulns::VulnFinding {
        advisory: "CVE-2020-28493".into(),
        aliases: vec!["PYSEC-2021-66".into()],
        component: "jinja2".into(),
        installed: "2.10".into(),
        severity: "unknown".into(),
        summary: Some("ReDoS".into()),
        first_seen: 1_700_000_200,
    }
}

#[test]
fn every_wire_type_validates_against_its_schema() {
    let doc = openapi();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let reps = representatives();
    let mut problems = Vec::new();
    for (name, value, complete) in &reps {
        let schema = schemas
            .get(*name)
            .unwrap_or_else(|| panic!("docs/openapi.yaml has no schema {name}"));
        problems.extend(check(&doc, schema, value, name, *complete));
    }
    // The document has no schema that no wire type stands for.
    let covered: BTreeSet<&str> = reps.iter().map(|r| r.0).collect();
    for name in schemas.keys() {
        if !covered.contains(name.as_str()) {
            problems.push(format!("schema {name}: no wire type"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_checker_refuses_what_the_schemas_do_not_say() {
    let doc = openapi();
    let release = &doc["components"]["schemas"]["Release"];
    let mut v = serde_json::to_value(self::release(None)).unwrap();
    assert!(check(&doc, release, &v, "", true).is_empty());
    v["extra"] = json!(1);
    assert_eq!(
        check(&doc, release, &v, "", true),
        ["/extra: not declared by the schema"]
    );
    v.as_object_mut().unwrap().remove("extra");
    v["created"] = json!("yesterday");
    assert_eq!(check(&doc, release, &v, "", true).len(), 1);
    v.as_object_mut().unwrap().remove("created");
    assert_eq!(
        check(&doc, release, &v, "", false),
        ["/created: required but absent"]
    );
}

/// A request of the live test and the status it must get.
struct Call {
    method: &'static str,
    path: String,
    token: Option<String>,
    digest: Option<String>,
    body: Vec<u8>,
    status: u16,
}

fn call(method: &'static str, path: &str, status: u16) -> Call {
    Call {
        method,
        path: path.to_string(),
        token: None,
        digest: None,
        body: Vec::new(),
        status,
    }
}

impl Call {
    fn token(mut self, t: &str) -> Call {
        self.token = Some(t.to_string());
        self
    }

    fn digest(mut self, d: &str) -> Call {
        self.digest = Some(d.to_string());
        self
    }

    fn body(mut self, b: impl Into<Vec<u8>>) -> Call {
        self.body = b.into();
        self
    }

    /// The route template (the documented path) this request goes to.
    fn template(&self) -> &'static str {
        let segs: Vec<&str> = self.path.split('/').collect();
        ROUTES
            .iter()
            .find(|r| {
                let t: Vec<&str> = r.path.split('/').collect();
                r.method == self.method
                    && t.len() == segs.len()
                    && t.iter()
                        .zip(&segs)
                        .all(|(t, s)| t.starts_with('{') || t == s)
            })
            .unwrap_or_else(|| panic!("no route for {} {}", self.method, self.path))
            .path
    }

    /// Status and body of the answer.
    fn send(&self, base: &str) -> (u16, String) {
        let url = format!("{base}{}", self.path);
        let mut req = match self.method {
            "GET" => agent().get(&url).force_send_body(),
            "DELETE" => agent().delete(&url).force_send_body(),
            "PUT" => agent().put(&url),
            "POST" => agent().post(&url),
            m => panic!("{m}"),
        };
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        if let Some(d) = &self.digest {
            req = req.header("X-Content-SHA256", d);
        }
        if self.body.first() == Some(&b'{') {
            req = req.header("Content-Type", "application/json");
        }
        let mut resp = req.send(&self.body[..]).unwrap();
        let st = resp.status().as_u16();
        (st, resp.body_mut().read_to_string().unwrap())
    }
}

/// The documented schema of an answer, if the document gives one.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let op = &doc["paths"][path][method.to_lowercase()];
    assert!(op.is_object(), "{method} {path} is not documented");
    let resp = resolve(doc, &op["responses"][status.to_string()]);
    assert!(
        resp.is_object(),
        "{method} {path} answered {status}, which is not documented"
    );
    &resp["content"]["application/json"]["schema"]
}

#[test]
fn live_answers_validate_against_their_documented_schemas() {
    let env = Env::start(Backend::Sqlite, Limits::default());
    let doc = openapi();
    let (a, b, admin) = (&env.token_a, &env.token_b, &env.admin);
    let bytes = b"release bytes".to_vec();
    let sha = sha256_hex(&bytes);
    let sbom = fixture("sbom/cyclonedx/valid/valid-bom-1.6.json");
    let cfg = json!({"verify_key": env.key.public().to_pem(), "require_sbom": true, "require_provenance": true}).to_string();
    let new = json!({"version": "1.0", "tag": "v1.0", "commit": "abc"}).to_string();
    let project = "/api/v1/projects/alpha";
    let rel = "/api/v1/projects/alpha/releases/1.0";
    let x = format!("{rel}/files/x.tgz");
    let y = format!("{rel}/files/y.tgz");
    let cdx = format!("{x}/sbom/x.tgz.cdx.json");
    let calls = [
        call("PUT", project, 200).token(admin).body(cfg.clone()),
        call("PUT", project, 403).token(a).body(cfg.clone()),
        call("PUT", project, 422)
            .token(admin)
            .body(r#"{"policy":"[nonsense"}"#),
        call("GET", "/api/v1/projects", 200),
        call("GET", project, 200),
        call("GET", "/api/v1/projects/nope", 404),
        call("POST", &format!("{project}/releases"), 201)
            .token(a)
            .body(new.clone()),
        call("POST", &format!("{project}/releases"), 200)
            .token(a)
            .body(new.clone()),
        call("POST", &format!("{project}/releases"), 401).body(new.clone()),
        call("POST", &format!("{project}/releases"), 409)
            .token(a)
            .body(r#"{"version":"1.0","tag":"v2"}"#),
        call("GET", &format!("{project}/releases"), 200),
        call("GET", "/api/v1/projects/nope/releases", 404),
        call("PUT", &x, 201)
            .token(a)
            .digest(&sha)
            .body(bytes.clone()),
        call("PUT", &x, 200)
            .token(a)
            .digest(&sha)
            .body(bytes.clone()),
        call("PUT", &y, 400).token(a).body(bytes.clone()),
        call("PUT", &y, 400)
            .token(a)
            .digest(&"0".repeat(64))
            .body(bytes.clone()),
        call("PUT", &y, 403)
            .token(b)
            .digest(&sha)
            .body(bytes.clone()),
        call("PUT", &cdx, 201).token(a).body(sbom.clone()),
        call("PUT", &cdx, 200).token(a).body(sbom.clone()),
        call("PUT", &format!("{x}/sbom/x.tgz.spdx.json"), 422)
            .token(a)
            .body("{}"),
        call("PUT", &format!("{y}/sbom/y.tgz.cdx.json"), 404)
            .token(a)
            .body(sbom.clone()),
        call("GET", rel, 200),
        call("GET", "/api/v1/projects/alpha/releases/2.0", 404),
        call("POST", &format!("{rel}/publish"), 422).token(a),
        call("POST", "/api/v1/projects/alpha/releases/2.0/publish", 404).token(a),
        call("GET", "/api/v1/audit", 200).token(admin),
        call("GET", "/api/v1/audit", 403).token(a),
        call("GET", "/api/v1/audit", 401),
        call("DELETE", "/api/v1/projects/alpha/releases/2.0", 404).token(a),
        call("DELETE", rel, 403).token(b),
    ];
    let mut problems = Vec::new();
    for c in &calls {
        let (st, text) = c.send(&env.url);
        let (method, path) = (c.method, c.template());
        assert_eq!(st, c.status, "{method} {}: {text}", c.path);
        let schema = response_schema(&doc, method, path, st);
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {} {st}: not JSON ({e}): {text}", c.path));
        if schema.is_null() {
            problems.push(format!(
                "{method} {path} {st}: JSON answer without a documented schema"
            ));
            continue;
        }
        problems.extend(check(
            &doc,
            schema,
            &value,
            &format!("{method} {path} {st}"),
            false,
        ));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
