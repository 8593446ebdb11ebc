//! Clearance on both sides: the exit side's agencies, the hand-over at the zero-kilometre line,
//! then the entry side's agencies. Each step starts and ends with an outcome; a hold must be
//! resolved; only an officer of that side and agency may act on it; no step starts while its
//! side is closed.

use super::declaration::Declaration;
use crate::auth::Agency;
use crate::refdata::{Direction, Side};
use crate::time::Timestamp;

/// Customs' risk channel: green (release on documents), yellow (documents checked), red
/// (physical inspection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Green,
    Yellow,
    Red,
}

impl Channel {
    pub const CODES: &'static [&'static str] = &["green", "yellow", "red"];
    pub fn code(self) -> &'static str {
        match self {
            Channel::Green => "green",
            Channel::Yellow => "yellow",
            Channel::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Green, Channel::Yellow, Channel::Red].into_iter().find(|c| c.code() == s)
    }
}

/// A configurable risk rule: when every condition that is set holds, the channel applies.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskRule {
    pub hs_prefix: Option<String>,
    pub origin: Option<String>,
    pub min_value: Option<f64>,
    pub perishable: Option<bool>,
    pub channel: Channel,
    /// The rule's stable name (a slug), kept on each trip it chose the channel of.
    pub code: String,
    /// Why, in the words officers and drivers read: Vietnamese, Chinese, English.
    pub reason: [String; 3],
}

/// The code a trip keeps when no risk rule matched (green).
pub const NO_RULE: &str = "none";

/// Why a trip is in its channel, in `lang`: the reason of the rule named `code`, the catalogue's
/// words when none matched, else the stored text itself (trips from before rules had codes).
pub fn channel_reason_in(rules: &[RiskRule], code: &str, lang: crate::Lang) -> String {
    if code == NO_RULE {
        return crate::i18n::console_text(lang, "risk.none", &[]);
    }
    let i = crate::Lang::ALL.iter().position(|l| *l == lang).unwrap_or(2);
    rules.iter().find(|r| r.code == code).map_or_else(|| code.to_string(), |r| r.reason[i].clone())
}

/// The channel of a declaration: the first rule that matches, green when none does.
pub fn select_channel(rules: &[RiskRule], d: &Declaration) -> (Channel, String) {
    for r in rules {
        let hs = r.hs_prefix.as_deref().is_none_or(|p| d.consignments.iter().any(|c| c.hs.as_str().starts_with(p)));
        let origin = r.origin.as_deref().is_none_or(|o| d.consignments.iter().any(|c| c.origin == o));
        let value = r.min_value.is_none_or(|v| d.value() >= v);
        let per = r.perishable.is_none_or(|p| d.is_perishable() == p);
        if hs && origin && value && per {
            return (r.channel, r.code.clone());
        }
    }
    (Channel::Green, NO_RULE.into())
}

/// Who acts on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Agency {
        side: Side,
        agency: Agency,
    },
    /// The hand-over at the zero-kilometre line, confirmed by either side's border guard.
    Handover,
}

impl Step {
    pub fn code(&self) -> String {
        match self {
            Step::Agency { side, agency } => format!("{}:{}", side.code(), agency.code()),
            Step::Handover => "handover".into(),
        }
    }
    /// Which side's clock and hours govern the step.
    pub fn side(&self, direction: Direction) -> Side {
        match self {
            Step::Agency { side, .. } => *side,
            Step::Handover => direction.exit_side(),
        }
    }
}

/// The steps of a crossing, in order, without allocating.
pub fn plan_iter(direction: Direction, needs_quarantine: bool) -> impl ExactSizeIterator<Item = Step> {
    let (steps, n) = plan_array(direction, needs_quarantine);
    steps.into_iter().take(n)
}

