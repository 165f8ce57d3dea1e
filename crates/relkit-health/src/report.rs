//! The whole assessment: SBOM components → projects → Debian criticality and history
//! health → flags and verdicts, in one report (serialized as `relkit-health/1` JSON).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::date::{self, DAY};
use crate::debian::{Graph, PackageStats};
use crate::error::{Error, Result};
use crate::history::{History, default_prefixes};
use crate::identity::{Identities, Match, Project, find_repo};
use crate::metrics::{self, Metrics, Release};
use crate::policy::Policy;
use crate::verdict::{self, Flag, Tier, Verdict};

/// The JSON schema name of [`Report`].
pub const SCHEMA: &str = "relkit-health/1";

/// What to assess and with what.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The SBOM (SPDX 2.x or CycloneDX JSON).
    pub sbom: PathBuf,
    /// Directory of upstream repositories (directories, bare repositories, `.bundle` files).
    pub repos: Option<PathBuf>,
    /// Debian `Packages` indexes with their suite labels.
    pub packages: Vec<(String, PathBuf)>,
    /// Identity table extensions (`--map`).
    pub maps: Vec<PathBuf>,
    /// Thresholds.
    pub policy: Policy,
    /// `--as-of` (end of that day, Unix seconds); `None`: the newest commit in the data.
    pub as_of: Option<i64>,
    /// Evaluate every quarter (`--timeline`).
    pub timeline: bool,
    /// Exposed roots for dependency paths.
    pub roots: Vec<String>,
    /// Where bundles are unpacked.
    pub cache: PathBuf,
}

/// One Debian index used.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteInfo {
    /// Suite label.
    pub suite: String,
    /// File.
    pub path: String,
    /// Binary packages.
    pub packages: usize,
    /// Dependency edges after alternatives and Provides.
    pub edges: usize,
}

/// A component's place in one suite.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteCriticality {
    /// Suite label.
    pub suite: String,
    /// The binary package with the most transitive reverse dependencies among the
    /// component's own (and, when bundled, the runtime's).
    pub stats: PackageStats,
    /// The runtime package whose criticality it inherits, when that is higher than its own.
    pub inherited_from: Option<String>,
    /// The component's own binary packages found in the suite.
    pub own_binaries: Vec<String>,
    /// Shortest dependency path from each exposed root that reaches it.
    pub paths: Vec<RootPath>,
}

/// A dependency path from an exposed root.
#[derive(Debug, Clone, Serialize)]
pub struct RootPath {
    /// The root.
    pub root: String,
    /// The packages from the root to the component's package.
    pub path: Vec<String>,
}

/// Criticality of a component.
#[derive(Debug, Clone, Serialize)]
pub struct Criticality {
    /// The tier (the highest over the suites).
    pub tier: Tier,
    /// Why: one line per threshold met (or the best figure when none is).
    pub reasons: Vec<String>,
    /// Per suite.
    pub suites: Vec<SuiteCriticality>,
}

/// History health of a component.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// The repository read.
    pub repo: String,
    /// Why its history is incomplete, if it is.
    pub incomplete: Option<String>,
    /// Commits read (all refs).
    pub commits: usize,
    /// The metrics as of the report's date.
    pub metrics: Metrics,
    /// Every release tag up to the report's date, oldest first.
    pub releases: Vec<Release>,
    /// Commits per quarter by the busiest people (for the chart).
    pub quarters: Vec<QuarterCommits>,
}

/// Commits of one quarter.
#[derive(Debug, Clone, Serialize)]
pub struct QuarterCommits {
    /// `YYYY-Qn`.
    pub quarter: String,
    /// Commits per person, in [`ComponentReport::chart_people`] order, then everyone else.
    pub commits: Vec<usize>,
}

/// The verdict at one quarter end (`--timeline`).
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePoint {
    /// `YYYY-Qn`.
    pub quarter: String,
    /// The quarter's last day.
    pub date: String,
    /// The verdict then.
    pub verdict: Verdict,
    /// The flags then.
    pub flags: Vec<&'static str>,
}

