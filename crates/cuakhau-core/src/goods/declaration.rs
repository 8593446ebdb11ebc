//! The pre-arrival declaration: consignments, and the states it moves through.
//!
//! draft → submitted → accepted | rejected(reasons); submitted or accepted → amended (back to
//! submitted, next version); any state before crossing → cancelled. Acceptance starts a validity
//! window (China moved it from 24 h to 72 h in March 2025 so queuing trucks do not lapse).

use super::parties::HsCode;
use crate::time::Timestamp;
use crate::validate::{self, FieldError, Problem};

/// How long cargo keeps, for call-forward priority and spoilage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Perishable {
    pub shelf_life_h: u32,
}

/// One line of goods on a declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Consignment {
    pub hs: HsCode,
    pub description_vi: Option<String>,
    pub description_zh: Option<String>,
    pub packages: u32,
    pub gross_kg: f64,
    /// Value in minor units of `currency` is not used: customs values are declared with two
    /// decimals, kept as a decimal number.
    pub value: f64,
    pub currency: String,
    /// ISO 3166 alpha-2 country of origin.
    pub origin: String,
    pub perishable: Option<Perishable>,
    /// Phytosanitary or health certificate number; required for goods that pass quarantine.
    pub certificate: Option<String>,
}

/// Raw fields of a consignment as they arrive.
#[derive(Debug, Clone, Default)]
pub struct ConsignmentFields<'a> {
    pub hs_code: &'a str,
    pub description_vi: &'a str,
    pub description_zh: &'a str,
    pub packages: u32,
    pub gross_kg: f64,
    pub value: f64,
    pub currency: &'a str,
    pub origin: &'a str,
    pub shelf_life_h: Option<u32>,
    pub certificate: &'a str,
}

impl Consignment {
    /// Validates one consignment; `index` prefixes field names (`consignments[2].hs_code`). The
    /// first bad field; [`Consignment::parse_all`] gives them all.
    pub fn parse(index: usize, f: &ConsignmentFields<'_>) -> Result<Self, FieldError> {
        Self::parse_all(index, f).map_err(|mut e| e.swap_remove(0))
    }

    /// Validates one consignment and names every bad field, in the form's order.
    pub fn parse_all(index: usize, f: &ConsignmentFields<'_>) -> Result<Self, Vec<FieldError>> {
        let name = |n: &str| format!("consignments[{index}].{n}");
        let at = |e: FieldError| FieldError::new(name(&e.field), e.problem);
        let mut errors = Vec::new();
        let bad = |errors: &mut Vec<FieldError>, n: &str, p: Problem| errors.push(FieldError::new(name(n), p));
        let hs = validate::collect(&mut errors, HsCode::parse(f.hs_code).map_err(at));
        let description_vi = validate::collect(&mut errors, validate::opt_text("description_vi", f.description_vi, 500).map_err(at));
        let description_zh = validate::collect(&mut errors, validate::opt_text("description_zh", f.description_zh, 500).map_err(at));
        if matches!((&description_vi, &description_zh), (Some(None), Some(None))) {
            bad(&mut errors, "description_vi", Problem::Other("a description in Vietnamese or Chinese is required"));
        }
        if f.packages == 0 || f.packages > 100_000 {
            bad(&mut errors, "packages", Problem::OutOfRange { min: 1.0, max: 100_000.0 });
        }
        if !(f.gross_kg > 0.0 && f.gross_kg <= 60_000.0) {
            bad(&mut errors, "gross_kg", Problem::OutOfRange { min: 0.001, max: 60_000.0 });
        }
        if !(f.value >= 0.0 && f.value < 1e12) {
            bad(&mut errors, "value", Problem::OutOfRange { min: 0.0, max: 1e12 });
        }
        let currency = f.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            bad(&mut errors, "currency", Problem::Other("an ISO 4217 code such as VND, CNY or USD"));
        }
        let origin = f.origin.trim().to_ascii_uppercase();
        if origin.len() != 2 || !origin.chars().all(|c| c.is_ascii_uppercase()) {
            bad(&mut errors, "origin", Problem::Other("an ISO 3166 two-letter country code such as VN or CN"));
        }
        let perishable = match f.shelf_life_h {
            None => None,
            Some(h) if (1..=24 * 365).contains(&h) => Some(Perishable { shelf_life_h: h }),
            Some(_) => {
                bad(&mut errors, "shelf_life_h", Problem::OutOfRange { min: 1.0, max: 8760.0 });
                None
            }
        };
        let certificate = validate::collect(&mut errors, validate::opt_text("certificate", f.certificate, 64).map_err(at));
        if hs.as_ref().is_some_and(HsCode::needs_quarantine) && matches!(certificate, Some(None)) {
            bad(&mut errors, "certificate", Problem::Other("goods of HS chapters 01–24 need a phytosanitary or health certificate number"));
        }
        let (Some(hs), Some(description_vi), Some(description_zh), Some(certificate), true) =
            (hs, description_vi, description_zh, certificate, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(Consignment {
            hs,
            description_vi,
            description_zh,
            packages: f.packages,
            gross_kg: f.gross_kg,
            value: f.value,
            currency,
            origin,
            perishable,
            certificate,
        })
    }
}

