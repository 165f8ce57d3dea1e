//! relkit-health's integration tests: the Debian graph on real indexes, the history metrics
//! on real upstream repositories and a synthetic one, verdicts and the whole report.

mod common {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use relkit_health::{Inputs, Policy};

    /// A file of the team's shared real data (`../shared/data` from the repository root), or
    /// `None` after `relkit_testkit::missing` (a failure in CI).
    pub fn shared(rel: &str) -> Option<PathBuf> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data")
            .join(rel);
        if p.exists() {
            Some(p)
        } else {
            relkit_testkit::missing(&format!("shared data {}", p.display()));
            None
        }
    }

    /// Where the tests unpack bundles (shared by the tests, kept between runs).
    pub fn cache() -> PathBuf {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("relkit-health-cache")
    }

    pub fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// Inputs for `sbom` with the shared repositories and bookworm, as of `date`.
    pub fn inputs(sbom: PathBuf, date: &str) -> Option<Inputs> {
        Some(Inputs {
            sbom,
            repos: Some(shared("git")?),
            packages: vec![(
                "bookworm".into(),
                shared("debian/bookworm_main_binary-amd64_Packages.xz")?,
            )],
            maps: vec![],
            policy: Policy::default(),
            as_of: Some(relkit_health::date::parse_end_of_day(date).unwrap()),
            timeline: false,
            roots: relkit_health::debian::DEFAULT_ROOTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cache: cache(),
        })
    }

    /// Runs git (the test's fixture builder and oracle; relkit never runs it).
    pub fn git(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut cmd = Command::new("git");
        cmd.current_dir(dir)
            .args([
                "-c",
                "user.name=Fixture",
                "-c",
                "user.email=fixture@example.org",
            ])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        String::from_utf8(relkit_testkit::run_ok(&mut cmd))
            .unwrap()
            .trim()
            .to_string()
    }
}

mod debian {
    //! The figures of issue #19, computed independently from the same files (see
    //! ../shared/data/debian/SOURCES.md), reproduced exactly with relkit's documented
    //! definition: every alternative of `a | b` and every provider of a `Provides` name is an
    //! edge; transitive counts exclude the package itself; rank = 1 + packages with more.
    use super::common::shared;
    use relkit_health::debian::{Alternatives, Graph, read_packages_text};
    use std::time::Instant;

    fn index(suite: &str) -> Option<std::path::PathBuf> {
        shared(&format!("debian/{suite}_main_binary-amd64_Packages.xz"))
    }

    /// apt keeps its lists as `.lz4` (LZ4 frames): the same text as the `.xz` index, with
    /// GNU xz and the lz4 tool as the producers.
    #[test]
    fn an_lz4_index_reads_like_the_xz_one() {
        let Some(p) = index("trixie") else { return };
        if relkit_testkit::oracle("lz4").is_none() || relkit_testkit::oracle("xz").is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("Packages");
        let lz4 = tmp.path().join("Packages.lz4");
        let out = relkit_testkit::run_ok(std::process::Command::new("xz").arg("-dc").arg(&p));
        std::fs::write(&plain, &out).unwrap();
        relkit_testkit::run_ok(
            std::process::Command::new("lz4")
                .args(["-q", "-f"])
                .arg(&plain)
                .arg(&lz4),
        );
        assert_eq!(
            read_packages_text(&lz4).unwrap(),
            read_packages_text(&p).unwrap()
        );
    }

    #[test]
    fn bookworm_liblzma5_and_zlib1g_figures_and_the_sshd_path() {
        let Some(p) = index("bookworm") else { return };
        let t = Instant::now();
        let g = Graph::load("bookworm", &p).unwrap();
        // A full index in well under the 3 s goal (not a timed test: the bound is loose).
        assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
        assert_eq!(g.len(), 63_436);
        let l = g.stats("liblzma5").unwrap();
        assert_eq!(l.source, "xz-utils");
        assert_eq!((l.transitive, l.transitive_rank), (36_093, 6));
        assert_eq!(format!("{:.1}", l.share * 100.0), "56.9");
        assert_eq!((l.direct, l.direct_rank), (136, 199));
        assert!(l.essential_closure);
        assert_eq!(l.essential_path, ["dpkg", "liblzma5"]);
        let z = g.stats("zlib1g").unwrap();
        assert_eq!(z.transitive_rank, 4);
        assert_eq!(
            g.shortest_path("openssh-server", "liblzma5").unwrap(),
            ["openssh-server", "libsystemd0", "liblzma5"]
        );
        assert_eq!(
            g.binaries_of_source("xz-utils"),
            [
                "liblzma-dev",
                "liblzma-doc",
                "liblzma5",
                "xz-utils",
                "xzdec"
            ]
        );
    }