/// Everything about one SBOM component.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReport {
    /// Component name in the SBOM.
    pub name: String,
    /// Its version.
    pub version: Option<String>,
    /// Its SBOM element id.
    pub id: String,
    /// The project it was matched to, and how.
    pub matched: Option<Match>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why: the rule that applied, with the flags or the missing data.
    pub reasons: Vec<String>,
    /// What data was missing (for `no-data`, and partial data elsewhere).
    pub missing: Vec<String>,
    /// Criticality (when a Debian package was found).
    pub criticality: Option<Criticality>,
    /// History health (when a repository was read).
    pub health: Option<Health>,
    /// Flags raised.
    pub flags: Vec<Flag>,
    /// Flags not concluded and why.
    pub notes: Vec<String>,
    /// The quarter end at which it was last `critical-languishing` within the lookback.
    pub languishing_at: Option<String>,
    /// The people in the chart, busiest first.
    pub chart_people: Vec<String>,
    /// Verdict per quarter (`--timeline`).
    pub timeline: Vec<TimelinePoint>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The SBOM.
    pub sbom: String,
    /// The date assessed.
    pub as_of: String,
    /// Whether `as_of` was given or taken from the data.
    pub as_of_given: bool,
    /// The thresholds used.
    pub policy: Policy,
    /// Exposed roots.
    pub roots: Vec<String>,
    /// Debian indexes used.
    pub suites: Vec<SuiteInfo>,
    /// Components, most severe verdict first.
    pub components: Vec<ComponentReport>,
    /// Components per verdict.
    pub summary: BTreeMap<&'static str, usize>,
}

impl ComponentReport {
    /// The names of the flags raised, `, `-joined, or `-` when there are none.
    pub fn flag_names(&self) -> String {
        if self.flags.is_empty() {
            return "-".into();
        }
        let names: Vec<&str> = self.flags.iter().map(|f| f.name).collect();
        names.join(", ")
    }
}

impl Report {
    /// Whether any component is `critical-languishing` or `transition` (exit code 1).
    pub fn has_findings(&self) -> bool {
        self.components.iter().any(|c| {
            matches!(
                c.verdict,
                Verdict::CriticalLanguishing | Verdict::Transition
            )
        })
    }
}

/// A suite label from a file name: `bookworm_main_binary-amd64_Packages.xz` → `bookworm`.
pub fn suite_from_file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.split(['_', '.']).next().unwrap_or(&name).to_string()
}

/// Loads the Debian graphs (in parallel threads).
fn load_graphs(packages: &[(String, PathBuf)]) -> Result<Vec<Graph>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = packages
            .iter()
            .map(|(suite, path)| s.spawn(move || Graph::load(suite, path)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("graph thread panicked"))
            .collect()
    })
}

fn criticality(
    project: &Project,
    graphs: &[Graph],
    roots: &[String],
    p: &Policy,
) -> Option<Criticality> {
    let mut suites = Vec::new();
    for g in graphs {
        let mut own: Vec<String> = project
            .debian_binaries
            .iter()
            .filter(|b| g.contains(b))
            .cloned()
            .collect();
        if own.is_empty()
            && let Some(src) = &project.debian_source
        {
            own = g.binaries_of_source(src);
        }
        let best = |names: &[String]| -> Option<PackageStats> {
            names.iter().filter_map(|n| g.stats(n)).max_by(|a, b| {
                a.transitive
                    .cmp(&b.transitive)
                    .then(b.package.cmp(&a.package))
            })
        };
        let own_best = best(&own);
        let runtime: Vec<String> = project
            .bundled_in
            .iter()
            .flat_map(|pat| g.matching(pat))
            .collect();
        let runtime_best = best(&runtime);
        let (stats, inherited_from) = match (own_best, runtime_best) {
            (Some(o), Some(r)) if r.transitive > o.transitive => {
                let name = r.package.clone();
                (r, Some(name))
            }
            (Some(o), _) => (o, None),
            (None, Some(r)) => {
                let name = r.package.clone();
                (r, Some(name))
            }
            (None, None) => continue,
        };
        let paths = roots
            .iter()
            .filter_map(|root| {
                g.shortest_path(root, &stats.package).map(|path| RootPath {
                    root: root.clone(),
                    path,
                })
            })
            .collect();
        suites.push(SuiteCriticality {
            suite: g.suite.clone(),
            stats,
            inherited_from,
            own_binaries: own,
            paths,
        });
    }
    if suites.is_empty() {
        return None;
    }
    let mut tier = Tier::Low;
    let mut reasons = Vec::new();
    for s in &suites {
        let st = &s.stats;
        let via = s
            .inherited_from
            .as_ref()
            .map(|r| format!(" (inherited: vendored in {r})"))
            .unwrap_or_default();
        let figure = format!(
            "{}: {} is needed by {} of {} binary packages ({:.1}%, rank #{}; direct {} rank #{}){via}",
            s.suite,
            st.package,
            st.transitive,
            st.packages,
            st.share * 100.0,
            st.transitive_rank,
            st.direct,
            st.direct_rank
        );
        if st.share >= p.critical_share {
            tier = tier.max(Tier::Critical);
            reasons.push(format!("{figure} >= {:.1}%", p.critical_share * 100.0));
        } else if p.critical_if_essential && st.essential_closure {
            tier = tier.max(Tier::Critical);
            reasons.push(format!(
                "{}: {} is in the Essential/required closure ({})",
                s.suite,
                st.package,
                st.essential_path.join(" -> ")
            ));
        } else if st.share >= p.important_share {
            tier = tier.max(Tier::Important);
            reasons.push(format!("{figure} >= {:.1}%", p.important_share * 100.0));
        } else {
            reasons.push(format!("{figure} < {:.1}%", p.important_share * 100.0));
        }
    }
    Some(Criticality {
        tier,
        reasons,
        suites,
    })
}