/// The steps of a crossing in a fixed array, and how many there are.
#[inline]
fn plan_array(direction: Direction, needs_quarantine: bool) -> ([Step; 7], usize) {
    let mut steps = [Step::Handover; 7];
    let mut n = 0;
    let exit = direction.exit_side();
    for side in [exit, exit.other()] {
        if side != exit {
            steps[n] = Step::Handover;
            n += 1;
        }
        // Vietnam: customs, border guard, then plant/animal quarantine where the goods need it.
        // China: customs (which includes inspection and quarantine), then border inspection.
        for agency in [Agency::Customs, Agency::BorderGuard, Agency::Quarantine] {
            if agency != Agency::Quarantine || (side == Side::Vn && needs_quarantine) {
                steps[n] = Step::Agency { side, agency };
                n += 1;
            }
        }
    }
    (steps, n)
}

/// The steps of a crossing, in order.
pub fn plan(direction: Direction, needs_quarantine: bool) -> Vec<Step> {
    plan_iter(direction, needs_quarantine).collect()
}

/// How an officer ends a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Hold { reason: String },
    Refuse { reason: String },
}

/// Where a step stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Pending,
    InProgress { since: Timestamp },
    Held { since: Timestamp, reason: String },
    Passed { at: Timestamp },
    Refused { at: Timestamp, reason: String },
}

impl StepState {
    pub fn code(&self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::InProgress { .. } => "in-progress",
            StepState::Held { .. } => "held",
            StepState::Passed { .. } => "passed",
            StepState::Refused { .. } => "refused",
        }
    }
}

/// What an officer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Start,
    Finish(Outcome),
}

/// Why an act is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClearanceError {
    /// The officer's side or agency is not the step's.
    NotYourStep,
    /// The trip is not at this step (an earlier one is open, or it is done).
    NotCurrent,
    /// The act does not fit the step's state (finish before start, start twice…).
    WrongState { state: &'static str },
    /// The step's side is closed now.
    SideClosed,
    /// A hold or refusal needs a reason.
    NoReason,
    /// The trip ended (refused or crossed).
    Finished,
}

impl std::fmt::Display for ClearanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClearanceError::NotYourStep => write!(f, "this step belongs to another side or agency"),
            ClearanceError::NotCurrent => write!(f, "the truck is not at this step"),
            ClearanceError::WrongState { state } => write!(f, "the step is {state}"),
            ClearanceError::SideClosed => write!(f, "this side of the gate is closed now"),
            ClearanceError::NoReason => write!(f, "a hold or refusal needs a reason"),
            ClearanceError::Finished => write!(f, "the crossing has ended"),
        }
    }
}

/// A truck's clearance: its direction, steps and their states.
///
/// The steps are private so that the cursor (the first step not yet passed) always agrees with
/// them; read them with [`Trip::steps`], change them only through [`Trip::act`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    pub direction: Direction,
    pub channel: Channel,
    steps: Vec<(Step, StepState)>,
    cursor: usize,
    refused: bool,
}

impl Trip {
    pub fn new(direction: Direction, channel: Channel, needs_quarantine: bool) -> Self {
        let mut steps = Vec::with_capacity(7);
        steps.extend(plan_iter(direction, needs_quarantine).map(|s| (s, StepState::Pending)));
        Trip { direction, channel, steps, cursor: 0, refused: false }
    }

    /// Makes this trip a new one for another truck, reusing its storage (the simulator runs
    /// millions of trips).
    #[inline]
    pub fn reset(&mut self, direction: Direction, channel: Channel, needs_quarantine: bool) {
        self.direction = direction;
        self.channel = channel;
        self.steps.clear();
        let (plan, n) = plan_array(direction, needs_quarantine);
        self.steps.extend(plan[..n].iter().map(|s| (*s, StepState::Pending)));
        self.cursor = 0;
        self.refused = false;
    }

