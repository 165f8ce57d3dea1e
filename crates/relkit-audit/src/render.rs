//! Renderings of the audit reports: plain text for people and SARIF 2.1.0 for code
//! scanning dashboards (one result per member that is not ok).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::history::HistoryReport;
use crate::regenerate::RegenStatus;
use crate::tarball::{Class, MemberReport, Severity, TarballReport};

/// Lines of a diff shown in text reports per side (the JSON report has up to 200).
const TEXT_LINES: usize = 40;

fn sev_word(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "ok",
        Severity::Info => "info",
        Severity::Warning => "WARNING",
        Severity::Critical => "CRITICAL",
    }
}

fn class_word(c: Class) -> &'static str {
    match c {
        Class::Same => "same",
        Class::Differs => "differs",
        Class::Updated => "updated",
        Class::Generated => "generated",
        Class::GeneratedUnverified => "generated_unverified",
        Class::Vendored => "vendored",
        Class::VendoredModified => "vendored_modified",
        Class::VendoredDiffers => "vendored_differs",
        Class::VendoredVariant => "vendored_variant",
        Class::VendoredNewer => "vendored_newer",
        Class::VendoredUnknown => "vendored_unknown",
        Class::Unexplained => "unexplained",
        Class::OnlyInReference => "only_in_reference",
    }
}

/// The text report: a summary, then every member that is not `same` (all with `verbose`).
pub fn tarball_text(r: &TarballReport, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "tarball   {}", r.tarball);
    let _ = writeln!(
        out,
        "reference {}{}",
        r.reference,
        r.commit
            .as_ref()
            .map(|c| format!(" (commit {c})"))
            .unwrap_or_default()
    );
    for m in r
        .members
        .iter()
        .filter(|m| verbose || m.class != Class::Same)
    {
        let _ = writeln!(
            out,
            "{:8} {:18} {}: {}",
            sev_word(m.severity),
            class_word(m.class),
            m.path,
            m.detail
        );
        if let Some(a) = &m.alarms
            && a.unexplained > 0
        {
            let _ = writeln!(
                out,
                "         lines that run data through a shell or decode it, unexplained: {} of {}",
                a.unexplained, a.count
            );
            for l in a
                .lines
                .iter()
                .filter(|l| l.explained_by.is_none())
                .take(TEXT_LINES)
            {
                let _ = writeln!(out, "           {}:{}: {}", m.path, l.line, l.text);
            }
        }
        if let Some(g) = &m.regenerated
            && g.status != RegenStatus::Identical
        {
            let _ = writeln!(
                out,
                "         regenerated: {}{}",
                regen_word(g.status),
                g.explanation
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            );
            for l in g.ignored.iter().take(TEXT_LINES) {
                let _ = writeln!(out, "           ignored {l}");
            }
            if let Some(d) = &g.diff {
                for l in d.removed_lines.iter().take(TEXT_LINES) {
                    let _ = writeln!(out, "           - {l}");
                }
                for l in d.added_lines.iter().take(TEXT_LINES) {
                    let _ = writeln!(out, "           + {l}");
                }
            }
        }
        if let Some(d) = &m.diff
            && m.severity >= Severity::Warning
        {
            let _ = writeln!(
                out,
                "         diff against {}: +{} -{}",
                d.against, d.added, d.removed
            );
            for l in d.removed_lines.iter().take(TEXT_LINES) {
                let _ = writeln!(out, "           - {l}");
            }
            for l in d.added_lines.iter().take(TEXT_LINES) {
                let _ = writeln!(out, "           + {l}");
            }
            if d.added_lines.len() > TEXT_LINES || d.removed_lines.len() > TEXT_LINES {
                let _ = writeln!(out, "           … (see --format json for more)");
            }
        }
    }
    let counts: Vec<String> = r
        .counts
        .iter()
        .map(|(c, n)| format!("{} {n}", class_word(*c)))
        .collect();
    let _ = writeln!(out, "summary: {}", counts.join(", "));
    let sev: Vec<String> = r
        .severities
        .iter()
        .map(|(s, n)| format!("{} {n}", sev_word(*s).to_lowercase()))
        .collect();
    let _ = writeln!(out, "severity: {}", sev.join(", "));
    let a = &r.alarm_lines;
    let _ = writeln!(
        out,
        "lines that run data through a shell or decode it: {} in {} file{}, {} unexplained",
        a.lines,
        a.files,
        if a.files == 1 { "" } else { "s" },
        a.unexplained
    );
    if let Some(why) = &r.regeneration_skipped {
        let _ = writeln!(out, "regeneration: {why}");
    }
    if let Some(g) = &r.regeneration {
        let tools = |t: &crate::regenerate::Toolchain| {
            let v: Vec<String> =
                t.0.iter()
                    .map(|(tool, v)| format!("{} {v}", tool.name()))
                    .collect();
            if v.is_empty() {
                "none seen".to_string()
            } else {
                v.join(", ")
            }
        };
        let counts: Vec<String> = g
            .counts
            .iter()
            .map(|(s, n)| format!("{} {n}", regen_word(*s)))
            .collect();
        let _ = writeln!(
            out,
            "regenerated with `{}`: {}",
            g.command,
            counts.join(", ")
        );
        let _ = writeln!(out, "  tarball made with: {}", tools(&g.tarball_tools));
        let _ = writeln!(out, "  regenerated with:  {}", tools(&g.regenerated_tools));
    }
    out
}