/// Quarter ends (last second) from the quarter of `from` to the one before `to`'s, plus `to`.
fn quarter_ends(from: i64, to: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut q = date::quarter_start(from);
    loop {
        let next = date::next_quarter(q);
        if next > to {
            break;
        }
        out.push(next - 1);
        q = next;
    }
    out.push(to);
    out
}

fn chart(h: &History, t: i64, people: usize) -> (Vec<String>, Vec<QuarterCommits>) {
    let human: Vec<&crate::history::CommitRec> = h
        .commits
        .iter()
        .filter(|c| c.time <= t && !c.merge && !h.identities[c.author as usize].bot)
        .collect();
    let mut totals: HashMap<u32, usize> = HashMap::new();
    for c in &human {
        *totals.entry(c.author).or_default() += 1;
    }
    let mut top: Vec<(u32, usize)> = totals.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(people);
    let names = top
        .iter()
        .map(|(a, _)| h.identities[*a as usize].name.clone())
        .collect();
    let mut quarters: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    if let (Some(first), Some(_)) = (human.first(), human.last()) {
        for end in quarter_ends(first.time, t) {
            quarters.insert(date::quarter_start(end), vec![0; top.len() + 1]);
        }
    }
    for c in &human {
        let slot = top
            .iter()
            .position(|(a, _)| *a == c.author)
            .unwrap_or(top.len());
        if let Some(v) = quarters.get_mut(&date::quarter_start(c.time)) {
            v[slot] += 1;
        }
    }
    let list = quarters
        .into_iter()
        .map(|(q, commits)| QuarterCommits {
            quarter: date::quarter_label(q),
            commits,
        })
        .collect();
    (names, list)
}

/// Assesses every component of the SBOM. `progress` receives a line per long step.
pub fn assess(inputs: &Inputs, progress: &dyn Fn(&str)) -> Result<Report> {
    let (doc, _dropped, _format) =
        relkit_sbom::read_file(&inputs.sbom).map_err(|e| Error::Sbom {
            path: inputs.sbom.clone(),
            detail: format!("cannot read the SBOM: {e}"),
        })?;
    if doc.packages.is_empty() {
        return Err(Error::Sbom {
            path: inputs.sbom.clone(),
            detail: "the SBOM lists no components (no SPDX packages / CycloneDX components): nothing to assess".into(),
        });
    }
    let identities = Identities::load(&inputs.maps)?;
    progress("reading the Debian package indexes");
    let graphs = load_graphs(&inputs.packages)?;

    // Match components, read each repository once.
    let mut histories: HashMap<PathBuf, Result<History>> = HashMap::new();
    let mut matched = Vec::new();
    for pkg in &doc.packages {
        let found = identities.find(pkg);
        let repo = match (&found, &inputs.repos) {
            (Some((project, _)), Some(dir)) => find_repo(dir, project),
            _ => None,
        };
        if let (Some(path), Some((project, _))) = (&repo, &found)
            && !histories.contains_key(path)
        {
            progress(&format!("reading the history of {}", path.display()));
            let mut prefixes = default_prefixes(&project.name);
            prefixes.extend(project.tag_prefixes.iter().cloned());
            let h =
                crate::repo::open(path, &inputs.cache).and_then(|o| History::read(o, &prefixes));
            histories.insert(path.clone(), h);
        }
        matched.push((pkg, found, repo));
    }
    // A repository that cannot be read is an input error, not a silent no-data.
    let failed: Vec<PathBuf> = histories
        .iter()
        .filter(|(_, h)| h.is_err())
        .map(|(p, _)| p.clone())
        .collect();
    if let Some(path) = failed.into_iter().min()
        && let Some(Err(e)) = histories.remove(&path)
    {
        return Err(e);
    }
    let as_of = inputs.as_of.unwrap_or_else(|| {
        histories
            .values()
            .filter_map(|h| h.as_ref().ok().map(|h| h.newest))
            .max()
            .map_or_else(
                || date::parse_end_of_day(doc.created.get(..10).unwrap_or("")).unwrap_or(0),
                |t| t.div_euclid(DAY) * DAY + DAY - 1,
            )
    });

    let mut components = Vec::new();
    for (pkg, found, repo) in matched {
        progress(&format!("assessing {}", pkg.name));
        let history = repo
            .as_ref()
            .and_then(|p| histories.get(p))
            .and_then(|h| h.as_ref().ok());
        components.push(component(
            inputs,
            &graphs,
            pkg,
            found,
            repo.as_deref(),
            history,
            as_of,
        )?);
    }
    components.sort_by(|a, b| a.verdict.cmp(&b.verdict).then(a.name.cmp(&b.name)));
    let mut summary = BTreeMap::new();
    for c in &components {
        *summary.entry(c.verdict.name()).or_insert(0) += 1;
    }
    Ok(Report {
        schema: SCHEMA,
        sbom: inputs.sbom.display().to_string(),
        as_of: date::format(as_of),
        as_of_given: inputs.as_of.is_some(),
        policy: inputs.policy.clone(),
        roots: inputs.roots.clone(),
        suites: graphs
            .iter()
            .map(|g| SuiteInfo {
                suite: g.suite.clone(),
                path: g.path.display().to_string(),
                packages: g.len(),
                edges: g.edge_count(),
            })
            .collect(),
        components,
        summary,
    })
}