    #[test]
    fn first_alternative_only_is_a_different_definition() {
        // Counting only the first member of `a | b` (what apt installs by default) gives
        // 33,713 for liblzma5 (rank 6, direct rank 186): not the figures, which is why
        // every alternative counts.
        let Some(p) = index("bookworm") else { return };
        let text = read_packages_text(&p).unwrap();
        let g = Graph::from_text("bookworm", &p, &text, Alternatives::First).unwrap();
        let l = g.stats("liblzma5").unwrap();
        assert_eq!(
            (l.transitive, l.transitive_rank, l.direct_rank),
            (33_713, 6, 186)
        );
    }

    #[test]
    fn trixie_has_no_libsystemd0_path_and_bullseye_has_it() {
        let Some(p) = index("trixie") else { return };
        let g = Graph::load("trixie", &p).unwrap();
        assert_eq!(g.len(), 68_824);
        assert!(!g.depends_directly("libsystemd0", "liblzma5"));
        // Not only that path: openssh-server reaches liblzma5 in no way at all in trixie.
        assert_eq!(g.shortest_path("openssh-server", "liblzma5"), None);
        let Some(p) = index("bullseye") else { return };
        let g = Graph::load("bullseye", &p).unwrap();
        assert_eq!(g.len(), 58_653);
        // Two shortest paths of length 2 there; breadth-first search meets dpkg first.
        assert_eq!(
            g.shortest_path("openssh-server", "liblzma5").unwrap().len(),
            3
        );
        assert!(g.depends_directly("openssh-server", "libsystemd0"));
        assert!(g.depends_directly("libsystemd0", "liblzma5"));
        // The issue: liblzma5 is #8 in bullseye by transitive reverse dependencies.
        assert_eq!(g.stats("liblzma5").unwrap().transitive_rank, 8);
    }

    #[test]
    fn corrupt_index_is_located() {
        let Some(p) = index("bookworm") else { return };
        let text = read_packages_text(&p).unwrap();
        let mut lines: Vec<&str> = text.lines().take(400).collect();
        lines[122] = "this line is not a field";
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("Packages");
        std::fs::write(&bad, lines.join("\n")).unwrap();
        let err = Graph::load("bookworm", &bad).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}:123: corrupt Debian Packages index",
                bad.display()
            )),
            "{err}"
        );
    }
}

mod real {
    //! The verdicts issue #19 asserts, on the real histories, with CPython 3.13.5's
    //! externals SBOM (xz, zlib, libffi, bzip2, mpdecimal, …) and Debian bookworm.
    use super::common::{inputs, shared};
    use relkit_health::report::ComponentReport;
    use relkit_health::{Report, Verdict, assess};

    fn report(date: &str) -> Option<Report> {
        let sbom = shared("cpython/v3.13.5/externals.spdx.json")?;
        Some(assess(&inputs(sbom, date)?, &|_| {}).unwrap())
    }