/// Where a declaration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclState {
    Draft,
    Submitted,
    Accepted { at: Timestamp, valid_until: Timestamp },
    Rejected { reasons: Vec<String> },
    Cancelled,
}

impl DeclState {
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Which of the five states this is, without its details.
    pub fn kind(&self) -> StateKind {
        match self {
            DeclState::Draft => StateKind::Draft,
            DeclState::Submitted => StateKind::Submitted,
            DeclState::Accepted { .. } => StateKind::Accepted,
            DeclState::Rejected { .. } => StateKind::Rejected,
            DeclState::Cancelled => StateKind::Cancelled,
        }
    }
}

/// A declaration's state without its details: what a list filters by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    Draft,
    Submitted,
    Accepted,
    Rejected,
    Cancelled,
}

impl StateKind {
    /// Whether a declaration in this state, accepted until `valid_until`, is valid at `now`:
    /// accepted, and `now` before the end of its validity. A booking asks this of the declaration's
    /// stored columns, so it need not read the whole declaration.
    pub fn is_valid_at(self, valid_until: Option<Timestamp>, now: Timestamp) -> bool {
        self == StateKind::Accepted && valid_until.is_some_and(|v| now < v)
    }

    /// Every state, in the order a declaration meets them.
    pub const ALL: [StateKind; 5] =
        [StateKind::Draft, StateKind::Submitted, StateKind::Accepted, StateKind::Rejected, StateKind::Cancelled];
    /// Their codes, in the same order.
    pub const CODES: &'static [&'static str] = &["draft", "submitted", "accepted", "rejected", "cancelled"];

    pub fn code(self) -> &'static str {
        match self {
            StateKind::Draft => "draft",
            StateKind::Submitted => "submitted",
            StateKind::Accepted => "accepted",
            StateKind::Rejected => "rejected",
            StateKind::Cancelled => "cancelled",
        }
    }

    /// The state with this code, or an error naming `field`.
    pub fn parse(field: &'static str, code: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|k| k.code() == code).ok_or(FieldError::new(field, Problem::NotOneOf { allowed: Self::CODES }))
    }
}

/// A declaration's goods and state; the vehicle, driver and gate pair are held beside it by the
/// store.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub state: DeclState,
    pub version: u32,
    pub consignments: Vec<Consignment>,
}

/// Something that happens to a declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclEvent {
    Submit,
    Accept {
        at: Timestamp,
        validity_h: u32,
    },
    Reject {
        reasons: Vec<String>,
    },
    /// New consignments; the declaration goes back to `submitted` as the next version.
    Amend {
        consignments: Vec<Consignment>,
    },
    Cancel,
}