    /// Rebuilds a trip from stored step states (the cursor is recomputed).
    pub fn from_steps(direction: Direction, channel: Channel, steps: Vec<(Step, StepState)>) -> Self {
        let refused = steps.iter().any(|(_, s)| matches!(s, StepState::Refused { .. }));
        let cursor = steps.iter().position(|(_, s)| !matches!(s, StepState::Passed { .. })).unwrap_or(steps.len());
        Trip { direction, channel, steps, cursor, refused }
    }

    #[inline]
    pub fn steps(&self) -> &[(Step, StepState)] {
        &self.steps
    }

    /// The index of the first step not yet passed; `None` when all passed or one was refused.
    #[inline]
    pub fn current(&self) -> Option<usize> {
        if self.refused || self.cursor >= self.steps.len() { None } else { Some(self.cursor) }
    }

    #[inline]
    pub fn is_refused(&self) -> bool {
        self.refused
    }

    #[inline]
    pub fn is_cleared(&self) -> bool {
        !self.refused && self.cursor >= self.steps.len()
    }

    /// Applies an officer's act on step `index`. `officer` is the officer's side and agency;
    /// `side_open` tells whether the step's side is open at `now`.
    #[inline]
    pub fn act(&mut self, index: usize, officer: (Side, Agency), act: Act, now: Timestamp, side_open: bool) -> Result<(), ClearanceError> {
        self.check_turn(index, officer)?;
        let state = &self.steps[index].1;
        let next = match (state, act) {
            (StepState::Pending, Act::Start) => {
                if !side_open {
                    return Err(ClearanceError::SideClosed);
                }
                StepState::InProgress { since: now }
            }
            (StepState::InProgress { .. } | StepState::Held { .. }, Act::Finish(o)) => match o {
                Outcome::Pass => StepState::Passed { at: now },
                Outcome::Hold { reason } | Outcome::Refuse { reason } if reason.trim().is_empty() => return Err(ClearanceError::NoReason),
                Outcome::Hold { reason } => StepState::Held { since: now, reason },
                Outcome::Refuse { reason } => StepState::Refused { at: now, reason },
            },
            (s, _) => return Err(ClearanceError::WrongState { state: s.code() }),
        };
        match next {
            StepState::Passed { .. } => self.cursor += 1,
            StepState::Refused { .. } => self.refused = true,
            _ => {}
        }
        self.steps[index].1 = next;
        Ok(())
    }

    /// Starts step `index` (its side open or not: `side_open`) and passes it at `at`, in one
    /// transition: exactly what [`Trip::act`] with `Act::Start` and then
    /// `Act::Finish(Outcome::Pass)` at `at` does, checked the same way (the simulator drives
    /// millions of steps that no officer holds).
    #[inline]
    pub fn pass(&mut self, index: usize, officer: (Side, Agency), at: Timestamp, side_open: bool) -> Result<(), ClearanceError> {
        self.check_turn(index, officer)?;
        match &self.steps[index].1 {
            StepState::Pending if !side_open => return Err(ClearanceError::SideClosed),
            StepState::Pending => {}
            s => return Err(ClearanceError::WrongState { state: s.code() }),
        }
        self.steps[index].1 = StepState::Passed { at };
        self.cursor += 1;
        Ok(())
    }

    /// Is step `index` the current one, and the officer's to act on?
    #[inline]
    fn check_turn(&self, index: usize, officer: (Side, Agency)) -> Result<(), ClearanceError> {
        // The usual case first: the current step, whose officer acts (the same answers as below).
        if !self.refused && index == self.cursor && index < self.steps.len() {
            let mine = match self.steps[index].0 {
                Step::Agency { side, agency } => officer == (side, agency),
                Step::Handover => officer.1 == Agency::BorderGuard,
            };
            return if mine { Ok(()) } else { Err(ClearanceError::NotYourStep) };
        }
        if self.is_refused() || self.is_cleared() {
            return Err(ClearanceError::Finished);
        }
        let mine = match self.steps.get(index) {
            Some((Step::Agency { side, agency }, _)) => officer == (*side, *agency),
            Some((Step::Handover, _)) => officer.1 == Agency::BorderGuard,
            None => return Err(ClearanceError::NotCurrent),
        };
        if !mine {
            return Err(ClearanceError::NotYourStep);
        }
        if self.current() != Some(index) {
            return Err(ClearanceError::NotCurrent);
        }
        Ok(())
    }