fn regen_word(s: RegenStatus) -> &'static str {
    match s {
        RegenStatus::Identical => "identical",
        RegenStatus::VolatileOnly => "volatile_only",
        RegenStatus::OtherToolVersion => "other_tool_version",
        RegenStatus::Differs => "differs",
        RegenStatus::NotProduced => "not_produced",
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Ok => "note",
    }
}

fn rule_text(c: Class) -> &'static str {
    match c {
        Class::Same => "Identical to the tag.",
        Class::Differs => "A file in the release tarball differs from the tag.",
        Class::Updated => {
            "A file of the tag updated by a known tool (msgmerge, git log) without new content."
        }
        Class::Generated => {
            "Generated by a known tool from an input in the tag, its content reproduced by regeneration or checked whole against that input."
        }
        Class::GeneratedUnverified => {
            "Recognized as a known tool's output from an input in the tag, but its content was not reproduced (no regeneration with the tool's version); its lines that run data through a shell must still come from an input of the tool."
        }
        Class::Vendored => {
            "Exact copy of a known upstream macro or script (or one differing only by its copyright years)."
        }
        Class::VendoredModified => {
            "A vendored macro/script announces a known upstream version but its content differs from every upstream commit of it (the xz-utils backdoor pattern)."
        }
        Class::VendoredDiffers => {
            "A vendored macro/script announces a known upstream version but its content differs; only upstream releases of it are known, so it may be an unreleased upstream state."
        }
        Class::VendoredVariant => {
            "A vendored macro/script announces a known upstream version and differs from it only by removed lines and version strings."
        }
        Class::VendoredNewer => {
            "A vendored macro/script announces a version newer than any known upstream copy."
        }
        Class::VendoredUnknown => "A vendored macro/script matches no known upstream copy.",
        Class::Unexplained => "A file only in the release tarball that no known tool generates.",
        Class::OnlyInReference => "A file of the tag that the release tarball leaves out.",
    }
}

fn sarif_message(m: &MemberReport) -> String {
    let mut text = m.detail.clone();
    if let Some(a) = &m.alarms {
        for l in a
            .lines
            .iter()
            .filter(|l| l.explained_by.is_none())
            .take(TEXT_LINES)
        {
            let _ = write!(text, "\nline {}: {}", l.line, l.text);
        }
    }
    if let Some(d) = &m.diff {
        let _ = write!(
            text,
            "; diff against {}: +{} -{}",
            d.against, d.added, d.removed
        );
        for l in d.added_lines.iter().take(TEXT_LINES) {
            let _ = write!(text, "\n+ {l}");
        }
    }
    text
}

/// Where a result points: the first alarm line nothing explains, else the whole file.
fn region(m: &MemberReport) -> Value {
    let first = m
        .alarms
        .as_ref()
        .and_then(|a| a.lines.iter().find(|l| l.explained_by.is_none()));
    match first {
        Some(l) => json!({"startLine": l.line}),
        None => json!({"byteOffset": 0, "byteLength": m.size}),
    }
}

