//! Who may do what: roles scoped by side, agency and gate pair, and the one function that decides.
//!
//! The server asks [`allows`] before every write; the role matrix test in the server crate walks
//! every endpoint with every role against this same function's intent.

use crate::refdata::{GatePairId, Side};
use crate::validate::{FieldError, Problem};

/// A state agency at the border. Each side has its own officers of each agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agency {
    Customs,
    BorderGuard,
    Quarantine,
    GateBoard,
    Labour,
    ForeignAffairs,
}

impl Agency {
    pub const ALL: [Agency; 6] =
        [Agency::Customs, Agency::BorderGuard, Agency::Quarantine, Agency::GateBoard, Agency::Labour, Agency::ForeignAffairs];
    pub const CODES: &'static [&'static str] = &["customs", "border-guard", "quarantine", "gate-board", "labour", "foreign-affairs"];
    pub fn code(self) -> &'static str {
        match self {
            Agency::Customs => "customs",
            Agency::BorderGuard => "border-guard",
            Agency::Quarantine => "quarantine",
            Agency::GateBoard => "gate-board",
            Agency::Labour => "labour",
            Agency::ForeignAffairs => "foreign-affairs",
        }
    }
    pub fn parse(s: &str) -> Option<Agency> {
        Agency::ALL.into_iter().find(|a| a.code() == s)
    }
}

/// A role held by a user. A user may hold several.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the installation: users, imports, everything.
    Admin,
    /// An officer of one side's agency; `gate_pair: None` covers every gate pair of that side.
    Officer {
        side: Side,
        agency: Agency,
        gate_pair: Option<GatePairId>,
    },
    /// A declarant enterprise (its tax code or unified social credit code).
    Enterprise {
        code: String,
    },
    Driver,
    /// Reads what the public may read; the same as not being signed in.
    Public,
}

impl Role {
    /// The role's text form: `admin`, `officer:VN:gate-board:huu-nghi`, `officer:CN:customs:*`,
    /// `enterprise:0101234567`, `driver`, `public`.
    pub fn code(&self) -> String {
        match self {
            Role::Admin => "admin".into(),
            Role::Officer { side, agency, gate_pair } => {
                format!("officer:{}:{}:{}", side.code(), agency.code(), gate_pair.as_ref().map(|g| g.as_str()).unwrap_or("*"))
            }
            Role::Enterprise { code } => format!("enterprise:{code}"),
            Role::Driver => "driver".into(),
            Role::Public => "public".into(),
        }
    }

    pub fn parse(s: &str) -> Result<Role, FieldError> {
        let bad = |p| FieldError::new("roles", p);
        let parts: Vec<&str> = s.trim().split(':').collect();
        match parts.as_slice() {
            ["admin"] => Ok(Role::Admin),
            ["driver"] => Ok(Role::Driver),
            ["public"] => Ok(Role::Public),
            ["enterprise", code] if !code.is_empty() && code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                Ok(Role::Enterprise { code: (*code).to_string() })
            }
            ["officer", side, agency, pair] => {
                let side = Side::parse("roles", side)?;
                let agency = Agency::parse(agency).ok_or_else(|| bad(Problem::NotOneOf { allowed: Agency::CODES }))?;
                let gate_pair = if *pair == "*" { None } else { Some(GatePairId::parse(pair).map_err(|e| bad(e.problem))?) };
                Ok(Role::Officer { side, agency, gate_pair })
            }
            _ => Err(bad(Problem::NotOneOf {
                allowed: &["admin", "officer:SIDE:AGENCY:GATE_PAIR|*", "enterprise:CODE", "driver", "public"],
            })),
        }
    }

    fn covers_gate(&self, agency_wanted: Agency, pair: &GatePairId, side_wanted: Side) -> bool {
        match self {
            Role::Officer { side, agency, gate_pair } => {
                *side == side_wanted && *agency == agency_wanted && gate_pair.as_ref().is_none_or(|g| g == pair)
            }
            _ => false,
        }
    }
}