    /// When the last exit-side agency passed the truck.
    pub fn exit_release(&self) -> Option<Timestamp> {
        self.last_pass_before_handover()
    }

    fn last_pass_before_handover(&self) -> Option<Timestamp> {
        let h = self.steps.iter().position(|(s, _)| *s == Step::Handover)?;
        match self.steps[..h].last()?.1 {
            StepState::Passed { at } => Some(at),
            _ => None,
        }
    }

    /// When the truck crossed the zero-kilometre line.
    pub fn crossed(&self) -> Option<Timestamp> {
        self.steps.iter().find_map(|(s, st)| match (s, st) {
            (Step::Handover, StepState::Passed { at }) => Some(*at),
            _ => None,
        })
    }

    /// When the last entry-side agency released the truck.
    pub fn entry_release(&self) -> Option<Timestamp> {
        if !self.is_cleared() {
            return None;
        }
        match self.steps.last()?.1 {
            StepState::Passed { at } => Some(at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VN_CUSTOMS: (Side, Agency) = (Side::Vn, Agency::Customs);
    const VN_GUARD: (Side, Agency) = (Side::Vn, Agency::BorderGuard);
    const VN_QUAR: (Side, Agency) = (Side::Vn, Agency::Quarantine);
    const CN_CUSTOMS: (Side, Agency) = (Side::Cn, Agency::Customs);
    const CN_GUARD: (Side, Agency) = (Side::Cn, Agency::BorderGuard);

    #[test]
    fn the_steps_follow_the_direction() {
        let codes = |d, q| plan(d, q).iter().map(Step::code).collect::<Vec<_>>();
        assert_eq!(
            codes(Direction::Export, true),
            ["VN:customs", "VN:border-guard", "VN:quarantine", "handover", "CN:customs", "CN:border-guard"]
        );
        assert_eq!(codes(Direction::Import, false), ["CN:customs", "CN:border-guard", "handover", "VN:customs", "VN:border-guard"]);
    }

    fn pass(t: &mut Trip, i: usize, who: (Side, Agency), at: i64) {
        t.act(i, who, Act::Start, Timestamp(at), true).unwrap();
        t.act(i, who, Act::Finish(Outcome::Pass), Timestamp(at + 10), true).unwrap();
    }

    /// In every state a trip can reach, for every step, officer and opening, `pass` answers what
    /// `act(Start)` then `act(Finish(Pass))` answer and leaves the same trip.
    #[test]
    fn pass_is_start_then_finish() {
        let officers = [VN_CUSTOMS, VN_GUARD, VN_QUAR, CN_CUSTOMS, CN_GUARD, (Side::Cn, Agency::Quarantine)];
        for (direction, quarantine) in [(Direction::Export, true), (Direction::Import, false)] {
            let n = plan(direction, quarantine).len();
            let mut reached = vec![Trip::new(direction, Channel::Yellow, quarantine)];
            let mut started = Trip::new(direction, Channel::Yellow, quarantine);
            let who = officer_of(started.steps()[0].0);
            started.act(0, who, Act::Start, Timestamp(1), true).unwrap();
            reached.push(started);
            let mut refused = Trip::new(direction, Channel::Yellow, quarantine);
            refused.act(0, who, Act::Start, Timestamp(1), true).unwrap();
            refused.act(0, who, Act::Finish(Outcome::Refuse { reason: "x".into() }), Timestamp(2), true).unwrap();
            reached.push(refused);
            for k in 1..=n {
                let mut t = Trip::new(direction, Channel::Yellow, quarantine);
                for i in 0..k {
                    let who = officer_of(t.steps()[i].0);
                    pass(&mut t, i, who, 10 * i as i64);
                }
                reached.push(t);
            }
            for trip in &reached {
                for index in 0..n + 1 {
                    for who in officers {
                        for open in [true, false] {
                            let (mut a, mut b) = (trip.clone(), trip.clone());
                            let via_act = a
                                .act(index, who, Act::Start, Timestamp(5), open)
                                .and_then(|()| a.act(index, who, Act::Finish(Outcome::Pass), Timestamp(9), true));
                            assert_eq!(b.pass(index, who, Timestamp(9), open), via_act, "{trip:?} {index} {who:?} {open}");
                            assert_eq!(a, b);
                        }
                    }
                }
            }
        }
    }

    fn officer_of(step: Step) -> (Side, Agency) {
        match step {
            Step::Agency { side, agency } => (side, agency),
            Step::Handover => (Side::Vn, Agency::BorderGuard),
        }
    }

    #[test]
    fn a_perishable_export_clears_step_by_step() {
        let mut t = Trip::new(Direction::Export, Channel::Green, true);
        assert_eq!(
            t.act(0, CN_CUSTOMS, Act::Start, Timestamp(0), true),
            Err(ClearanceError::NotYourStep),
            "a Chinese officer cannot act on a Vietnamese step"
        );
        assert_eq!(t.act(1, VN_GUARD, Act::Start, Timestamp(0), true), Err(ClearanceError::NotCurrent));
        assert_eq!(t.act(0, VN_CUSTOMS, Act::Start, Timestamp(0), false), Err(ClearanceError::SideClosed));
        assert_eq!(
            t.act(0, VN_CUSTOMS, Act::Finish(Outcome::Pass), Timestamp(0), true),
            Err(ClearanceError::WrongState { state: "pending" })
        );
        pass(&mut t, 0, VN_CUSTOMS, 100);
        pass(&mut t, 1, VN_GUARD, 200);
        pass(&mut t, 2, VN_QUAR, 300);
        assert_eq!(t.exit_release(), Some(Timestamp(310)));
        pass(&mut t, 3, CN_GUARD, 400);
        assert_eq!(t.crossed(), Some(Timestamp(410)));
        pass(&mut t, 4, CN_CUSTOMS, 500);
        assert_eq!(t.entry_release(), None);
        pass(&mut t, 5, CN_GUARD, 600);
        assert!(t.is_cleared());
        assert_eq!(t.entry_release(), Some(Timestamp(610)));
        assert_eq!(t.act(5, CN_GUARD, Act::Start, Timestamp(700), true), Err(ClearanceError::Finished));
    }

    #[test]
    fn a_hold_is_resolved_and_a_refusal_ends_the_trip() {
        let mut t = Trip::new(Direction::Import, Channel::Red, false);
        t.act(0, CN_CUSTOMS, Act::Start, Timestamp(0), true).unwrap();
        assert_eq!(
            t.act(0, CN_CUSTOMS, Act::Finish(Outcome::Hold { reason: " ".into() }), Timestamp(1), true),
            Err(ClearanceError::NoReason)
        );
        t.act(0, CN_CUSTOMS, Act::Finish(Outcome::Hold { reason: "seal number differs".into() }), Timestamp(1), true).unwrap();
        assert_eq!(t.steps()[0].1.code(), "held");
        assert_eq!(t.current(), Some(0), "a hold blocks the next step");
        t.act(0, CN_CUSTOMS, Act::Finish(Outcome::Pass), Timestamp(2), true).unwrap();
        t.act(1, CN_GUARD, Act::Start, Timestamp(3), true).unwrap();
        t.act(1, CN_GUARD, Act::Finish(Outcome::Refuse { reason: "driver's border pass expired".into() }), Timestamp(4), true).unwrap();
        assert!(t.is_refused() && !t.is_cleared());
        assert_eq!(t.act(2, VN_GUARD, Act::Start, Timestamp(5), true), Err(ClearanceError::Finished));
    }
}
