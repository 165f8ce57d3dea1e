//! Named flags and verdicts, each with the number and the threshold it came from. No
//! weighted score: a verdict follows from the flags by the rules documented on [`Verdict`].

use serde::Serialize;

use crate::metrics::Metrics;
use crate::policy::Policy;

/// A flag's family: what kind of trouble it points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The project is not being kept up (release-starved, low-activity, dormant).
    Neglect,
    /// The project rests on few people (concentrated, truck-factor-1).
    Fragility,
    /// Someone new controls it (signer-change, newcomer-control).
    Control,
}

/// A raised flag with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// `release-starved`, `low-activity`, `concentrated`, `truck-factor-1`, `dormant`,
    /// `signer-change` or `newcomer-control`.
    pub name: &'static str,
    /// Its family.
    pub family: Family,
    /// The number measured, as text (`835 days`, `0.9712`, …).
    pub value: String,
    /// The threshold it was compared with, as text (`>= 730 days`).
    pub threshold: String,
    /// One sentence of evidence.
    pub evidence: String,
}

/// The criticality tier of a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Below `important_share`.
    Low,
    /// At least `important_share` of the archive.
    Important,
    /// At least `critical_share`, or in the Essential/required closure.
    Critical,
}

/// A component's verdict.
///
/// Rules, in order: `no-data` when what is needed is missing (the reason says what);
/// `not-critical` for tier low; `critical-languishing` for tier critical with at least
/// `min_neglect_flags` neglect flags and `min_fragility_flags` fragility flags; `transition`
/// for tier critical with a control flag and a `critical-languishing` quarter end within
/// `transition_lookback_days`; `watch` with any other flag; `ok` with none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Critical, neglected and fragile.
    CriticalLanguishing,
    /// Critical, recently languishing, and someone new now controls it.
    Transition,
    /// Important or critical with a flag.
    Watch,
    /// Data missing (the reason says what).
    NoData,
    /// Important or critical with no flag.
    Ok,
    /// Not in the critical or important tier.
    NotCritical,
}

impl Verdict {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::CriticalLanguishing => "critical-languishing",
            Verdict::Transition => "transition",
            Verdict::Watch => "watch",
            Verdict::NoData => "no-data",
            Verdict::Ok => "ok",
            Verdict::NotCritical => "not-critical",
        }
    }
}

fn flag(
    name: &'static str,
    family: Family,
    value: String,
    threshold: String,
    evidence: String,
) -> Flag {
    Flag {
        name,
        family,
        value,
        threshold,
        evidence,
    }
}

