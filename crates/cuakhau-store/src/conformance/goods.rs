//! Conformance stories of the goods context: declarations, their rules, lists and freezing.

use super::*;

pub const HOUR: Timestamp = Timestamp(1_795_402_800_000_000);

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
            currency: "USD",
            origin: "VN",
            shelf_life_h: Some(96),
            certificate: "VN-PC-2026-001234",
        },
    )
    .unwrap()
}

/// Goods without quarantine (phones), for benchmarks that book general capacity.
pub fn durian_free() -> Consignment {
    Consignment::parse(
        0,
        &ConsignmentFields {
            hs_code: "85171300",
            description_vi: "Điện thoại",
            description_zh: "",
            packages: 10,
            gross_kg: 500.0,
            value: 10_000.0,
            currency: "USD",
            origin: "VN",
            shelf_life_h: None,
            certificate: "",
        },
    )
    .unwrap()
}

pub fn new_declaration(enterprise: &str, plate: &str) -> NewDeclaration {
    NewDeclaration {
        enterprise: EnterpriseCode::parse(enterprise).unwrap(),
        gate_pair: GatePairId::parse("huu-nghi").unwrap(),
        direction: Direction::Export,
        plate: Plate::parse(plate, Side::Vn).unwrap(),
        vehicle_kind: VehicleKind::Refrigerated,
        driver: Some(Driver::parse("Nguyễn Văn Tài", "VN", "B1234567").unwrap()),
        consignments: vec![durian()],
        track_code: format!("code-{}", Plate::key_of(plate)),
    }
}

/// A declaration filed, submitted and accepted (valid for 72 h from T0).
pub async fn accepted_declaration(s: &dyn Store, enterprise: &str, plate: &str) -> DeclarationId {
    let d = s.create_declaration(new_declaration(enterprise, plate), actor("firm")).await.unwrap();
    s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    s.declaration_event(d.id, DeclEvent::Accept { at: T0, validity_h: 72 }, actor("customs")).await.unwrap();
    d.id
}

pub fn request(id: DeclarationId, capacity: HourCapacity, limit: u32) -> BookingRequest<'static> {
    BookingRequest {
        declaration_id: id,
        hour: HOUR,
        capacity,
        candidates: Bucket::candidates(true, false),
        day: "2026-11-23".into(),
        per_day_limit: limit,
        gate_pair: Some(GatePairId::parse("huu-nghi").unwrap()),
    }
}

pub async fn declarations_follow_the_core_rules(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let d = s.create_declaration(new_declaration("0101234567", "12C-123.45"), actor("firm")).await.unwrap();
    assert_eq!((d.declaration.state.code(), d.declaration.version), ("draft", 1));
    assert_eq!(d.declaration.consignments, vec![durian()]);
    assert_eq!(d.plate.key, "12C12345");
    assert_eq!(s.declaration(d.id).await.unwrap().unwrap(), d);
    s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    let err = s.declaration_event(d.id, DeclEvent::Submit, actor("firm")).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(ref r) if r.to_string().contains("cannot be submitted")), "{err:?}");
    let acc = s.declaration_event(d.id, DeclEvent::Accept { at: T0, validity_h: 72 }, actor("customs")).await.unwrap();
    assert!(acc.declaration.is_valid_at(T0.plus_seconds(3600)));
    let amended = s.declaration_event(d.id, DeclEvent::Amend { consignments: vec![durian(), durian()] }, actor("firm")).await.unwrap();
    assert_eq!(
        (amended.declaration.state.code(), amended.declaration.version, amended.declaration.consignments.len()),
        ("submitted", 2, 2)
    );
    let rejected =
        s.declaration_event(d.id, DeclEvent::Reject { reasons: vec!["certificate expired".into()] }, actor("customs")).await.unwrap();
    assert_eq!(rejected.declaration.state, cuakhau_core::goods::DeclState::Rejected { reasons: vec!["certificate expired".into()] });
    let other = s.create_declaration(new_declaration("91350100M000100Y43", "桂A12345"), actor("firm2")).await.unwrap();
    let firm = ReadScope::Only { enterprises: vec!["0101234567".into()], gate_pairs: vec![] };
    assert_eq!(s.declarations(query(&firm, &[], 10)).await.unwrap().len(), 1, "an enterprise sees only its own");
    assert_eq!(s.declarations(query(&ReadScope::All, &[], 10)).await.unwrap()[0].id, other.id, "newest first");
    let mut bad = new_declaration("0101234567", "12C-123.45");
    bad.gate_pair = GatePairId::parse("nowhere").unwrap();
    assert!(matches!(s.create_declaration(bad, actor("firm")).await, Err(StoreError::NotFound(_))));
    // 7 reference rows + create, submit, accept, amend, reject, create.
    assert_eq!(audit_len(s).await, 13);
}