    fn component<'a>(r: &'a Report, name: &str) -> &'a ComponentReport {
        r.components.iter().find(|c| c.name == name).unwrap()
    }

    fn flag<'a>(c: &'a ComponentReport, name: &str) -> &'a relkit_health::verdict::Flag {
        c.flags
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{} has no {name} flag: {:?}", c.name, c.flags))
    }

    #[test]
    fn xz_in_june_2022_is_critical_and_languishing() {
        let Some(r) = report("2022-06-30") else {
            return;
        };
        let xz = component(&r, "xz");
        assert_eq!(xz.verdict, Verdict::CriticalLanguishing, "{:?}", xz.reasons);
        let m = &xz.health.as_ref().unwrap().metrics;
        let last = m.last_stable_release.as_ref().unwrap();
        assert_eq!(
            (last.tag.as_str(), last.date.as_str()),
            ("v5.2.5", "2020-03-17")
        );
        assert_eq!(m.days_since_last_stable_release, Some(835));
        assert!(
            flag(xz, "release-starved")
                .evidence
                .contains("v5.2.5 of 2020-03-17")
        );
        assert_eq!(m.top_authors[0].name, "Lasse Collin");
        assert!(m.top1_share >= 0.75, "{}", m.top1_share);
        flag(xz, "concentrated");
        assert_eq!(m.truck_factor, Some(1));
        assert_eq!(m.truck_factor_authors, ["Lasse Collin"]);
        flag(xz, "truck-factor-1");
        assert!(xz.flags.iter().all(|f| f.name != "signer-change"));
        // Criticality evidence: the figures and the sshd path.
        let k = xz.criticality.as_ref().unwrap();
        let s = &k.suites[0];
        assert_eq!(s.stats.package, "liblzma5");
        assert_eq!((s.stats.transitive, s.stats.transitive_rank), (36_093, 6));
        let sshd = s.paths.iter().find(|p| p.root == "openssh-server").unwrap();
        assert_eq!(sshd.path, ["openssh-server", "libsystemd0", "liblzma5"]);
    }

    #[test]
    fn xz_in_june_2023_is_in_transition_after_the_signer_change() {
        let Some(r) = report("2023-06-30") else {
            return;
        };
        let xz = component(&r, "xz");
        assert_eq!(xz.verdict, Verdict::Transition, "{:?}", xz.reasons);
        assert_eq!(xz.languishing_at.as_deref(), Some("2022-06-30"));
        let m = &xz.health.as_ref().unwrap().metrics;
        let change = m.signer_changes.last().unwrap();
        assert_eq!(
            (
                change.signer.as_str(),
                change.date.as_str(),
                change.previous_signer.as_str()
            ),
            ("59FCF207FEA7F445", "2023-03-18", "38EE757D69184620")
        );
        assert_eq!(change.tag, "v5.2.11");
        assert_eq!(change.previous_run, 32);
        assert!(flag(xz, "signer-change").evidence.contains("Jia Tan"));
        let n = m.newcomer.as_ref().unwrap();
        assert_eq!((n.name.as_str(), n.made_newest_release), ("Jia Tan", true));
        flag(xz, "newcomer-control");
    }

    #[test]
    fn zlib_in_june_2021_is_critical_and_languishing_and_libffi_in_march_2024_is_not() {
        let Some(r) = report("2021-06-30") else {
            return;
        };
        let zlib = component(&r, "zlib");
        assert_eq!(
            zlib.verdict,
            Verdict::CriticalLanguishing,
            "{:?}",
            zlib.reasons
        );
        let m = &zlib.health.as_ref().unwrap().metrics;
        let last = m.last_stable_release.as_ref().unwrap();
        assert_eq!(
            (last.tag.as_str(), last.date.as_str()),
            ("v1.2.11", "2017-01-15")
        );
        // One author: Mark Adler alone in the two years (refs/pull/* proposals left out).
        assert_eq!(m.authors_24m, 1);
        assert_eq!(m.top_authors[0].name, "Mark Adler");
        assert_eq!(m.top1_share, 1.0);
        assert_eq!(m.truck_factor, Some(1));
        for f in ["release-starved", "concentrated", "truck-factor-1"] {
            flag(zlib, f);
        }
        let k = zlib.criticality.as_ref().unwrap();
        assert_eq!(k.suites[0].stats.transitive_rank, 4);

        let Some(r) = report("2024-03-28") else {
            return;
        };
        let libffi = component(&r, "libffi");
        assert_ne!(
            libffi.verdict,
            Verdict::CriticalLanguishing,
            "{:?}",
            libffi.reasons
        );
        let m = &libffi.health.as_ref().unwrap().metrics;
        assert_eq!(m.last_stable_release.as_ref().unwrap().tag, "v3.4.6");
        assert!(
            libffi
                .flags
                .iter()
                .all(|f| f.family != relkit_health::verdict::Family::Neglect)
        );
    }

    #[test]
    fn cpython_sboms_end_to_end_every_component_has_a_verdict_or_a_reason() {
        for name in ["externals.spdx.json", "sbom.spdx.json"] {
            let Some(sbom) = shared(&format!("cpython/v3.13.5/{name}")) else {
                return;
            };
            let Some(mut i) = inputs(sbom, "2025-06-30") else {
                return;
            };
            i.timeline = true;
            let r = assess(&i, &|_| {}).unwrap();
            let doc = relkit_sbom::read_file(&i.sbom).unwrap().0;
            assert_eq!(
                r.components.len(),
                doc.packages.len(),
                "{name}: nothing dropped"
            );
            for c in &r.components {
                assert!(!c.reasons.is_empty(), "{name}: {} has no reason", c.name);
                if c.verdict == Verdict::NoData {
                    assert!(
                        !c.missing.is_empty(),
                        "{name}: {} is no-data without what is missing",
                        c.name
                    );
                }
            }
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["schema"], "relkit-health/1");
            if name == "sbom.spdx.json" {
                // mpdecimal has no own package in bookworm: it inherits libpython3.11-stdlib's.
                let m = component(&r, "mpdecimal");
                let s = &m.criticality.as_ref().unwrap().suites[0];
                assert_eq!(s.inherited_from.as_deref(), Some("libpython3.11-stdlib"));
                // python3-macholib is in bookworm, needed by few packages.
                assert_eq!(component(&r, "macholib").verdict, Verdict::NotCritical);
                let hacl = component(&r, "hacl-star");
                assert_eq!(hacl.verdict, Verdict::NoData);
                assert!(
                    hacl.missing[0].contains("no Debian binary package"),
                    "{:?}",
                    hacl.missing
                );
                assert_eq!(component(&r, "libb2").verdict, Verdict::NotCritical);
            } else {
                let xz = component(&r, "xz");
                assert!(!xz.timeline.is_empty());
                let at = |q: &str| xz.timeline.iter().find(|p| p.quarter == q).unwrap().verdict;
                assert_eq!(at("2022-Q2"), Verdict::CriticalLanguishing);
                assert_eq!(at("2023-Q2"), Verdict::Transition);
            }
        }
    }
}