/// Something a user wants to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    ReadReference,
    /// Change one side's gate (opening hours) of a gate pair.
    EditGate {
        gate_pair: &'a GatePairId,
        side: Side,
    },
    /// Add or change a lane on one side of a gate pair.
    EditLane {
        gate_pair: &'a GatePairId,
        side: Side,
    },
    ImportReference,
    ManageUsers,
    ReadAudit,
    /// Run capacity-planning simulations (planners: any officer, and admins).
    RunSimulation,
    /// File, amend, cancel a declaration or book its slot, as the declarant `enterprise`.
    Declare {
        enterprise: &'a str,
    },
    /// Read a declaration filed by `enterprise` for `gate_pair`.
    ReadDeclaration {
        enterprise: &'a str,
        gate_pair: &'a GatePairId,
    },
    /// Accept or reject a declaration: customs of the exit side, for that gate pair.
    DecideDeclaration {
        gate_pair: &'a GatePairId,
        side: Side,
    },
    /// Run one side's yard: check trucks in, dispatch calls to lanes, record infrastructure
    /// fees (that side's gate board or border guard at the pair).
    OperateGate {
        gate_pair: &'a GatePairId,
        side: Side,
    },
    /// Start or finish a clearance step of `agency` on `side` at the pair.
    ActOnStep {
        gate_pair: &'a GatePairId,
        side: Side,
        agency: Agency,
    },
    /// See a gate pair's queue with full plates and declarations (any officer in scope).
    ReadGateDetail {
        gate_pair: &'a GatePairId,
    },
    /// Read dwell-time reports (officers and admins).
    ReadReports,
}

/// Does any of `roles` allow `action`?
pub fn allows(roles: &[Role], action: Action<'_>) -> bool {
    match action {
        Action::ReadReference => true,
        Action::EditGate { gate_pair, side } | Action::EditLane { gate_pair, side } => {
            roles.iter().any(|r| *r == Role::Admin || r.covers_gate(Agency::GateBoard, gate_pair, side))
        }
        Action::ImportReference | Action::ManageUsers => roles.contains(&Role::Admin),
        Action::Declare { enterprise } => roles.iter().any(|r| matches!(r, Role::Enterprise { code } if code == enterprise)),
        Action::ReadDeclaration { enterprise, gate_pair } => roles.iter().any(|r| match r {
            Role::Admin => true,
            Role::Enterprise { code } => code == enterprise,
            Role::Officer { gate_pair: scope, .. } => scope.as_ref().is_none_or(|g| g == gate_pair),
            _ => false,
        }),
        Action::DecideDeclaration { gate_pair, side } => roles.iter().any(|r| r.covers_gate(Agency::Customs, gate_pair, side)),
        Action::OperateGate { gate_pair, side } => roles.iter().any(|r| {
            *r == Role::Admin || r.covers_gate(Agency::GateBoard, gate_pair, side) || r.covers_gate(Agency::BorderGuard, gate_pair, side)
        }),
        Action::ActOnStep { gate_pair, side, agency } => roles.iter().any(|r| r.covers_gate(agency, gate_pair, side)),
        Action::ReadGateDetail { gate_pair } => roles.iter().any(|r| match r {
            Role::Admin => true,
            Role::Officer { gate_pair: scope, .. } => scope.as_ref().is_none_or(|g| g == gate_pair),
            _ => false,
        }),
        Action::ReadReports => roles.iter().any(|r| matches!(r, Role::Admin | Role::Officer { .. })),
        Action::RunSimulation => roles.iter().any(|r| matches!(r, Role::Admin | Role::Officer { .. })),
        Action::ReadAudit => roles.iter().any(|r| matches!(r, Role::Admin | Role::Officer { agency: Agency::GateBoard, .. })),
    }
}

