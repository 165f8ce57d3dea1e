//! CPE naming and matching against the NISTIR 7695 / 7696 examples, real NVD vectors
//! (syft's FS/URI/WFN table), CPython's SBOM CPEs, and property-based round trips.

use proptest::prelude::*;
use relkit_ident::cpe::{
    AttrValue, Attribute, AttributeRelation, CpeError, NameRelation, Wfn, compare_names,
};

fn wfn(s: &str) -> Wfn {
    Wfn::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// NISTIR 7695 §6.2.2.3 (bind to formatted string) and §6.1.2.3 (bind to URI), examples 1-5.
#[test]
fn nistir_7695_binding_examples() {
    let cases = [
        (
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.0\.6001",update="beta",edition=ANY]"#,
            "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*",
            "cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
        ),
        (
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.*",update="sp?"]"#,
            "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
            "cpe:/a:microsoft:internet_explorer:8.%02:sp%01",
        ),
        (
            r#"wfn:[part="a",vendor="hp",product="insight_diagnostics",version="7\.4\.0\.1570",update=NA,sw_edition="online",target_sw="win2003",target_hw="x64"]"#,
            "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
            "cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~",
        ),
        (
            r#"wfn:[part="a",vendor="hp",product="openview_network_manager",version="7\.51",target_sw="linux"]"#,
            "cpe:2.3:a:hp:openview_network_manager:7.51:*:*:*:*:linux:*:*",
            "cpe:/a:hp:openview_network_manager:7.51::~~~linux~~",
        ),
        (
            r#"wfn:[part="a",vendor="foo\\bar",product="big\$money_manager_2010",sw_edition="special",target_sw="ipod_touch",target_hw="80gb"]"#,
            r"cpe:2.3:a:foo\\bar:big\$money_manager_2010:*:*:*:*:special:ipod_touch:80gb:*",
            "cpe:/a:foo%5cbar:big%24money_manager_2010:::~~special~ipod_touch~80gb~",
        ),
    ];
    for (w, fs, uri) in cases {
        let parsed = wfn(w);
        assert_eq!(parsed.to_fs(), fs, "{w}");
        assert_eq!(parsed.to_uri(), uri, "{w}");
        assert_eq!(wfn(fs), parsed, "unbind {fs}");
    }
}

/// NISTIR 7695 §6.1.3.3, URI unbinding examples 1-8.
#[test]
fn nistir_7695_uri_unbinding_examples() {
    let ok = [
        (
            "cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.0\.6001",update="beta"]"#,
        ),
        (
            "cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f",
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.\*",update="sp\?"]"#,
        ),
        (
            "cpe:/a:microsoft:internet_explorer:8.%02:sp%01",
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.*",update="sp?"]"#,
        ),
        (
            "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
            r#"wfn:[part="a",vendor="hp",product="insight_diagnostics",version="7\.4\.0\.1570",sw_edition="online",target_sw="win2003",target_hw="x64"]"#,
        ),
        (
            "cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~",
            r#"wfn:[part="a",vendor="hp",product="openview_network_manager",version="7\.51",update=NA,target_sw="linux"]"#,
        ),
        (
            "cpe:/a:foo~bar:big%7emoney_2010",
            r#"wfn:[part="a",vendor="foo\~bar",product="big\~money_2010"]"#,
        ),
    ];
    for (uri, w) in ok {
        assert_eq!(wfn(uri), wfn(w), "{uri}");
    }
    // Example 6: %07 is not a valid encoding; example 8: embedded %02.
    let e = Wfn::parse("cpe:/a:foo%5cbar:big%24money_2010%07:::~~special~ipod_touch~80gb~")
        .unwrap_err();
    assert!(
        matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Product,
                position: 33,
                ..
            }
        ),
        "{e}"
    );
    let e = Wfn::parse("cpe:/a:foo:bar:12.%02.1234").unwrap_err();
    assert!(
        matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Version,
                position: 18,
                ..
            }
        ),
        "{e}"
    );
}

