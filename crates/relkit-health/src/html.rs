//! The report as one self-contained HTML page: inline CSS and SVG, no JavaScript, no
//! external resource. Per component: verdict, reasons, flags with thresholds, the Debian
//! figures and dependency paths, and a chart of commits per quarter by the busiest people,
//! release ticks coloured by signing key and (with `--timeline`) the verdict band.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::{ComponentReport, Report};
use crate::verdict::Verdict;

/// Escapes text for HTML element content and attribute values ([`relkit_core::html::escape`]).
pub use relkit_core::html::escape as esc;

const PEOPLE: &[&str] = &["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#b0b0b0"];
const KEYS: &[&str] = &[
    "#0b6e4f", "#c1121f", "#6a4c93", "#f4a261", "#264653", "#e76f51",
];

fn verdict_colour(v: Verdict) -> &'static str {
    match v {
        Verdict::CriticalLanguishing => "#c1121f",
        Verdict::Transition => "#e85d04",
        Verdict::Watch => "#f4a261",
        Verdict::NoData => "#9e9e9e",
        Verdict::Ok => "#2a9d8f",
        Verdict::NotCritical => "#8ecae6",
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#f4f4f4}.v{color:#fff;padding:.1em .5em;border-radius:.3em;white-space:nowrap}\
.path{font-family:monospace}.muted{color:#666}svg{display:block;margin:.5em 0}\
.legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle}";

fn badge(v: Verdict) -> String {
    format!(
        "<span class=\"v\" style=\"background:{}\">{}</span>",
        verdict_colour(v),
        v.name()
    )
}

/// The whole page.
pub fn page(r: &Report) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>relkit health: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&r.sbom)
    );
    let _ = writeln!(
        h,
        "<h1>relkit health</h1><p>SBOM <code>{}</code>, as of <b>{}</b>{}. Debian: {}.</p>",
        esc(&r.sbom),
        esc(&r.as_of),
        if r.as_of_given {
            ""
        } else {
            " (newest commit in the data)"
        },
        if r.suites.is_empty() {
            "no Packages index given".to_string()
        } else {
            r.suites
                .iter()
                .map(|s| format!("{} ({} packages)", esc(&s.suite), s.packages))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    h.push_str("<table><tr><th>Verdict</th><th>Component</th><th>Tier</th><th>Debian</th><th>Flags</th></tr>\n");
    for c in &r.components {
        let tier = c
            .criticality
            .as_ref()
            .map_or("-".to_string(), |k| format!("{:?}", k.tier).to_lowercase());
        let deb = c
            .criticality
            .as_ref()
            .and_then(|k| {
                k.suites
                    .iter()
                    .max_by(|a, b| a.stats.share.total_cmp(&b.stats.share))
            })
            .map_or("-".to_string(), |s| {
                format!(
                    "{} {:.1}% #{} ({})",
                    esc(&s.stats.package),
                    s.stats.share * 100.0,
                    s.stats.transitive_rank,
                    esc(&s.suite)
                )
            });
        let flags = c.flag_names();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><a href=\"#c-{}\">{}</a></td><td>{tier}</td><td>{deb}</td><td>{flags}</td></tr>",
            badge(c.verdict),
            esc(&anchor(&c.name)),
            esc(&c.name)
        );
    }
    h.push_str("</table>\n");
    for c in &r.components {
        component(&mut h, c);
    }
    h.push_str("<p class=\"muted\">Verdicts are prompts to look, not accusations. Definitions and thresholds: relkit-health's policy.toml and crate documentation.</p>\n</body></html>\n");
    h
}

fn anchor(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn component(h: &mut String, c: &ComponentReport) {
    let _ = writeln!(
        h,
        "<h2 id=\"c-{}\">{} {} {}</h2>",
        esc(&anchor(&c.name)),
        esc(&c.name),
        esc(c.version.as_deref().unwrap_or("")),
        badge(c.verdict)
    );
    h.push_str("<ul>");
    for reason in &c.reasons {
        let _ = write!(h, "<li>{}</li>", esc(reason));
    }
    for m in &c.missing {
        let _ = write!(h, "<li>missing: {}</li>", esc(m));
    }
    for n in &c.notes {
        let _ = write!(h, "<li class=\"muted\">{}</li>", esc(n));
    }
    h.push_str("</ul>\n");
    if !c.flags.is_empty() {
        h.push_str(
            "<table><tr><th>Flag</th><th>Value</th><th>Threshold</th><th>Evidence</th></tr>",
        );
        for f in &c.flags {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.name,
                esc(&f.value),
                esc(&f.threshold),
                esc(&f.evidence)
            );
        }
        h.push_str("</table>\n");
    }
    if let Some(k) = &c.criticality {
        for s in &k.suites {
            let _ = writeln!(
                h,
                "<p>{}: <b>{}</b> needed by {} of {} packages ({:.1}%, rank #{}); direct {} (rank #{}){}.</p>",
                esc(&s.suite),
                esc(&s.stats.package),
                s.stats.transitive,
                s.stats.packages,
                s.stats.share * 100.0,
                s.stats.transitive_rank,
                s.stats.direct,
                s.stats.direct_rank,
                s.inherited_from
                    .as_ref()
                    .map(|r| format!("; inherited from {}, which vendors it", esc(r)))
                    .unwrap_or_default()
            );
            if s.paths.is_empty() {
                h.push_str("<p class=\"muted\">No dependency path from the exposed roots.</p>\n");
            } else {
                h.push_str("<ul>");
                for p in &s.paths {
                    let _ = write!(h, "<li class=\"path\">{}</li>", esc(&p.path.join(" → ")));
                }
                h.push_str("</ul>\n");
            }
        }
    }
    if let Some(health) = &c.health {
        chart(h, c, health);
    }
}