/// The metrics, flags and notes of `h` at `t`.
fn state_at(h: &History, t: i64, p: &Policy) -> Result<(Metrics, Vec<Flag>, Vec<String>)> {
    let m = metrics::compute(h, t, p)?;
    let (flags, notes) = verdict::flags(&m, p);
    Ok((m, flags, notes))
}

#[allow(clippy::too_many_arguments)]
fn component(
    inputs: &Inputs,
    graphs: &[Graph],
    pkg: &relkit_sbom::model::Package,
    found: Option<(&Project, Match)>,
    repo: Option<&Path>,
    history: Option<&History>,
    as_of: i64,
) -> Result<ComponentReport> {
    let p = &inputs.policy;
    let mut c = ComponentReport {
        name: pkg.name.clone(),
        version: pkg.version.clone(),
        id: pkg.id.clone(),
        matched: found.as_ref().map(|(_, m)| m.clone()),
        verdict: Verdict::NoData,
        reasons: Vec::new(),
        missing: Vec::new(),
        criticality: None,
        health: None,
        flags: Vec::new(),
        notes: Vec::new(),
        languishing_at: None,
        chart_people: Vec::new(),
        timeline: Vec::new(),
    };
    let Some((project, _)) = found else {
        c.missing.push(format!(
            "no entry in the identity table for {:?} (name, CPE, PURL and download location did not match; add one with --map FILE)",
            pkg.name
        ));
        c.reasons
            .push("no-data: the component could not be identified".into());
        return Ok(c);
    };
    if graphs.is_empty() {
        c.missing
            .push("no Debian Packages index given (--debian-packages FILE)".into());
    } else {
        c.criticality = criticality(project, graphs, &inputs.roots, p);
        if c.criticality.is_none() {
            c.missing.push(format!(
                "no Debian binary package for {} in {} (identity table: source {:?}, binaries {:?})",
                project.name,
                graphs.iter().map(|g| g.suite.as_str()).collect::<Vec<_>>().join(", "),
                project.debian_source,
                project.debian_binaries
            ));
        }
    }
    match (repo, history, &inputs.repos) {
        (Some(path), Some(h), _) => {
            let (m, flags, notes) = state_at(h, as_of, p)?;
            let (people, quarters) = chart(h, as_of, 4);
            c.chart_people = people;
            c.health = Some(Health {
                repo: path.display().to_string(),
                incomplete: h.incomplete.clone(),
                commits: h.commits.len(),
                metrics: m,
                releases: h
                    .tags
                    .iter()
                    .filter(|t| t.time <= as_of)
                    .map(|t| Release {
                        tag: t.name.clone(),
                        date: t.date.clone(),
                        stable: t.stable,
                        tagger: t.tagger.clone(),
                        key: t.signer.as_ref().map(|s| s.key_id.clone()),
                    })
                    .collect(),
                quarters,
            });
            if let Some(why) = &h.incomplete {
                c.missing.push(format!("{}: {why}", path.display()));
            } else {
                c.flags = flags;
                c.notes = notes;
            }
        }
        (_, _, None) => c.missing.push(format!(
            "no upstream repository: --repos DIR not given (relkit looks for {}.bundle, {0}.git or {0} there)",
            project.repos.first().unwrap_or(&project.name)
        )),
        (_, _, Some(dir)) => c.missing.push(format!(
            "no upstream repository for {} under {} (looked for {}.bundle, {2}.git, {2})",
            project.name,
            dir.display(),
            project.repos.first().unwrap_or(&project.name)
        )),
    }
    let tier = c.criticality.as_ref().map(|k| k.tier);
    let history_ok = c.health.as_ref().is_some_and(|h| h.incomplete.is_none());
    match tier {
        Some(Tier::Low) => {
            c.verdict = Verdict::NotCritical;
            c.reasons
                .push("not-critical: below the important tier in every suite".into());
            c.reasons.extend(
                c.criticality
                    .as_ref()
                    .map(|k| k.reasons.clone())
                    .unwrap_or_default(),
            );
        }
        Some(tier) if history_ok => {
            let h = history.expect("history_ok");
            let control = c.flags.iter().any(|f| f.family == verdict::Family::Control);
            let mut was = false;
            if tier == Tier::Critical && (control || inputs.timeline) {
                let from = as_of - p.transition_lookback_days * DAY;
                for t in quarter_ends(from, as_of)
                    .into_iter()
                    .filter(|&t| t > from && t < as_of)
                {
                    let (_, flags, _) = state_at(h, t, p)?;
                    if verdict::languishing(&flags, p) {
                        was = true;
                        c.languishing_at = Some(date::format(t));
                    }
                }
            }
            c.verdict = verdict::decide(tier, &c.flags, p, was);
            c.reasons = explain_rule(&c, tier, p);
            if inputs.timeline {
                c.timeline = timeline(h, tier, as_of, p)?;
            }
        }
        Some(_) => {
            c.reasons.push(
                "no-data: critical or important, but its history could not be assessed".into(),
            );
        }
        None => {
            c.reasons.push("no-data: its criticality is unknown".into());
        }
    }
    Ok(c)
}