/// The flags raised by `m` under `p`, and notes on flags that could not be concluded.
pub fn flags(m: &Metrics, p: &Policy) -> (Vec<Flag>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    match (&m.last_stable_release, m.days_since_last_stable_release) {
        (Some(r), Some(d)) if d >= p.release_starved_days => out.push(flag(
            "release-starved",
            Family::Neglect,
            format!("{d} days"),
            format!(">= {} days", p.release_starved_days),
            format!("last stable release {} of {}", r.tag, r.date),
        )),
        (None, _) if m.releases == 0 => notes.push(
            "release-starved not concluded: no release tag matches the project's tag pattern"
                .to_string(),
        ),
        (None, _) => out.push(flag(
            "release-starved",
            Family::Neglect,
            "no stable release".into(),
            format!(">= {} days", p.release_starved_days),
            format!("{} pre-release(s) only", m.releases),
        )),
        _ => {}
    }
    if m.stale {
        notes.push(format!(
            "input stale: the newest commit of the repository copy is of {}, more than {} days before {}; dormant and low-activity are not concluded (update the copy)",
            m.newest_in_data, p.stale_days, m.as_of
        ));
    } else {
        if m.commits_12m < p.low_activity_commits {
            out.push(flag(
                "low-activity",
                Family::Neglect,
                format!("{} commits", m.commits_12m),
                format!("< {} commits in 12 months", p.low_activity_commits),
                format!(
                    "{} commit(s) by {} people in the 12 months to {}",
                    m.commits_12m, m.authors_12m, m.as_of
                ),
            ));
        }
        if let (Some(d), Some(last)) = (m.days_since_last_commit, &m.last_commit)
            && d >= p.dormant_days
        {
            out.push(flag(
                "dormant",
                Family::Neglect,
                format!("{d} days"),
                format!(">= {} days", p.dormant_days),
                format!("last commit {last}"),
            ));
        }
    }
    if m.window_commits > 0 && m.top1_share >= p.concentrated_share {
        let top = &m.top_authors[0];
        out.push(flag(
            "concentrated",
            Family::Fragility,
            format!("{:.1}%", m.top1_share * 100.0),
            format!(">= {:.1}%", p.concentrated_share * 100.0),
            format!(
                "{} made {} of {} commits in the {} days to {}",
                top.name, top.commits, m.window_commits, p.share_window_days, m.as_of
            ),
        ));
    }
    if let Some(tf) = m.truck_factor
        && tf <= p.truck_factor_max
    {
        out.push(flag(
            "truck-factor-1",
            Family::Fragility,
            tf.to_string(),
            format!("<= {}", p.truck_factor_max),
            format!(
                "without {} more than half of the {} source files have no author left",
                if m.truck_factor_authors.is_empty() {
                    "anyone".to_string()
                } else {
                    m.truck_factor_authors.join(", ")
                },
                m.truck_factor_files
            ),
        ));
    }
    let as_of = crate::date::parse_end_of_day(&m.as_of).unwrap_or(0);
    if let Some(c) = m.signer_changes.iter().rev().find(|c| {
        crate::date::parse_end_of_day(&c.date)
            .is_ok_and(|d| crate::date::days_between(d, as_of) < p.signer_change_days)
    }) {
        out.push(flag(
            "signer-change",
            Family::Control,
            c.signer.clone(),
            format!("a change within {} days", p.signer_change_days),
            format!(
                "{} of {} is signed by {}{} after {} consecutive release(s) signed by {}{}",
                c.tag,
                c.date,
                c.signer,
                c.tagger
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                c.previous_run,
                c.previous_signer,
                c.previous_tagger
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
            ),
        ));
    }
    if let Some(n) = &m.newcomer
        && (n.share_12m >= p.newcomer_share || n.made_newest_release)
    {
        out.push(flag(
            "newcomer-control",
            Family::Control,
            format!("{:.1}%", n.share_12m * 100.0),
            format!(
                ">= {:.1}% of 12 months' commits, or the newest release",
                p.newcomer_share * 100.0
            ),
            format!(
                "{} (first commit {}) made {} commits in the 12 months to {}{}",
                n.name,
                n.first_commit,
                n.commits_12m,
                m.as_of,
                if n.made_newest_release {
                    " and tagged the newest release"
                } else {
                    ""
                }
            ),
        ));
    }
    (out, notes)
}

/// Whether the flags make a critical component languishing.
pub fn languishing(flags: &[Flag], p: &Policy) -> bool {
    let count = |f: Family| flags.iter().filter(|x| x.family == f).count();
    count(Family::Neglect) >= p.min_neglect_flags.max(1)
        && count(Family::Fragility) >= p.min_fragility_flags.max(1)
}

/// The verdict from the tier and the flags (see [`Verdict`] for the rules); `was_languishing`
/// says whether a quarter end within the lookback was `critical-languishing`.
pub fn decide(tier: Tier, flags: &[Flag], p: &Policy, was_languishing: bool) -> Verdict {
    if tier == Tier::Low {
        return Verdict::NotCritical;
    }
    let control = flags.iter().any(|f| f.family == Family::Control);
    if tier == Tier::Critical && languishing(flags, p) {
        Verdict::CriticalLanguishing
    } else if tier == Tier::Critical && control && was_languishing {
        Verdict::Transition
    } else if flags.is_empty() {
        Verdict::Ok
    } else {
        Verdict::Watch
    }
}