/// The SARIF 2.1.0 log: one run, one rule per class, one result per member not `ok`.
pub fn tarball_sarif(r: &TarballReport) -> Value {
    // Every class but `same` (any class can be raised to a warning by --regenerate).
    let classes = [
        Class::Differs,
        Class::Updated,
        Class::Generated,
        Class::GeneratedUnverified,
        Class::Vendored,
        Class::VendoredModified,
        Class::VendoredDiffers,
        Class::VendoredVariant,
        Class::VendoredNewer,
        Class::VendoredUnknown,
        Class::Unexplained,
        Class::OnlyInReference,
    ];
    let rules: Vec<Value> = classes
        .iter()
        .map(|c| {
            json!({
                "id": class_word(*c),
                "shortDescription": {"text": rule_text(*c)},
                "defaultConfiguration": {"level": sarif_level(c.severity())}
            })
        })
        .collect();
    let results: Vec<Value> = r
        .members
        .iter()
        .filter(|m| m.severity != Severity::Ok)
        .map(|m| {
            let rule_index = classes.iter().position(|c| *c == m.class).unwrap_or(0);
            json!({
                "ruleId": class_word(m.class),
                "ruleIndex": rule_index,
                "level": sarif_level(m.severity),
                "message": {"text": sarif_message(m)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": m.path},
                    "region": region(m)
                }}]
            })
        })
        .collect();
    let mut run = serde_json::Map::new();
    run.insert(
        "originalUriBaseIds".into(),
        json!({"TARBALL": {"description": {"text": r.tarball}}}),
    );
    relkit_core::sarif::log_of("relkit audit tarball", rules, results, run)
}

/// The text report of the history audit.
pub fn history_text(r: &HistoryReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "history {}..{} of {}: {} commits",
        r.from, r.to, r.repo, r.commits
    );
    let _ = writeln!(
        out,
        "\nopaque (binary or high-entropy) files added or changed: {}",
        r.opaque_files.len()
    );
    for f in &r.opaque_files {
        let _ = writeln!(
            out,
            "  {} [{}] {} bytes, entropy {:.2}, {}, referenced by {}",
            f.path,
            f.status,
            f.size,
            f.entropy,
            f.magic,
            if f.referenced_by.is_empty() {
                "nothing".to_string()
            } else {
                f.referenced_by.join(", ")
            }
        );
        for c in &f.commits {
            let _ = writeln!(
                out,
                "      {} {} {} (committer {}): {}",
                &c.id[..12],
                c.date,
                c.author,
                c.committer,
                c.subject
            );
        }
    }
    let _ = writeln!(
        out,
        "\nbuild machinery changed: {} files",
        r.build_changes.len()
    );
    for b in &r.build_changes {
        let mut who: Vec<&str> = b.commits.iter().map(|c| c.author.as_str()).collect();
        who.sort_unstable();
        who.dedup();
        let _ = writeln!(
            out,
            "  {:12} {:8} {} ({} commit{} by {})",
            b.category,
            b.status,
            b.path,
            b.commit_count,
            if b.commit_count == 1 { "" } else { "s" },
            who.join(", ")
        );
    }
    let p = &r.people;
    let _ = writeln!(out, "\nauthors in the range:");
    for s in &p.authors {
        let _ = writeln!(out, "  {:5.1}% {:4} {}", s.percent, s.commits, s.name);
    }
    let _ = writeln!(out, "committers in the range:");
    for s in &p.committers {
        let _ = writeln!(out, "  {:5.1}% {:4} {}", s.percent, s.commits, s.name);
    }
    for (label, names) in [
        ("new authors", &p.new_authors),
        ("new committers", &p.new_committers),
        ("new to build files", &p.new_to_build_files),
    ] {
        let names = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        let _ = writeln!(out, "{label}: {names}");
    }
    let _ = writeln!(out, "\nrelease tags:");
    for t in &p.release_tags {
        let _ = writeln!(out, "  {} {} by {}", t.date, t.tag, t.tagger);
    }
    for c in &p.tagger_changes {
        let _ = writeln!(
            out,
            "  tagger changed at {}: {} -> {}",
            c.tag, c.previous, c.tagger
        );
    }
    let _ = writeln!(
        out,
        "\ncommits per year (bus factor = fewest people making half of them):"
    );
    for y in &p.timeline {
        let top: Vec<String> = y
            .top
            .iter()
            .take(3)
            .map(|s| format!("{} {:.0}%", s.name, s.percent))
            .collect();
        let _ = writeln!(
            out,
            "  {} {:5} commits, bus factor {}: {}",
            y.year,
            y.commits,
            y.bus_factor,
            top.join(", ")
        );
    }
    out
}