mod signatures {
    //! Every signed xz release tag: relkit's issuer key id equals what `gpg --list-packets`
    //! reads from the same signature (git extracts it; both are oracles).
    use super::common::{cache, git, shared};
    use relkit_health::history::{History, default_prefixes};

    #[test]
    fn every_xz_tag_signer_matches_gpg() {
        let Some(bundle) = shared("git/xz.bundle") else {
            return;
        };
        if relkit_testkit::oracle("gpg").is_none() || relkit_testkit::oracle("git").is_none() {
            return;
        }
        let opened = relkit_health::repo::open(&bundle, &cache()).unwrap();
        let dir = opened.repo.git_dir().to_path_buf();
        let h = History::read(opened, &default_prefixes("xz")).unwrap();
        let mut checked = 0;
        for t in h.tags.iter().filter(|t| t.annotated) {
            let text = git(&dir, &["cat-file", "tag", &t.name], &[]);
            let sig: String = match text.find("-----BEGIN PGP SIGNATURE-----") {
                Some(i) => text[i..].to_string() + "\n",
                None => {
                    assert!(t.signer.is_none(), "{}", t.name);
                    continue;
                }
            };
            let mut child = std::process::Command::new("gpg")
                .args(["--list-packets"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(sig.as_bytes())
                .unwrap();
            let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
            let keyid = out
                .split("keyid ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            assert_eq!(t.signer.as_ref().unwrap().key_id, keyid, "{}", t.name);
            checked += 1;
        }
        assert!(checked >= 50, "{checked}");
    }

    #[test]
    fn history_pass_sees_the_changes_git_log_lists() {
        let Some(bundle) = shared("git/xz.bundle") else {
            return;
        };
        if relkit_testkit::oracle("git").is_none() {
            return;
        }
        let opened = relkit_health::repo::open(&bundle, &cache()).unwrap();
        let dir = opened.repo.git_dir().to_path_buf();
        let h = History::read(opened, &default_prefixes("xz")).unwrap();
        let log = git(
            &dir,
            &[
                "log",
                "--branches",
                "--tags",
                "--no-merges",
                "--no-renames",
                "--name-status",
                "--format=%H",
            ],
            &[],
        );
        let commits = log
            .lines()
            .filter(|l| l.len() == 40 && !l.contains('\t'))
            .count();
        let changes = log.lines().filter(|l| l.contains('\t')).count();
        assert_eq!(h.commits.iter().filter(|c| !c.merge).count(), commits);
        assert_eq!(
            h.commits.iter().map(|c| c.changes.len()).sum::<usize>(),
            changes
        );
    }
}

mod synthetic {
    //! A repository built here with fixed dates, several identities (a case-different e-mail,
    //! a .mailmap'd old e-mail, a bot), annotated, lightweight, pre-release and signed tags
    //! (signature blocks of xz's v5.2.5 and v5.2.11 tags: two different keys). Every number
    //! and flag below is worked out by hand in the comments.
    use std::path::{Path, PathBuf};

    use super::common::{cache, fixture, git};
    use relkit_health::date::parse_end_of_day;
    use relkit_health::history::{History, default_prefixes, release_version};
    use relkit_health::metrics::{self, Metrics};
    use relkit_health::verdict::{self, Family};
    use relkit_health::{Policy, Tier, Verdict};

    const ALICE: (&str, &str) = ("Alice", "alice@example.org");

    fn commit(
        dir: &Path,
        who: (&str, &str),
        date: &str,
        files: &[(&str, &str)],
        msg: &str,
    ) -> String {
        for (path, content) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
            git(dir, &["add", path], &[]);
        }
        let when = format!("{date}T12:00:00Z");
        let env = [
            ("GIT_AUTHOR_NAME", who.0),
            ("GIT_AUTHOR_EMAIL", who.1),
            ("GIT_AUTHOR_DATE", when.as_str()),
            ("GIT_COMMITTER_NAME", who.0),
            ("GIT_COMMITTER_EMAIL", who.1),
            ("GIT_COMMITTER_DATE", when.as_str()),
        ];
        git(dir, &["commit", "-q", "-m", msg], &env);
        git(dir, &["rev-parse", "HEAD"], &[])
    }

    fn tag(
        dir: &Path,
        name: &str,
        target: &str,
        tagger: (&str, &str),
        date: &str,
        sig: Option<&str>,
    ) {
        let secs = parse_end_of_day(date).unwrap() - 86_399 + 43_200;
        let mut text = format!(
            "object {target}\ntype commit\ntag {name}\ntagger {} <{}> {secs} +0000\n\nRelease {name}\n",
            tagger.0, tagger.1
        );
        if let Some(f) = sig {
            text.push_str(&std::fs::read_to_string(fixture(f)).unwrap());
        }
        let file = dir.join(".git/tag-object");
        std::fs::write(&file, text).unwrap();
        let id = git(
            dir,
            &["hash-object", "-t", "tag", "-w", ".git/tag-object"],
            &[],
        );
        git(dir, &["update-ref", &format!("refs/tags/{name}"), &id], &[]);
    }

    /// Builds the repository; returns its path.
    pub fn build(root: &Path) -> PathBuf {
        let dir = root.join("synth");
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q", "-b", "main"], &[]);
        let src = |n: &str| format!("int {n}(void) {{ return 0; }}\n");
        // 1. Alice creates three source files and a README.
        commit(
            &dir,
            ALICE,
            "2019-01-10",
            &[
                ("src/a.c", &src("a")),
                ("src/b.c", &src("b")),
                ("src/c.c", &src("c")),
                ("README", "synth\n"),
                (".mailmap", "Bob <bob@example.org> <bob@old.example>\n"),
            ],
            "start",
        );
        // 2. Alice changes a.c; 3. the same e-mail in capitals with another name changes b.c.
        commit(&dir, ALICE, "2019-02-01", &[("src/a.c", &src("a2"))], "a2");
        let c3 = commit(
            &dir,
            ("alice", "ALICE@Example.org"),
            "2019-03-01",
            &[("src/b.c", &src("b2"))],
            "b2",
        );
        // 4. Robert (old e-mail, .mailmap'd to Bob) creates d.c; 5. Bob changes it.
        commit(
            &dir,
            ("Robert", "bob@old.example"),
            "2019-04-01",
            &[("src/d.c", &src("d"))],
            "d",
        );
        let c5 = commit(
            &dir,
            ("Bob", "bob@example.org"),
            "2019-05-01",
            &[("src/d.c", &src("d2"))],
            "d2",
        );
        // 6. A bot changes the README; 7. Alice changes c.c.
        commit(
            &dir,
            (
                "dependabot[bot]",
                "49699333+dependabot[bot]@users.noreply.github.com",
            ),
            "2019-06-01",
            &[("README", "synth 2\n")],
            "bump",
        );
        let c7 = commit(&dir, ALICE, "2019-07-10", &[("src/c.c", &src("c2"))], "c2");
        // 8, 9. Carol, new, changes a.c and b.c.
        commit(
            &dir,
            ("Carol", "carol@example.net"),
            "2021-01-10",
            &[("src/a.c", &src("a3"))],
            "a3",
        );
        let c9 = commit(
            &dir,
            ("Carol", "carol@example.net"),
            "2021-02-10",
            &[("src/b.c", &src("b3"))],
            "b3",
        );
        // v1.0: annotated, signed with key 38EE757D69184620; v1.1: lightweight; v1.2-rc1:
        // annotated pre-release, unsigned; v2.0: annotated by Carol, key 59FCF207FEA7F445.
        tag(
            &dir,
            "v1.0",
            &c3,
            ALICE,
            "2019-03-15",
            Some("xz-v5.2.5-tag-signature.asc"),
        );
        git(&dir, &["tag", "v1.1", &c5], &[]);
        tag(&dir, "v1.2-rc1", &c7, ALICE, "2019-07-11", None);
        tag(
            &dir,
            "v2.0",
            &c9,
            ("Carol", "carol@example.net"),
            "2021-02-11",
            Some("xz-v5.2.11-tag-signature.asc"),
        );
        dir
    }

    fn history(dir: &Path) -> History {
        let opened = relkit_health::repo::open(dir, &cache()).unwrap();
        History::read(opened, &default_prefixes("synth")).unwrap()
    }

    fn at(h: &History, date: &str, p: &Policy) -> (Metrics, Vec<&'static str>) {
        let m = metrics::compute(h, parse_end_of_day(date).unwrap(), p).unwrap();
        let (flags, _) = verdict::flags(&m, p);
        let names = flags.iter().map(|f| f.name).collect();
        (m, names)
    }

    #[test]
    fn every_number_and_flag_of_a_synthetic_history() {
        if relkit_testkit::oracle("git").is_none() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let h = history(&build(tmp.path()));
        // Identities: Alice (two spellings, one e-mail), Bob (mailmap), the bot, Carol.
        let names: Vec<(&str, bool)> = h
            .identities
            .iter()
            .map(|i| (i.name.as_str(), i.bot))
            .collect();
        assert_eq!(h.identities.len(), 4, "{names:?}");
        assert!(names.contains(&("dependabot[bot]", true)));
        let bob = h.identities.iter().find(|i| i.name == "Bob").unwrap();
        assert_eq!(bob.emails, ["bob@example.org"]);
        // Tags: four release tags, one pre-release, one lightweight.
        let t: Vec<(&str, bool, bool, Option<&str>)> = h
            .tags
            .iter()
            .map(|t| {
                (
                    t.name.as_str(),
                    t.stable,
                    t.annotated,
                    t.signer.as_ref().map(|s| s.key_id.as_str()),
                )
            })
            .collect();
        assert_eq!(
            t,
            [
                ("v1.0", true, true, Some("38EE757D69184620")),
                ("v1.1", true, false, None),
                ("v1.2-rc1", false, true, None),
                ("v2.0", true, true, Some("59FCF207FEA7F445")),
            ]
        );
        assert_eq!(h.tags[1].date, "2019-05-01"); // lightweight: the commit's date

        let p = Policy::default();
        let (m, flags) = at(&h, "2021-06-30", &p);
        // 12 months (2020-06-30, 2021-06-30]: commits 8 and 9 by Carol.
        assert_eq!((m.commits_12m, m.authors_12m), (2, 1));
        // 24 months: commits 7 (Alice), 8, 9 (Carol); the bot's commit 6 is older anyway.
        assert_eq!((m.commits_24m, m.authors_24m), (3, 2));
        assert_eq!((m.top1_share, m.top2_share), (0.6667, 1.0));
        assert_eq!(m.top_authors[0].name, "Carol");
        assert_eq!(m.contributor_absence_factor, 1);
        assert_eq!(
            (m.last_commit.as_deref(), m.days_since_last_commit),
            (Some("2021-02-10"), Some(140))
        );
        let rel = m.last_stable_release.as_ref().unwrap();
        assert_eq!(
            (rel.tag.as_str(), m.days_since_last_stable_release),
            ("v2.0", Some(139))
        );
        // Truck factor: a.c, b.c, c.c created by Alice (Carol's single later change gives her
        // DOA 3.293 + 0.164 - 0.321 ln 3 = 3.10 < 3.293); d.c by Bob. Without Alice three of
        // four files are orphaned: 1.
        assert_eq!((m.truck_factor, m.truck_factor_files), (Some(1), 4));
        assert_eq!(m.truck_factor_authors, ["Alice"]);
        // Signer change at v2.0 after one release signed by the old key.
        let c = &m.signer_changes[0];
        assert_eq!(
            (c.tag.as_str(), c.previous_run, c.previous_signer.as_str()),
            ("v2.0", 1, "38EE757D69184620")
        );
        let n = m.newcomer.as_ref().unwrap();
        assert_eq!(
            (n.name.as_str(), n.share_12m, n.made_newest_release),
            ("Carol", 1.0, true)
        );
        assert_eq!(
            flags,
            [
                "low-activity",
                "truck-factor-1",
                "signer-change",
                "newcomer-control"
            ]
        );
        // 2020-12-31: nothing for 540 days; 0 commits in 12 months; v1.1 (the rc does not
        // count) 610 days old, under 730; Alice 4 of 6 commits in 24 months (66.7%).
        let (m, flags) = at(&h, "2020-12-31", &p);
        assert_eq!(m.days_since_last_commit, Some(540));
        assert_eq!(m.last_stable_release.as_ref().unwrap().tag, "v1.1");
        assert_eq!(m.days_since_last_stable_release, Some(610));
        assert_eq!((m.window_commits, m.top1_share), (6, 0.6667));
        assert_eq!(flags, ["low-activity", "dormant", "truck-factor-1"]);
        // 2021-09-30 with a stricter policy: release-starved from 200 days (v2.0 is 231 days
        // old), concentrated from 60% (Carol alone since 2019-10), and a 100-day stale limit (newest commit 2021-02-10, 232 days before: stale, so
        // neither low-activity nor dormant is concluded).
        let strict = Policy::parse(
            "release_starved_days = 200\nconcentrated_share = 0.6\nstale_days = 100\n",
            "strict.toml",
        )
        .unwrap();
        let (m, flags) = at(&h, "2021-09-30", &strict);
        assert!(m.stale);
        assert_eq!(
            flags,
            [
                "release-starved",
                "concentrated",
                "truck-factor-1",
                "signer-change",
                "newcomer-control"
            ]
        );
        // Verdict rules.
        let (m, _) = at(&h, "2021-06-30", &p);
        let (f, _) = verdict::flags(&m, &p);
        assert_eq!(
            verdict::decide(Tier::Critical, &f, &p, false),
            Verdict::CriticalLanguishing
        );
        assert_eq!(
            verdict::decide(Tier::Important, &f, &p, false),
            Verdict::Watch
        );
        assert_eq!(
            verdict::decide(Tier::Low, &f, &p, false),
            Verdict::NotCritical
        );
        let control: Vec<_> = f
            .iter()
            .filter(|x| x.family == Family::Control)
            .cloned()
            .collect();
        assert_eq!(
            verdict::decide(Tier::Critical, &control, &p, true),
            Verdict::Transition
        );
        assert_eq!(
            verdict::decide(Tier::Critical, &control, &p, false),
            Verdict::Watch
        );
        assert_eq!(verdict::decide(Tier::Critical, &[], &p, true), Verdict::Ok);
    }

    #[test]
    fn release_tag_patterns() {
        let p = default_prefixes("bzip2");
        assert_eq!(release_version("v5.2.5", &p), Some(("5.2.5".into(), true)));
        assert_eq!(release_version("v5.3.1alpha", &p).map(|v| v.1), Some(false));
        assert_eq!(release_version("v3.5.0-rc1", &p).map(|v| v.1), Some(false));
        assert_eq!(release_version("R_2_6_3", &p), Some(("2.6.3".into(), true)));
        assert_eq!(
            release_version("bzip2-1.0.8", &p),
            Some(("1.0.8".into(), true))
        );
        assert_eq!(release_version("debian/1.0-1", &p), None);
        assert_eq!(release_version("v2", &p), None);
        assert_eq!(release_version("v1.0-fixes", &p), None);
    }
}