/// Why an event does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTransition {
    pub from: &'static str,
    pub event: &'static str,
}

impl std::fmt::Display for BadTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a declaration that is {} cannot be {}", self.from, self.event)
    }
}

impl DeclEvent {
    fn name(&self) -> &'static str {
        match self {
            DeclEvent::Submit => "submitted",
            DeclEvent::Accept { .. } => "accepted",
            DeclEvent::Reject { .. } => "rejected",
            DeclEvent::Amend { .. } => "amended",
            DeclEvent::Cancel => "cancelled",
        }
    }
}

impl Declaration {
    pub fn new(consignments: Vec<Consignment>) -> Result<Self, FieldError> {
        if consignments.is_empty() {
            return Err(FieldError::new("consignments", Problem::Empty));
        }
        Ok(Declaration { state: DeclState::Draft, version: 1, consignments })
    }

    /// The next declaration after `event`, or why not.
    pub fn apply(&self, event: DeclEvent) -> Result<Declaration, BadTransition> {
        let bad = BadTransition { from: self.state.code(), event: event.name() };
        let mut next = self.clone();
        next.state = match (&self.state, event) {
            (DeclState::Draft, DeclEvent::Submit) => DeclState::Submitted,
            (DeclState::Submitted, DeclEvent::Accept { at, validity_h }) => {
                DeclState::Accepted { at, valid_until: at.plus_seconds(validity_h as i64 * 3600) }
            }
            (DeclState::Submitted, DeclEvent::Reject { reasons }) if !reasons.is_empty() => DeclState::Rejected { reasons },
            (
                DeclState::Draft | DeclState::Submitted | DeclState::Accepted { .. } | DeclState::Rejected { .. },
                DeclEvent::Amend { consignments },
            ) if !consignments.is_empty() => {
                next.consignments = consignments;
                next.version += 1;
                DeclState::Submitted
            }
            (DeclState::Draft | DeclState::Submitted | DeclState::Accepted { .. } | DeclState::Rejected { .. }, DeclEvent::Cancel) => {
                DeclState::Cancelled
            }
            _ => return Err(bad),
        };
        Ok(next)
    }