/// NISTIR 7695 §6.2.3.3, formatted-string unbinding, including a rejected embedded `*`.
#[test]
fn nistir_7695_fs_unbinding_examples() {
    let w = wfn(r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*");
    assert_eq!(
        w.get(Attribute::Vendor),
        &AttrValue::Value(r"foo\\bar".into())
    );
    assert_eq!(w.vendor().as_deref(), Some(r"foo\bar"));
    assert_eq!(
        w.get(Attribute::Product),
        &AttrValue::Value(r"big\$money_2010".into())
    );
    let w = wfn("cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*");
    assert!(w.get(Attribute::Version).has_wildcards());
    let e = Wfn::parse(r"cpe:2.3:a:foo:bar:12.*.1234:*:*:*:*:*:*:*").unwrap_err();
    assert!(
        matches!(
            e,
            CpeError::InvalidAttribute {
                attribute: Attribute::Version,
                position: 21,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "invalid version at position 21: unquoted '*' is only allowed as the first or last character (write '\\*' for a literal asterisk)"
    );
}

/// NISTIR 7696 §6.3 examples: whole-name relations.
#[test]
fn nistir_7696_matching_examples() {
    // Example 1: the target has wildcards, so those attributes are UNDEFINED.
    let c = compare_names(
        &wfn(
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.0\.6001",update="beta",edition=ANY]"#,
        ),
        &wfn(
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.*",update="sp?"]"#,
        ),
    );
    assert_eq!(
        c.attributes[3],
        (Attribute::Version, AttributeRelation::Undefined)
    );
    assert_eq!(
        c.attributes[4],
        (Attribute::Update, AttributeRelation::Undefined)
    );
    assert_eq!(c.relation, NameRelation::Undefined);
    // Example 2: wildcard version matches, update "sp?" vs "beta" is DISJOINT.
    let c = compare_names(
        &wfn(
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.*",update="sp?"]"#,
        ),
        &wfn(
            r#"wfn:[part="a",vendor="microsoft",product="internet_explorer",version="8\.0\.6001",update="beta"]"#,
        ),
    );
    assert_eq!(
        c.attributes[3],
        (Attribute::Version, AttributeRelation::Superset)
    );
    assert_eq!(
        c.attributes[4],
        (Attribute::Update, AttributeRelation::Disjoint)
    );
    assert_eq!(c.relation, NameRelation::Disjoint);
    // Example 3: ANY product and version 9.* is a SUPERSET of Adobe Reader 9.3.2.
    let c = compare_names(
        &wfn(r#"wfn:[part="a",vendor="adobe",product=ANY,version="9\.*",update=ANY]"#),
        &wfn(
            r#"wfn:[part="a",vendor="adobe",product="reader",version="9\.3\.2",update=NA,language=NA]"#,
        ),
    );
    assert_eq!(c.relation, NameRelation::Superset);
    let c = compare_names(
        &wfn(
            r#"wfn:[part="a",vendor="adobe",product="reader",version="9\.3\.2",update=NA,language=NA]"#,
        ),
        &wfn(r#"wfn:[part="a",vendor="adobe",product=ANY,update=ANY]"#),
    );
    assert_eq!(c.relation, NameRelation::Subset);
    let a = wfn("cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*");
    assert_eq!(compare_names(&a, &a).relation, NameRelation::Equal);
    assert_eq!(
        compare_names(&a, &wfn("cpe:2.3:a:xz_project:xz:5.6.1:*:*:*:*:*:*:*")).relation,
        NameRelation::Disjoint
    );
}

/// syft's WFN column removes quoting except before `\\`, `*` and `?`.
fn syft_form(quoted: &str) -> String {
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let n = chars.next().unwrap();
            if matches!(n, '\\' | '*' | '?') {
                out.push('\\');
            }
            out.push(n);
        } else {
            out.push(c);
        }
    }
    out
}

/// syft's table of 996 real NVD CPEs: FS and URI bindings of our WFN equal the table's,
/// the table's WFN (unquoted) equals ours, and the URI unbinds to the same WFN.
#[test]
fn syft_real_nvd_vectors() {
    let data: serde_json::Value = serde_json::from_str(include_str!(
        "../fixtures/cpe/syft-cpe-fs-uri-wfn-vectors.json"
    ))
    .unwrap();
    let keys = [
        "Part",
        "Vendor",
        "Product",
        "Version",
        "Update",
        "Edition",
        "Language",
        "SwEdition",
        "TargetSw",
        "TargetHw",
        "Other",
    ];
    let entries = data.as_array().unwrap();
    assert_eq!(entries.len(), 996);
    for e in entries {
        let fs = e["cpe-string"].as_str().unwrap();
        let uri = e["cpe-url"].as_str().unwrap();
        let w = wfn(fs);
        assert_eq!(w.to_fs(), fs);
        assert_eq!(w.to_uri(), uri, "{fs}");
        assert_eq!(wfn(uri), w, "{uri}");
        for (attr, key) in Attribute::ALL.into_iter().zip(keys) {
            let want = e["wfn"][key].as_str().unwrap();
            let got = match w.get(attr) {
                AttrValue::Any => String::new(),
                AttrValue::Na => "-".into(),
                AttrValue::Value(q) => syft_form(q),
            };
            assert_eq!(got, want, "{fs} {key}");
        }
    }
}

/// Every CPE in CPython 3.13.5's SBOMs parses and binds back to itself.
#[test]
fn cpython_sbom_cpes_parse() {
    let mut n = 0;
    for file in [
        "cpython-3.13.5/sbom.spdx.json",
        "cpython-3.13.5/externals.spdx.json",
    ] {
        let text = std::fs::read_to_string(relkit_testkit::fixture(file)).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for p in doc["packages"].as_array().unwrap() {
            for r in p["externalRefs"].as_array().into_iter().flatten() {
                if r["referenceType"] == "cpe23Type" {
                    let s = r["referenceLocator"].as_str().unwrap();
                    let w = wfn(s);
                    assert_eq!(w.to_fs(), s);
                    assert_eq!(w.version().as_deref(), p["versionInfo"].as_str(), "{s}");
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, 13);
}

/// Every printable ASCII punctuation character (each needs quoting in a WFN).
const PUNCT: &str = r##"!"#$%&'()*+,-./:;<=>?@[\]^`{|}~"##;

fn value_strategy() -> impl Strategy<Value = AttrValue> {
    // Body: alphanumerics, '_' and quoted punctuation; optional wildcards at the ends.
    let body_char = prop_oneof![
        "[a-z0-9_]".prop_map(|s| s),
        proptest::sample::select(PUNCT.chars().collect::<Vec<_>>()).prop_map(|c| format!("\\{c}")),
    ];
    (
        prop_oneof![Just(""), Just("*"), Just("?"), Just("??")],
        proptest::collection::vec(body_char, 1..8),
        prop_oneof![Just(""), Just("*"), Just("?")],
    )
        .prop_map(|(pre, body, post)| AttrValue::Value(format!("{pre}{}{post}", body.concat())))
}

fn attr_strategy() -> impl Strategy<Value = AttrValue> {
    prop_oneof![Just(AttrValue::Any), Just(AttrValue::Na), value_strategy()]
}

fn wfn_strategy() -> impl Strategy<Value = Wfn> {
    (
        prop_oneof![Just("a"), Just("o"), Just("h")],
        proptest::collection::vec(attr_strategy(), 9),
        prop_oneof![
            Just(AttrValue::Any),
            Just(AttrValue::Na),
            Just(AttrValue::Value("en\\-us".into()))
        ],
    )
        .prop_map(|(part, vals, lang)| {
            let mut w = Wfn::new();
            w.set(Attribute::Part, AttrValue::Value(part.into()))
                .unwrap();
            let others = Attribute::ALL
                .into_iter()
                .filter(|a| !matches!(a, Attribute::Part | Attribute::Language));
            for (a, v) in others.zip(vals) {
                w.set(a, v).unwrap();
            }
            w.set(Attribute::Language, lang).unwrap();
            w
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// WFN -> FS -> WFN and WFN -> WFN string -> WFN are exact.
    #[test]
    fn fs_and_wfn_string_round_trip(w in wfn_strategy()) {
        let fs = w.to_fs();
        prop_assert_eq!(Wfn::parse(&fs).unwrap(), w.clone());
        prop_assert_eq!(Wfn::parse(&w.to_wfn_string()).unwrap(), w.clone());
        // FS -> WFN -> FS is exact as well.
        prop_assert_eq!(Wfn::parse(&fs).unwrap().to_fs(), fs);
    }

    /// WFN -> URI -> WFN is exact for lowercase names (URIs are case-insensitive).
    #[test]
    fn uri_round_trip(w in wfn_strategy()) {
        let uri = w.to_uri();
        let back = Wfn::parse(&uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        prop_assert_eq!(back.to_uri(), uri);
        prop_assert_eq!(back, w);
    }

    /// A name is always EQUAL to itself when it has no wildcards.
    #[test]
    fn self_comparison(w in wfn_strategy()) {
        let r = compare_names(&w, &w).relation;
        let wild = w.attributes().any(|(_, v)| v.has_wildcards());
        prop_assert_eq!(r == NameRelation::Equal, !wild);
    }

    /// Parsing arbitrary text never panics.
    #[test]
    fn parse_never_panics(s in "cpe:(2\\.3|/)[ -~]{0,60}") {
        let _ = Wfn::parse(&s);
    }
}
