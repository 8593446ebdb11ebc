//! Dwell times the WCO Time Release Study way, from the trips' milestones: per gate pair,
//! direction, day, commodity group and channel as asked, with each agency's time. The grouping
//! itself is `cuakhau_store::trips::dwell_report`, shared with the CLI.

use crate::{App, AppError, Principal, Result};
use cuakhau_core::auth::Action;
use cuakhau_core::goods::dwell::Report;
use cuakhau_core::{Direction, FieldError, GatePairId, Problem, Timestamp};
use cuakhau_store::trips::{DWELL_GROUPS, REPORTED, TripQuery, dwell_report};

/// The report use cases.
#[derive(Debug, Clone, Copy)]
pub struct Reports<'a>(pub(crate) &'a App);

/// What a dwell report covers.
#[derive(Debug, Clone, Default)]
pub struct DwellQuery<'a> {
    pub gate_pair: Option<GatePairId>,
    pub direction: Option<Direction>,
    /// Trucks that arrived at or after; default: 30 days ago.
    pub from: Option<Timestamp>,
    /// Trucks that arrived before; default: now.
    pub until: Option<Timestamp>,
    /// Grouping, any of `DWELL_GROUPS`; default `gate-pair,direction`.
    pub by: Vec<&'a str>,
}

impl Reports<'_> {
    /// Dwell times of the trucks the principal may see in detail.
    pub async fn dwell(&self, who: &Principal, q: &DwellQuery<'_>) -> Result<Report> {
        let u = who.require(Action::ReadReports)?;
        let by: Vec<&str> = if q.by.is_empty() { vec!["gate-pair", "direction"] } else { q.by.clone() };
        if by.iter().any(|g| !DWELL_GROUPS.contains(g)) {
            return Err(AppError::Invalid(FieldError::new("by", Problem::NotOneOf { allowed: DWELL_GROUPS })));
        }
        let now = self.0.now();
        let trips = self
            .0
            .store()
            .trips(TripQuery {
                gate_pair: q.gate_pair.as_ref(),
                direction: q.direction,
                statuses: REPORTED,
                from: Some(q.from.unwrap_or(now.plus_seconds(-30 * 86_400))),
                until: Some(q.until.unwrap_or(now.plus_seconds(1))),
                ..Default::default()
            })
            .await?;
        let mine = trips.iter().filter(|t| cuakhau_core::auth::allows(&u.roles, Action::ReadGateDetail { gate_pair: &t.gate_pair }));
        Ok(dwell_report(mine, &by))
    }
}