    /// Accepted and not yet expired at `now`.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        let valid_until = match self.state {
            DeclState::Accepted { valid_until, .. } => Some(valid_until),
            _ => None,
        };
        self.state.kind().is_valid_at(valid_until, now)
    }

    pub fn is_perishable(&self) -> bool {
        self.consignments.iter().any(|c| c.perishable.is_some())
    }

    /// The shortest shelf life on board, in hours.
    pub fn shelf_life_h(&self) -> Option<u32> {
        self.consignments.iter().filter_map(|c| c.perishable.map(|p| p.shelf_life_h)).min()
    }

    pub fn needs_quarantine(&self) -> bool {
        self.consignments.iter().any(|c| c.hs.needs_quarantine())
    }

    pub fn value(&self) -> f64 {
        self.consignments.iter().map(|c| c.value).sum()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #[test]
    fn only_an_accepted_declaration_is_valid_and_only_before_its_validity_ends() {
        use super::{StateKind, Timestamp};
        let end = Timestamp::from_micros(1_000);
        // (state, valid until, now, valid?)
        let cases = [
            (StateKind::Accepted, Some(end), Timestamp::from_micros(999), true),
            (StateKind::Accepted, Some(end), end, false),
            (StateKind::Accepted, Some(end), Timestamp::from_micros(1_001), false),
            (StateKind::Accepted, None, Timestamp::from_micros(0), false),
            (StateKind::Submitted, Some(end), Timestamp::from_micros(0), false),
            (StateKind::Draft, Some(end), Timestamp::from_micros(0), false),
            (StateKind::Rejected, Some(end), Timestamp::from_micros(0), false),
            (StateKind::Cancelled, Some(end), Timestamp::from_micros(0), false),
        ];
        for (state, until, now, want) in cases {
            assert_eq!(state.is_valid_at(until, now), want, "{state:?} until {until:?} at {now:?}");
        }
    }

    #[test]
    fn state_kinds_codes_are_listed_in_the_order_of_all() {
        let codes: Vec<&str> = super::StateKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes, super::StateKind::CODES);
        for k in super::StateKind::ALL {
            assert_eq!(super::StateKind::parse("state", k.code()), Ok(k));
        }
        assert!(super::StateKind::parse("state", "crossed").is_err());
    }

    use super::*;

    pub fn durian() -> Consignment {
        Consignment::parse(
            0,
            &ConsignmentFields {
                hs_code: "08106000",
                description_vi: "Sầu riêng tươi",
                description_zh: "新鲜榴莲",
                packages: 1200,
                gross_kg: 21_000.0,
                value: 63_000.0,
                currency: "usd",
                origin: "vn",
                shelf_life_h: Some(96),
                certificate: "VN-PC-2026-001234",
            },
        )
        .unwrap()
    }

    #[test]
    fn consignment_errors_name_the_field_and_index() {
        let base = ConsignmentFields {
            hs_code: "85171300",
            description_vi: "Điện thoại",
            packages: 10,
            gross_kg: 100.0,
            value: 1.0,
            currency: "CNY",
            origin: "CN",
            ..Default::default()
        };
        assert!(Consignment::parse(0, &base).is_ok());
        let cases: Vec<(ConsignmentFields, &str)> = vec![
            (ConsignmentFields { hs_code: "851", ..base.clone() }, "consignments[3].hs_code"),
            (ConsignmentFields { description_vi: "", ..base.clone() }, "consignments[3].description_vi"),
            (ConsignmentFields { packages: 0, ..base.clone() }, "consignments[3].packages"),
            (ConsignmentFields { gross_kg: -1.0, ..base.clone() }, "consignments[3].gross_kg"),
            (ConsignmentFields { currency: "yuan", ..base.clone() }, "consignments[3].currency"),
            (ConsignmentFields { origin: "CHN", ..base.clone() }, "consignments[3].origin"),
            (ConsignmentFields { shelf_life_h: Some(0), ..base.clone() }, "consignments[3].shelf_life_h"),
            (ConsignmentFields { hs_code: "08106000", ..base.clone() }, "consignments[3].certificate"),
        ];
        for (f, field) in cases {
            assert_eq!(Consignment::parse(3, &f).unwrap_err().field, field);
        }
    }

    #[test]
    fn the_declaration_life_cycle() {
        let t = Timestamp(0);
        let d = Declaration::new(vec![durian()]).unwrap();
        assert!(d.is_perishable() && d.needs_quarantine());
        assert_eq!(d.shelf_life_h(), Some(96));
        let d = d.apply(DeclEvent::Submit).unwrap();
        assert!(d.apply(DeclEvent::Submit).is_err());
        let d = d.apply(DeclEvent::Accept { at: t, validity_h: 72 }).unwrap();
        assert!(d.is_valid_at(t.plus_seconds(71 * 3600)));
        assert!(!d.is_valid_at(t.plus_seconds(72 * 3600)), "expires after 72 h");
        let amended = d.apply(DeclEvent::Amend { consignments: vec![durian(), durian()] }).unwrap();
        assert_eq!((amended.state.code(), amended.version), ("submitted", 2));
        assert!(!amended.is_valid_at(t), "an amendment needs a new acceptance");
        let rejected = amended.apply(DeclEvent::Reject { reasons: vec!["certificate does not match".into()] }).unwrap();
        assert!(rejected.apply(DeclEvent::Reject { reasons: vec![] }).is_err());
        let cancelled = rejected.apply(DeclEvent::Cancel).unwrap();
        let e = cancelled.apply(DeclEvent::Submit).unwrap_err();
        assert_eq!(e.to_string(), "a declaration that is cancelled cannot be submitted");
        assert!(Declaration::new(vec![]).is_err());
    }
}