/// Which declarations a caller may read, in a form a query can filter on (so that a list applies
/// the caller's scope before it pages, never after). Agrees with
/// `allows(roles, Action::ReadDeclaration { .. })` for every declaration (tested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    All,
    /// Declarations of any of these enterprises, or at any of these gate pairs.
    Only {
        enterprises: Vec<String>,
        gate_pairs: Vec<GatePairId>,
    },
}

impl ReadScope {
    pub fn contains(&self, enterprise: &str, gate_pair: &GatePairId) -> bool {
        match self {
            ReadScope::All => true,
            ReadScope::Only { enterprises, gate_pairs } => enterprises.iter().any(|e| e == enterprise) || gate_pairs.contains(gate_pair),
        }
    }
}

/// The declarations `roles` may read.
pub fn declaration_scope(roles: &[Role]) -> ReadScope {
    let mut enterprises = Vec::new();
    let mut gate_pairs = Vec::new();
    for r in roles {
        match r {
            Role::Admin | Role::Officer { gate_pair: None, .. } => return ReadScope::All,
            Role::Officer { gate_pair: Some(g), .. } => gate_pairs.push(g.clone()),
            Role::Enterprise { code } => enterprises.push(code.clone()),
            Role::Driver | Role::Public => {}
        }
    }
    ReadScope::Only { enterprises, gate_pairs }
}

/// Which audit entries `roles` may read (`ReadAudit`): every entry, only entries about some gate
/// pair (`AnyPair`, a national gate board), or entries about these gate pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    Everything,
    AnyPair,
    Pairs(Vec<GatePairId>),
}

/// The audit entries `roles` may read: administrators all of them; gate boards those about their
/// gate pairs (users, sessions and settings concern no gate pair); nobody else any.
pub fn audit_scope(roles: &[Role]) -> AuditScope {
    let mut pairs = Vec::new();
    for r in roles {
        match r {
            Role::Admin => return AuditScope::Everything,
            Role::Officer { agency: Agency::GateBoard, gate_pair: None, .. } => return AuditScope::AnyPair,
            Role::Officer { agency: Agency::GateBoard, gate_pair: Some(g), .. } => pairs.push(g.clone()),
            _ => {}
        }
    }
    AuditScope::Pairs(pairs)
}

