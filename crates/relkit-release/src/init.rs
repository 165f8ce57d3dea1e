//! `relkit init`: a commented starter `relkit.toml` for the repository it is run in, filled
//! from what the tree shows (tag naming, build system, docs, an in-tree SBOM).

use std::path::Path;

/// What the repository looks like, as far as the starter plan cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detected {
    /// Project name (the directory's name).
    pub name: String,
    /// Tag pattern guessed from the existing tags.
    pub tag_pattern: String,
    /// The newest tag that matches it, if any.
    pub latest_tag: Option<String>,
    /// Suggested test command, from the build system found.
    pub test_command: Option<String>,
    /// Suggested docs command and output directory.
    pub docs: Option<(String, String)>,
    /// In-tree SBOM declaring vendored packages.
    pub in_tree_sbom: Option<String>,
}

/// Looks at the repository's tags and top-level files.
pub fn detect(repo: &Path) -> Detected {
    let name = std::fs::canonicalize(repo)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".into());
    let tags = relkit_source::list_tags(repo).unwrap_or_default();
    let versioned = |prefix: &str| {
        tags.iter()
            .filter(|t| {
                t.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count()
    };
    let prefix = ["v", "", &format!("{name}-"), "release-"]
        .into_iter()
        .max_by_key(|p| (versioned(p), p.is_empty() as u8 ^ 1))
        .filter(|p| versioned(p) > 0)
        .unwrap_or("v")
        .to_string();
    let latest_tag = tags
        .iter()
        .filter(|t| {
            t.strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .max_by(|a, b| natural_cmp(a, b))
        .cloned();
    let has = |p: &str| repo.join(p).exists();
    let test_command = if has("configure") || has("configure.ac") {
        let configure = if has("configure") {
            "./configure"
        } else {
            "autoreconf -fi && ./configure"
        };
        Some(format!("{configure} && make -j2 && make check"))
    } else if has("CMakeLists.txt") {
        Some("cmake -B build && cmake --build build -j2 && ctest --test-dir build".into())
    } else if has("Cargo.toml") {
        Some("cargo test --locked".into())
    } else if has("pyproject.toml") || has("setup.py") {
        Some("python3 -m pip install . && python3 -m pytest".into())
    } else if has("Makefile") {
        Some("make -j2 && make check".into())
    } else {
        None
    };
    let docs = ["Doc", "docs", "doc"].into_iter().find_map(|d| {
        if repo.join(d).join("conf.py").exists() {
            Some((
                format!("sphinx-build -b html {d} {d}/build/html"),
                format!("{d}/build/html"),
            ))
        } else {
            None
        }
    });
    let in_tree_sbom = ["Misc/sbom.spdx.json", "sbom.spdx.json"]
        .into_iter()
        .find(|p| has(p))
        .map(str::to_string);
    Detected {
        name,
        tag_pattern: format!("{prefix}{{version}}"),
        latest_tag,
        test_command,
        docs,
        in_tree_sbom,
    }
}

/// Compares version-like strings with digit runs as numbers (`v1.10` after `v1.9`).
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        let mut digits = String::new();
        let mut text = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                if !text.is_empty() {
                    out.push((0, std::mem::take(&mut text)));
                }
                digits.push(c);
            } else {
                if !digits.is_empty() {
                    out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                    digits.clear();
                }
                text.push(c);
            }
        }
        if !digits.is_empty() {
            out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
        }
        if !text.is_empty() {
            out.push((0, text));
        }
        out
    }
    parts(a).cmp(&parts(b))
}

