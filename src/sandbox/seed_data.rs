//! Which data the sandbox serves: the demo team's (`seed`, with
//! `seed_heavy`) or the hostile one (`seed_hostile`). The choice is made at
//! start (`cstar-mcp sandbox --data`, `serve --sandbox --sandbox-data`) and
//! can be changed by `POST /_sandbox/reset` with `{"data": "hostile"}`.
//!
//! Either way the demo keys, the teams' ids and the environments stay the
//! same; only the records (and the team's name and slug) change, so a
//! client that already knows its team keeps working across a switch.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::seed::{self, Team};
use super::seed_hostile;

/// The data a sandbox serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedData {
    /// Realistic demo data: "Acme Support" and "Globex Help".
    #[default]
    Demo,
    /// Adversarial text in every field, at the largest sizes cStar accepts.
    Hostile,
}

impl SeedData {
    /// Every choice's name, as flags and the control API spell it.
    pub const NAMES: [&'static str; 2] = ["demo", "hostile"];

    pub fn name(self) -> &'static str {
        match self {
            SeedData::Demo => Self::NAMES[0],
            SeedData::Hostile => Self::NAMES[1],
        }
    }

    /// One team's environment; `seed` sets the ids (and the demo records).
    pub fn build(self, team: Team, seed: u64) -> Dataset {
        match self {
            SeedData::Demo => seed::dataset(team, seed),
            SeedData::Hostile => seed_hostile::dataset(team, seed),
        }
    }
}

impl FromStr for SeedData {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "demo" => Ok(SeedData::Demo),
            "hostile" => Ok(SeedData::Hostile),
            other => Err(format!(
                "no sandbox data called '{other}'; choose {}",
                Self::NAMES.join(" or ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in SeedData::NAMES {
            let data: SeedData = name.parse().unwrap();
            assert_eq!(data.name(), name);
            assert_eq!(serde_json::to_value(data).unwrap(), name);
        }
        assert!("Hostile".parse::<SeedData>().is_err());
        assert_eq!(SeedData::default(), SeedData::Demo);
    }
}