fn chart(h: &mut String, c: &ComponentReport, health: &crate::report::Health) {
    let q = &health.quarters;
    if q.is_empty() {
        return;
    }
    let (w, left, top, plot_h) = (960.0f64, 40.0f64, 10.0f64, 140.0f64);
    let band = if c.timeline.is_empty() { 0.0 } else { 16.0 };
    let ticks_y = top + plot_h + 6.0;
    let band_y = ticks_y + 18.0;
    let axis_y = band_y + band + 14.0;
    let height = axis_y + 6.0;
    let n = q.len() as f64;
    let bw = (w - left - 10.0) / n;
    let max = q
        .iter()
        .map(|x| x.commits.iter().sum::<usize>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let _ = write!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"commits per quarter of {}\">",
        esc(&c.name)
    );
    let _ = write!(
        h,
        "<text x=\"0\" y=\"{}\" font-size=\"10\">{}</text>",
        top + 8.0,
        max as usize
    );
    let _ = write!(
        h,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
        top + plot_h,
        w - 10.0,
        top + plot_h
    );
    let index: BTreeMap<&str, usize> = q
        .iter()
        .enumerate()
        .map(|(i, x)| (x.quarter.as_str(), i))
        .collect();
    for (i, x) in q.iter().enumerate() {
        let mut y = top + plot_h;
        for (slot, &n) in x.commits.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let hgt = n as f64 / max * plot_h;
            y -= hgt;
            let _ = write!(
                h,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                left + i as f64 * bw,
                (bw - 1.0).max(0.5),
                PEOPLE[slot.min(PEOPLE.len() - 1)],
                esc(&x.quarter),
                esc(c.chart_people.get(slot).map_or("others", String::as_str))
            );
        }
        if x.quarter.ends_with("Q1") {
            let _ = write!(
                h,
                "<text x=\"{:.1}\" y=\"{axis_y}\" font-size=\"10\">{}</text>",
                left + i as f64 * bw,
                &x.quarter[..4]
            );
        }
    }
    // Release ticks, coloured by signing key (in order of first use; unsigned grey).
    let mut keys: Vec<(String, &str)> = Vec::new();
    for rel in &health.releases {
        let key = rel.key.clone().unwrap_or_else(|| "unsigned".into());
        if !keys.iter().any(|(k, _)| *k == key) {
            let signed = keys.iter().filter(|(k, _)| k != "unsigned").count();
            let colour = if key == "unsigned" {
                "#999"
            } else {
                KEYS[signed % KEYS.len()]
            };
            keys.push((key.clone(), colour));
        }
        let colour = keys
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("#999", |(_, c)| c);
        let Some(&i) = index.get(quarter_of(&rel.date).as_str()) else {
            continue;
        };
        let _ = write!(
            h,
            "<line x1=\"{x:.1}\" y1=\"{ticks_y}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"{}\"><title>{} {} {}</title></line>",
            ticks_y + 12.0,
            if rel.stable { 2 } else { 1 },
            esc(&rel.tag),
            esc(&rel.date),
            esc(&key),
            x = left + (i as f64 + 0.5) * bw
        );
    }
    for p in &c.timeline {
        let Some(&j) = index.get(p.quarter.as_str()) else {
            continue;
        };
        let _ = write!(
            h,
            "<rect x=\"{:.1}\" y=\"{band_y}\" width=\"{:.1}\" height=\"{band}\" fill=\"{}\"><title>{} {}</title></rect>",
            left + j as f64 * bw,
            bw,
            verdict_colour(p.verdict),
            esc(&p.quarter),
            p.verdict.name()
        );
    }
    h.push_str("</svg>\n<p class=\"legend\">");
    for (slot, name) in c
        .chart_people
        .iter()
        .chain(std::iter::once(&"others".to_string()))
        .enumerate()
    {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            PEOPLE[slot.min(PEOPLE.len() - 1)],
            esc(name)
        );
    }
    for (key, colour) in &keys {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{colour}\"></i>releases: {}</span>",
            esc(key)
        );
    }
    if !c.timeline.is_empty() {
        for v in [
            Verdict::CriticalLanguishing,
            Verdict::Transition,
            Verdict::Watch,
            Verdict::Ok,
        ] {
            let _ = write!(
                h,
                "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
                verdict_colour(v),
                v.name()
            );
        }
    }
    h.push_str("</p>\n");
}

/// `YYYY-Qn` of a `YYYY-MM-DD` date.
fn quarter_of(date: &str) -> String {
    let month: u32 = date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    format!(
        "{}-Q{}",
        date.get(..4).unwrap_or("0000"),
        (month - 1) / 3 + 1
    )
}