/// The gate pairs whose live trips `roles` may read (`ReadGateDetail`); `None` is every pair.
pub fn gate_detail_scope(roles: &[Role]) -> Option<Vec<GatePairId>> {
    let mut pairs = Vec::new();
    for r in roles {
        match r {
            Role::Admin | Role::Officer { gate_pair: None, .. } => return None,
            Role::Officer { gate_pair: Some(g), .. } => pairs.push(g.clone()),
            _ => {}
        }
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for s in ["admin", "driver", "public", "enterprise:0101234567", "officer:VN:gate-board:huu-nghi", "officer:CN:customs:*"] {
            assert_eq!(Role::parse(s).unwrap().code(), s);
        }
        for s in ["root", "officer:XX:customs:*", "officer:VN:police:*", "enterprise:", "officer:VN:customs:Huu Nghi"] {
            assert!(Role::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn a_gate_board_edits_only_its_own_side_and_pair() {
        let hn = GatePairId::parse("huu-nghi").unwrap();
        let mc = GatePairId::parse("mong-cai-bac-luan-2").unwrap();
        let board = [Role::parse("officer:VN:gate-board:huu-nghi").unwrap()];
        assert!(allows(&board, Action::EditLane { gate_pair: &hn, side: Side::Vn }));
        assert!(!allows(&board, Action::EditLane { gate_pair: &hn, side: Side::Cn }));
        assert!(!allows(&board, Action::EditLane { gate_pair: &mc, side: Side::Vn }));
        let customs = [Role::parse("officer:VN:customs:*").unwrap()];
        assert!(!allows(&customs, Action::EditLane { gate_pair: &hn, side: Side::Vn }));
        assert!(allows(&[Role::Admin], Action::EditGate { gate_pair: &mc, side: Side::Cn }));
        assert!(!allows(&board, Action::ManageUsers));
        assert!(allows(&board, Action::ReadAudit));
        assert!(allows(&[], Action::ReadReference));
        let firm = [Role::parse("enterprise:0101234567").unwrap()];
        assert!(allows(&firm, Action::Declare { enterprise: "0101234567" }));
        assert!(!allows(&firm, Action::Declare { enterprise: "0109999999" }), "an enterprise acts only for itself");
        assert!(!allows(&[Role::Admin], Action::Declare { enterprise: "0101234567" }), "declaring is the declarant's own act");
        assert!(allows(&firm, Action::ReadDeclaration { enterprise: "0101234567", gate_pair: &hn }));
        assert!(!allows(&firm, Action::ReadDeclaration { enterprise: "0109999999", gate_pair: &hn }));
        let cn_customs = [Role::parse("officer:CN:customs:*").unwrap()];
        assert!(allows(&cn_customs, Action::DecideDeclaration { gate_pair: &hn, side: Side::Cn }));
        assert!(
            !allows(&cn_customs, Action::DecideDeclaration { gate_pair: &hn, side: Side::Vn }),
            "a Chinese customs officer cannot decide a Vietnamese step"
        );
        let guard = [Role::parse("officer:VN:border-guard:huu-nghi").unwrap()];
        assert!(allows(&guard, Action::OperateGate { gate_pair: &hn, side: Side::Vn }));
        assert!(!allows(&guard, Action::OperateGate { gate_pair: &hn, side: Side::Cn }));
        assert!(!allows(&customs, Action::OperateGate { gate_pair: &hn, side: Side::Vn }));
        assert!(allows(&customs, Action::ActOnStep { gate_pair: &hn, side: Side::Vn, agency: Agency::Customs }));
        assert!(!allows(&cn_customs, Action::ActOnStep { gate_pair: &hn, side: Side::Vn, agency: Agency::Customs }));
        assert!(
            !allows(&[Role::Admin], Action::ActOnStep { gate_pair: &hn, side: Side::Vn, agency: Agency::Customs }),
            "clearing is an officer's act"
        );
        assert!(allows(&guard, Action::ReadGateDetail { gate_pair: &hn }) && !allows(&guard, Action::ReadGateDetail { gate_pair: &mc }));
        assert!(!allows(&firm, Action::ReadReports) && allows(&guard, Action::ReadReports));
    }

    #[test]
    fn read_scopes_agree_with_allows() {
        let pairs = [GatePairId::parse("huu-nghi").unwrap(), GatePairId::parse("lao-cai").unwrap()];
        let role_sets: Vec<Vec<Role>> = [
            vec!["admin"],
            vec!["officer:VN:customs:*"],
            vec!["officer:CN:quarantine:huu-nghi"],
            vec!["officer:CN:quarantine:huu-nghi", "enterprise:0101234567"],
            vec!["enterprise:0101234567"],
            vec!["driver"],
            vec![],
        ]
        .iter()
        .map(|rs| rs.iter().map(|r| Role::parse(r).unwrap()).collect())
        .collect();
        for roles in &role_sets {
            let scope = declaration_scope(roles);
            let detail = gate_detail_scope(roles);
            for pair in &pairs {
                for firm in ["0101234567", "0109999999"] {
                    let want = allows(roles, Action::ReadDeclaration { enterprise: firm, gate_pair: pair });
                    assert_eq!(scope.contains(firm, pair), want, "{roles:?} {firm} {pair:?}");
                }
                let want = allows(roles, Action::ReadGateDetail { gate_pair: pair });
                assert_eq!(detail.as_ref().is_none_or(|d| d.contains(pair)), want, "{roles:?} {pair:?}");
            }
        }
    }
}
