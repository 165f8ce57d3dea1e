//! The report as text: a table sorted by severity, and `--explain NAME` for one component.
//! (Strings only; the CLI prints them.)

use std::fmt::Write as _;

use crate::report::{ComponentReport, Report};

fn tier_of(c: &ComponentReport) -> &'static str {
    match c.criticality.as_ref().map(|k| k.tier) {
        Some(crate::Tier::Critical) => "critical",
        Some(crate::Tier::Important) => "important",
        Some(crate::Tier::Low) => "low",
        None => "-",
    }
}

fn best_suite(c: &ComponentReport) -> String {
    c.criticality
        .as_ref()
        .and_then(|k| {
            k.suites
                .iter()
                .max_by(|a, b| a.stats.share.total_cmp(&b.stats.share))
        })
        .map(|s| {
            format!(
                "{} {:.1}% #{} ({})",
                s.stats.package,
                s.stats.share * 100.0,
                s.stats.transitive_rank,
                s.suite
            )
        })
        .unwrap_or_else(|| "-".into())
}

/// The text table: one line per component (verdict, tier, Debian figure, flags), then the
/// reason or the missing data of each.
pub fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "relkit health: {} as of {}{}",
        r.sbom,
        r.as_of,
        if r.as_of_given {
            ""
        } else {
            " (newest commit in the data)"
        }
    );
    if r.suites.is_empty() {
        let _ = writeln!(out, "Debian: no Packages index given");
    }
    for s in &r.suites {
        let _ = writeln!(
            out,
            "Debian {}: {} binary packages, {} dependency edges",
            s.suite, s.packages, s.edges
        );
    }
    let _ = writeln!(out);
    let rows: Vec<[String; 5]> = r
        .components
        .iter()
        .map(|c| {
            [
                c.verdict.name().to_string(),
                c.name.clone(),
                tier_of(c).to_string(),
                best_suite(c),
                c.flag_names(),
            ]
        })
        .collect();
    let header = [
        "VERDICT",
        "COMPONENT",
        "TIER",
        "DEBIAN (transitive share, rank)",
        "FLAGS",
    ];
    let mut width = header.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ", w = width[i]);
            }
        }
        l
    };
    let _ = writeln!(out, "{}", line(&header.map(String::from)));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row));
    }
    let _ = writeln!(out);
    for c in &r.components {
        let why = c.reasons.first().cloned().unwrap_or_default();
        let _ = writeln!(out, "{}: {why}", c.name);
        for m in &c.missing {
            let _ = writeln!(out, "  missing: {m}");
        }
    }
    let summary: Vec<String> = r.summary.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        out,
        "\n{} component(s): {}",
        r.components.len(),
        summary.join(", ")
    );
    let _ = writeln!(
        out,
        "Details of one component: relkit health SBOM ... --explain NAME"
    );
    out
}