pub fn query<'a>(scope: &'a ReadScope, states: &'a [cuakhau_core::goods::StateKind], limit: u32) -> DeclarationQuery<'a> {
    DeclarationQuery { scope, states, gate_pair: None, direction: None, before: None, limit }
}

/// A list applies the reader's scope and filters before it pages: a submitted declaration at one
/// gate pair is never pushed off an officer's page by hundreds of drafts elsewhere, and paging by
/// cursor visits every row once.
pub async fn declaration_lists_filter_in_the_query_and_page_by_cursor(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mine = s.create_declaration(new_declaration("0101234567", "12C-123.45"), actor("firm")).await.unwrap();
    s.declaration_event(mine.id, DeclEvent::Submit, actor("firm")).await.unwrap();
    let lao_cai = GatePairId::parse("tan-thanh").unwrap();
    for i in 0..30 {
        let mut d = new_declaration("0109999999", &format!("24C-{:03}.{:02}", i, i));
        d.gate_pair = lao_cai.clone();
        s.create_declaration(d, actor("other")).await.unwrap();
    }
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let officer = ReadScope::Only { enterprises: vec![], gate_pairs: vec![hn.clone()] };
    let page = s.declarations(query(&officer, &[cuakhau_core::goods::StateKind::Submitted], 5)).await.unwrap();
    assert_eq!(page.iter().map(|d| d.id).collect::<Vec<_>>(), vec![mine.id], "the officer's scope is applied before the limit");
    assert!(s.declarations(query(&ReadScope::Only { enterprises: vec![], gate_pairs: vec![] }, &[], 5)).await.unwrap().is_empty());
    let exports = DeclarationQuery { direction: Some(Direction::Import), ..query(&ReadScope::All, &[], 100) };
    assert!(s.declarations(exports).await.unwrap().is_empty(), "direction filters in the query");
    let at_lao_cai =
        DeclarationQuery { gate_pair: Some(&lao_cai), ..query(&ReadScope::All, &[cuakhau_core::goods::StateKind::Draft], 100) };
    assert_eq!(s.declarations(at_lao_cai).await.unwrap().len(), 30);
    // Pages of 7 by cursor: every declaration once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s.declarations(DeclarationQuery { before, ..query(&ReadScope::All, &[], 7) }).await.unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page.iter().map(|d| d.id));
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!((seen.len(), seen), (31, sorted));
}

/// Once its truck is called, a declaration never changes; cancelling one still waiting in the
/// queue withdraws its truck. Refusals change nothing and write no audit entry.
pub async fn declarations_are_frozen_once_the_truck_is_called(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let waiting = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let called = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let tw = s.join_queue(new_trip(waiting, TripStatus::Yard, 10), actor("guard")).await.unwrap();
    let tc = s.join_queue(new_trip(called, TripStatus::Yard, 10), actor("guard")).await.unwrap();
    let lane = LaneId::parse("huu-nghi-vn-export-1").unwrap();
    let call = Call { truck: TruckId::from(tc.id), lane, deadline: T0.plus_seconds(900) };
    assert_eq!(s.call_trips(&[call], actor("dispatch")).await.unwrap().len(), 1);
    let before = audit_len(s).await;
    for event in [DeclEvent::Amend { consignments: vec![durian()] }, DeclEvent::Cancel] {
        let err = s.declaration_event(called, event, actor("firm")).await.unwrap_err();
        assert!(matches!(err, StoreError::Refused(cuakhau_core::goods::Refusal::TripLocked(_))), "{err:?}");
    }
    let err = s.declaration_event(waiting, DeclEvent::Amend { consignments: vec![durian()] }, actor("firm")).await.unwrap_err();
    assert!(matches!(err, StoreError::Refused(_)), "amending a queued truck's declaration: {err:?}");
    assert_eq!(audit_len(s).await, before, "refusals write nothing");
    let d = s.declaration(called).await.unwrap().unwrap();
    assert_eq!((d.declaration.state.code(), d.declaration.version), ("accepted", 1));
    assert_eq!(s.trip(tc.id).await.unwrap().unwrap().status, TripStatus::Called);
    // Cancelling the one still in the yard takes it out of the queue, in the same transaction.
    let c = s.declaration_event(waiting, DeclEvent::Cancel, actor("firm")).await.unwrap();
    assert_eq!(c.declaration.state.code(), "cancelled");
    assert_eq!(s.trip(tw.id).await.unwrap().unwrap().status, TripStatus::Withdrawn);
    assert_eq!(audit_len(s).await, before + 2, "the cancellation and the withdrawal");
    let waiting_now = s.trips(TripQuery { statuses: &[TripStatus::Yard, TripStatus::Virtual], ..Default::default() }).await.unwrap();
    assert!(waiting_now.is_empty());
}
