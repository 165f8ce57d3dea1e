//! `go.sum` without `go.mod`. Trivy reads `go.sum` only to complement a `go.mod` older than
//! Go 1.17 (and lists nothing for these files, even beside a `go 1.16` go.mod: checked), so
//! the expectation comes from the file with the Go module reference's rule ("a line without
//! `/go.mod` authenticates the module's content"), applied by `grep`/`awk`, not relkit.

use std::collections::BTreeSet;
use std::path::Path;

use relkit_catalog::{Cataloger, GoSum};

use crate::common::{catalog, fixture};

/// `MODULE@VERSION` of the content lines, by awk.
fn content_lines(file: &Path) -> BTreeSet<String> {
    let out = relkit_testkit::run_ok(
        std::process::Command::new("awk")
            .arg(r#"$2 !~ /\/go\.mod$/ { sub(/^v/, "", $2); print "pkg:golang/" $1 "@" $2 }"#)
            .arg(file),
    );
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// fzf's and cobra's `go.sum` (their `go.mod` left out): every module whose content the file
/// authenticates, each with its `h1:` digest, and warnings saying how it was read.
#[test]
fn go_sum_lists_the_content_lines() {
    for dir in ["go/fzf-sum-only", "go/cobra-sum-only"] {
        let file = fixture(&format!("{dir}/go.sum"));
        let c = catalog(&file);
        assert_eq!(c.format, "go.sum (without go.mod)");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("without a go.mod"));
        assert!(c.edges.is_empty());
        let ours: BTreeSet<String> = c.packages.iter().map(|p| p.purl.clone()).collect();
        assert_eq!(ours, content_lines(&file), "{dir}");
        assert!(c.packages.iter().all(|p| p.checksums.len() == 1));
    }
    let c = catalog(&fixture("go/cobra-sum-only/go.sum"));
    let md2man = c
        .packages
        .iter()
        .find(|p| p.name == "github.com/cpuguy83/go-md2man/v2")
        .unwrap();
    // h1:XJtiaUW6dEEqVuZiMTn1ldk455QWwEIsMIJlo5vtkx0= in hex (base64 -d | xxd).
    assert_eq!(
        md2man.checksums[0].hex,
        "5c9b626945ba74412a56e6623139f595d938e79416c0422c308265a39bed931d"
    );
}

/// Several versions of one module (pre-1.17 files): the highest is cataloged, the others
/// named in warnings; malformed lines are located errors; beside a go.mod it declines.
#[test]
fn several_versions_and_bad_lines() {
    let h = "h1:XJtiaUW6dEEqVuZiMTn1ldk455QWwEIsMIJlo5vtkx0=";
    let text = format!(
        "golang.org/x/net v0.9.0 {h}\ngolang.org/x/net v0.10.0 {h}\ngolang.org/x/net v0.11.0/go.mod {h}\n"
    );
    let c = GoSum.catalog("go.sum", text.as_bytes()).unwrap();
    assert_eq!(c.packages.len(), 1);
    assert_eq!(c.packages[0].purl, "pkg:golang/golang.org/x/net@0.10.0");
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("line 1: golang.org/x/net v0.9.0 not cataloged"))
    );
    let err = GoSum
        .catalog("a/go.sum", b"golang.org/x/net v0.9.0\n")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("a/go.sum: line 1: malformed line"),
        "{err}"
    );
    let err = GoSum
        .catalog("a/go.sum", b"golang.org/x/net v0.9.0 h1:short\n")
        .unwrap_err();
    assert!(err.to_string().contains("malformed hash"), "{err}");
    let t = relkit_catalog::tree::catalog_files(
        [
            ("m/go.mod", &b"module m\n"[..]),
            ("m/go.sum", text.as_bytes()),
        ],
        &|p| p.to_string(),
    );
    assert_eq!(t.catalogs.len(), 1);
    assert_eq!(t.catalogs[0].format, "go.mod");
}