/// The commented starter plan for `detected`.
pub fn starter(d: &Detected) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# relkit.toml — the release plan of {name}, read by `relkit release plan|run|status`,\n\
         # `relkit build source` and `relkit ci github`. Every key is documented in relkit's README.\n\
         # Unknown keys are errors, so a typo never silently changes a release.\n\n\
         [project]\nname = {name:?}\n# version = \"1.2.3\"          # default: taken from the tag through [release] tag\n\n",
        name = d.name
    ));
    s.push_str(&format!(
        "[release]\ntag = {:?}            # how release tags are named{}\n\
         # version-file = \"VERSION\"  # or: the version is the first line of this file at the tag\n\
         dist = \"dist\"                # where the release's files are written\n\
         state-dir = \".relkit\"        # checkpoint (state.json), logs, reports\n\n",
        d.tag_pattern,
        d.latest_tag
            .as_ref()
            .map(|t| format!(" (newest: {t})"))
            .unwrap_or_default()
    ));
    s.push_str(
        "[source]\nprefix = \"{name}-{version}\"   # top-level directory in the archives\n\
         formats = [\"tar.gz\", \"tar.xz\"]\n\
         exclude = [\".github\"]           # left out of the archives (globs)\n\
         # prepare = [\"autoreconf -fi\"]  # commands run in the export before archiving\n\n",
    );
    match &d.docs {
        Some((command, output)) => s.push_str(&format!(
            "[docs]\ncommand = {command:?}\noutput = {output:?}\nformats = [\"tar.xz\"]\n\n"
        )),
        None => s.push_str(
            "# [docs]\n# command = \"make -C docs html\"\n# output = \"docs/_build/html\"\n# formats = [\"tar.xz\"]\n\n",
        ),
    }
    s.push_str(
        "# Artifacts built elsewhere (installers, binaries), admitted only after a checksum check:\n\
         # [[gather]]\n# name = \"{name}-{version}-win64.zip\"\n\
         # url = \"https://builds.example.org/{version}/{name}-{version}-win64.zip\"\n\
         # sums = \"https://builds.example.org/{version}/SHA256SUMS\"\n\
         # sums-signature = \"https://builds.example.org/{version}/SHA256SUMS.minisig\"\n\
         # key = \"keys/windows-builder.pub\"\n\n",
    );
    match &d.test_command {
        Some(c) => s.push_str(&format!(
            "# Run on the built source archive, unpacked in a clean directory:\n[[test]]\nname = \"check\"\ncommand = {c:?}\n\n"
        )),
        None => s.push_str(
            "# [[test]]\n# name = \"check\"\n# command = \"./configure && make -j2 && make check\"\n\n",
        ),
    }
    s.push_str("[sbom]\nformats = [\"spdx-json\", \"cyclonedx-json\"]\n");
    if let Some(p) = &d.in_tree_sbom {
        s.push_str(&format!(
            "in-tree = {p:?}   # vendored packages declared in the tree\n"
        ));
    }
    s.push_str(
        "# supplier = \"Organization: Example\"\n# license = \"MIT\"\n\n\
         [scan]\nfail-on = \"critical\"   # stop the release on findings at or above: critical|high|medium|low|none\n\
         # db = \"vuln.sqlite\"      # default: the DB of `relkit db update`; \"sample\" = demo data only\n\
         max-age = \"7d\"          # an older DB (import or newest record) stops the release\n\n\
         [audit]\nenabled = true          # the tarball audited against the tag (files not in git)\n\n\
         # [health]                       # how critical and looked-after each dependency is\n\
         # repos = \"upstream/\"             # git histories (dirs, bare repos, .bundle files)\n\
         # debian-packages = [\"bookworm=Packages.xz\"]\n\
         # fail-on-findings = false       # true: critical-languishing/transition stop the release\n\n\
         # [sign]\n# key = \"release.key\"        # from `relkit key generate`; or pass --key\n\
         # style = \"bundle\"            # bundle (.sigstore.json) | minisign | raw\n\n\
         # [attest]\n# provenance = true\n\n\
         # [publish]\n# dir = \"/srv/releases/{name}/{version}\"\n\
         # url = \"https://releases.example.org\"   # or a `relkit serve` server\n\
         # token-file = \"upload.token\"\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_plan_is_valid_for_every_detection() {
        let cases = [
            Detected {
                name: "hello".into(),
                tag_pattern: "v{version}".into(),
                ..Detected::default()
            },
            Detected {
                name: "Python".into(),
                tag_pattern: "v{version}".into(),
                latest_tag: Some("v3.13.5".into()),
                test_command: Some("./configure && make -j2 && make check".into()),
                docs: Some(("make -C Doc html".into(), "Doc/build/html".into())),
                in_tree_sbom: Some("Misc/sbom.spdx.json".into()),
            },
        ];
        for d in cases {
            let text = starter(&d);
            let plan = crate::Plan::parse(&text, Path::new("relkit.toml"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(plan.project.name.as_deref(), Some(d.name.as_str()));
            assert_eq!(plan.test.len(), usize::from(d.test_command.is_some()));
            assert_eq!(plan.docs.is_some(), d.docs.is_some());
        }
    }

    #[test]
    fn versions_sort_naturally() {
        let mut tags = vec!["v1.10.0", "v1.9.2", "v1.9.10", "v2.0.0rc1"];
        tags.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(tags, ["v1.9.2", "v1.9.10", "v1.10.0", "v2.0.0rc1"]);
    }
}