/// Everything about one component: the rule, every flag with number, threshold and evidence,
/// the notes, the Debian figures and paths, the raw history numbers and the release signers.
pub fn explain(r: &Report, c: &ComponentReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} as of {}",
        c.name,
        c.version.as_deref().unwrap_or(""),
        r.as_of
    );
    if let Some(m) = &c.matched {
        let _ = writeln!(out, "project: {} (matched by {})", m.project, m.by);
    }
    let _ = writeln!(out, "verdict: {}", c.verdict.name());
    for reason in &c.reasons {
        let _ = writeln!(out, "  {reason}");
    }
    for m in &c.missing {
        let _ = writeln!(out, "  missing: {m}");
    }
    if !c.flags.is_empty() {
        let _ = writeln!(out, "flags:");
        for f in &c.flags {
            let _ = writeln!(
                out,
                "  {} = {} (threshold {}): {}",
                f.name, f.value, f.threshold, f.evidence
            );
        }
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(k) = &c.criticality {
        let _ = writeln!(out, "Debian:");
        for s in &k.suites {
            let st = &s.stats;
            let _ = writeln!(
                out,
                "  {}: {} (source {}): direct {} (rank #{}), transitive {} of {} ({:.1}%, rank #{}), Essential/required closure: {}",
                s.suite,
                st.package,
                st.source,
                st.direct,
                st.direct_rank,
                st.transitive,
                st.packages,
                st.share * 100.0,
                st.transitive_rank,
                if st.essential_closure {
                    st.essential_path.join(" -> ")
                } else {
                    "no".into()
                }
            );
            if let Some(r) = &s.inherited_from {
                let _ = writeln!(
                    out,
                    "    inherited from the runtime package {r} (own binaries: {})",
                    if s.own_binaries.is_empty() {
                        "none".into()
                    } else {
                        s.own_binaries.join(", ")
                    }
                );
            }
            for p in &s.paths {
                let _ = writeln!(out, "    path from {}: {}", p.root, p.path.join(" -> "));
            }
            if s.paths.is_empty() {
                let _ = writeln!(
                    out,
                    "    no path from the exposed roots ({})",
                    r.roots.join(", ")
                );
            }
        }
    }
    if let Some(h) = &c.health {
        let m = &h.metrics;
        let _ = writeln!(out, "history: {} ({} commits read)", h.repo, h.commits);
        if let Some(i) = &h.incomplete {
            let _ = writeln!(out, "  UNRELIABLE: {i}");
        }
        let _ = writeln!(
            out,
            "  last commit {} ({} days); newest in the data {}{}",
            m.last_commit.as_deref().unwrap_or("-"),
            m.days_since_last_commit
                .map_or("-".into(), |d| d.to_string()),
            m.newest_in_data,
            if m.stale { " (stale copy)" } else { "" }
        );
        let _ = writeln!(
            out,
            "  last stable release {} ({} days); {} release tag(s)",
            m.last_stable_release
                .as_ref()
                .map_or("-".into(), |r| format!("{} of {}", r.tag, r.date)),
            m.days_since_last_stable_release
                .map_or("-".into(), |d| d.to_string()),
            m.releases
        );
        let _ = writeln!(
            out,
            "  commits 12/24 months {}/{}, authors {}/{}, bot commits (12 months, not counted) {}",
            m.commits_12m, m.commits_24m, m.authors_12m, m.authors_24m, m.bot_commits_12m
        );
        let tops: Vec<String> = m
            .top_authors
            .iter()
            .map(|s| format!("{} {} ({:.1}%)", s.name, s.commits, s.share * 100.0))
            .collect();
        let _ = writeln!(
            out,
            "  share window: {} commits; top-1 {:.1}%, top-2 {:.1}%; contributor absence factor {}; {}",
            m.window_commits,
            m.top1_share * 100.0,
            m.top2_share * 100.0,
            m.contributor_absence_factor,
            tops.join(", ")
        );
        let _ = writeln!(
            out,
            "  truck factor {} over {} source files ({})",
            m.truck_factor.map_or("-".into(), |t| t.to_string()),
            m.truck_factor_files,
            m.truck_factor_authors.join(", ")
        );
        if let Some(n) = &m.newcomer {
            let _ = writeln!(
                out,
                "  newcomer: {} (first commit {}), {} commits in 12 months ({:.1}%){}",
                n.name,
                n.first_commit,
                n.commits_12m,
                n.share_12m * 100.0,
                if n.made_newest_release {
                    ", tagged the newest release"
                } else {
                    ""
                }
            );
        }
        for s in &m.signer_changes {
            let _ = writeln!(
                out,
                "  signer change at {} ({}): {} -> {} after {} release(s)",
                s.tag, s.date, s.previous_signer, s.signer, s.previous_run
            );
        }
    }
    if !c.timeline.is_empty() {
        let _ = writeln!(out, "timeline (verdict at each quarter end):");
        let mut last = "";
        for p in &c.timeline {
            let v = p.verdict.name();
            if v != last {
                let _ = writeln!(
                    out,
                    "  from {} ({}): {} [{}]",
                    p.quarter,
                    p.date,
                    v,
                    p.flags.join(", ")
                );
                last = v;
            }
        }
    }
    out
}