fn explain_rule(c: &ComponentReport, tier: Tier, p: &Policy) -> Vec<String> {
    let names = |fam: verdict::Family| {
        c.flags
            .iter()
            .filter(|f| f.family == fam)
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let tier_name = match tier {
        Tier::Critical => "critical",
        Tier::Important => "important",
        Tier::Low => "low",
    };
    let mut out = vec![match c.verdict {
        Verdict::CriticalLanguishing => format!(
            "critical-languishing: tier critical, neglect flags [{}] (>= {}), fragility flags [{}] (>= {})",
            names(verdict::Family::Neglect),
            p.min_neglect_flags,
            names(verdict::Family::Fragility),
            p.min_fragility_flags
        ),
        Verdict::Transition => format!(
            "transition: tier critical, control flags [{}], and critical-languishing at {} (within {} days): a prompt to look, not an accusation",
            names(verdict::Family::Control),
            c.languishing_at.as_deref().unwrap_or("?"),
            p.transition_lookback_days
        ),
        Verdict::Watch => format!(
            "watch: tier {tier_name} with flags [{}]",
            c.flags
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Verdict::Ok => format!("ok: tier {tier_name}, no flag raised"),
        v => v.name().to_string(),
    }];
    out.extend(
        c.criticality
            .as_ref()
            .map(|k| k.reasons.clone())
            .unwrap_or_default(),
    );
    out
}

fn timeline(h: &History, tier: Tier, as_of: i64, p: &Policy) -> Result<Vec<TimelinePoint>> {
    let Some(first) = h.commits.first() else {
        return Ok(Vec::new());
    };
    let mut languishing: Vec<i64> = Vec::new();
    let mut out = Vec::new();
    for t in quarter_ends(first.time, as_of) {
        let (_, flags, _) = state_at(h, t, p)?;
        let was = languishing
            .iter()
            .any(|&q| q < t && q > t - p.transition_lookback_days * DAY);
        let v = verdict::decide(tier, &flags, p, was);
        if verdict::languishing(&flags, p) && tier == Tier::Critical {
            languishing.push(t);
        }
        out.push(TimelinePoint {
            quarter: date::quarter_label(t),
            date: date::format(t),
            verdict: v,
            flags: flags.iter().map(|f| f.name).collect(),
        });
    }
    Ok(out)
}
