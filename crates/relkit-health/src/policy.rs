//! The thresholds behind every flag, tier and verdict: a TOML file users can change
//! (`--policy FILE`, any subset of the keys), with documented defaults
//! ([`DEFAULT_POLICY`], the file `policy.toml` of this crate, says why each value).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The default policy, with the reason for each value.
pub const DEFAULT_POLICY: &str = include_str!("policy.toml");

/// Thresholds. Days are whole days; shares are fractions (0.75 = 75%).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Tier `critical` from this share of the archive depending on the package transitively.
    pub critical_share: f64,
    /// Whether membership in the Essential/required closure alone makes a package critical.
    pub critical_if_essential: bool,
    /// Tier `important` from this share.
    pub important_share: f64,
    /// `release-starved`: no stable release for at least this many days.
    pub release_starved_days: i64,
    /// `low-activity`: fewer commits than this in the last 12 months.
    pub low_activity_commits: usize,
    /// `dormant`: no commit for at least this many days.
    pub dormant_days: i64,
    /// `stale input`: the newest commit of the repository is older than this many days
    /// before `--as-of` (then dormancy is not concluded).
    pub stale_days: i64,
    /// Window for the author shares and the contributor absence factor, days.
    pub share_window_days: i64,
    /// `concentrated`: the busiest identity made at least this share of the window's commits.
    pub concentrated_share: f64,
    /// `truck-factor-1` is raised when the truck factor is at most this.
    pub truck_factor_max: usize,
    /// `signer-change`: a release signer changed within this many days.
    pub signer_change_days: i64,
    /// A newcomer is an identity whose first commit is within this many days.
    pub newcomer_window_days: i64,
    /// `newcomer-control`: a newcomer made at least this share of the last 12 months'
    /// commits (or signed/tagged the newest release).
    pub newcomer_share: f64,
    /// `critical-languishing` needs at least this many neglect flags (release-starved,
    /// low-activity, dormant) …
    pub min_neglect_flags: usize,
    /// … and at least this many fragility flags (concentrated, truck-factor-1).
    pub min_fragility_flags: usize,
    /// `transition` looks back this many days for a `critical-languishing` quarter.
    pub transition_lookback_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::parse(DEFAULT_POLICY, "<built-in>").expect("the built-in policy is valid")
    }
}

impl Policy {
    /// Parses a policy file; keys left out keep their default.
    pub fn parse(text: &str, label: &str) -> Result<Policy> {
        let bad = |detail: String| Error::Config {
            path: label.to_string(),
            detail,
        };
        let mut value: toml::Table = if label == "<built-in>" {
            toml::Table::new()
        } else {
            DEFAULT_POLICY
                .parse::<toml::Table>()
                .map_err(|e| bad(e.to_string()))?
        };
        let user: toml::Table = text
            .parse()
            .map_err(|e| bad(format!("invalid TOML: {e}")))?;
        for (k, v) in user {
            value.insert(k, v);
        }
        let p: Policy = toml::Value::Table(value)
            .try_into()
            .map_err(|e| bad(format!("invalid policy: {e}")))?;
        for (name, share) in [
            ("critical_share", p.critical_share),
            ("important_share", p.important_share),
            ("concentrated_share", p.concentrated_share),
            ("newcomer_share", p.newcomer_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(bad(format!(
                    "{name} = {share} is not a fraction between 0 and 1"
                )));
            }
        }
        Ok(p)
    }
}
