//! Conformance stories of the gate context: booked slots (also concurrent), suspensions and
//! trips from the queue to the crossing.

use super::*;

pub async fn slots_are_booked_within_capacity_and_limits(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let cap = HourCapacity { general: 1, reserved: 1, perishable: 0, agv: 0 };
    let a = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let b = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let c = accepted_declaration(s, "0101234567", "12C-333.33").await;
    let booked = match s.book_slot(request(a, cap, 10), actor("firm")).await.unwrap() {
        BookingOutcome::Booked(x) => x,
        other => panic!("{other:?}"),
    };
    assert_eq!(booked.bucket, Bucket::Reserved, "a perishable takes the perishables' share first");
    assert!(matches!(s.book_slot(request(a, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::AlreadyBooked(_)));
    assert!(
        matches!(s.book_slot(request(b, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Booked(ref x) if x.bucket == Bucket::General)
    );
    assert_eq!(s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Full);
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| (u.capacity, u.used)).collect::<Vec<_>>(), vec![(1, 1), (1, 1)]);
    // Cancelling gives the slot back; a full refusal left the daily count alone.
    s.cancel_booking(booked.id, actor("firm")).await.unwrap();
    assert!(matches!(s.cancel_booking(booked.id, actor("firm")).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::Booked(_)));
    // The daily limit: this enterprise now holds 2 live bookings and has made 3 today.
    let d = accepted_declaration(s, "0101234567", "12C-444.44").await;
    assert_eq!(
        s.book_slot(request(d, HourCapacity { general: 9, ..cap }, 2), actor("firm")).await.unwrap(),
        BookingOutcome::DailyLimitReached
    );
    // A declaration that is not accepted cannot book; cancelling a declaration frees its slot.
    let draft = s.create_declaration(new_declaration("0101234567", "12C-555.55"), actor("firm")).await.unwrap();
    assert!(matches!(s.book_slot(request(draft.id, cap, 10), actor("firm")).await.unwrap(), BookingOutcome::NotBookable { .. }));
    s.declaration_event(c, DeclEvent::Cancel, actor("firm")).await.unwrap();
    assert_eq!(s.live_booking(c).await.unwrap(), None);
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), 1, "only b's booking is live");
    // Expired declarations cannot book (validity 72 h from T0).
    let late = Actor { name: "firm", at: T0.plus_seconds(73 * 3600) };
    assert!(matches!(
        s.book_slot(request(d, HourCapacity { general: 9, ..cap }, 10), late).await.unwrap(),
        BookingOutcome::NotBookable { .. }
    ));
    assert!(s.verify_audit().await.unwrap().is_ok());
}

/// An hour's capacity is the one the booking is made under, not the one of its first booking:
/// a lane added later makes room, a lane closed later leaves the bookings made and takes no more
/// until they fall below it.
pub async fn an_hours_capacity_follows_its_lanes(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let general = |n| HourCapacity { general: n, reserved: 0, perishable: 0, agv: 0 };
    let mut decl = Vec::new();
    for (enterprise, plate) in [("0101234567", "12C-111.11"), ("0101234568", "12C-222.22"), ("0101234569", "12C-333.33")] {
        decl.push(accepted_declaration(s, enterprise, plate).await);
    }
    let (a, b, c) = (decl[0], decl[1], decl[2]);
    let usage =
        || async { s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap() };
    let booked = |o: BookingOutcome| match o {
        BookingOutcome::Booked(x) => x,
        other => panic!("{other:?}"),
    };
    let first = booked(s.book_slot(request(a, general(1), 10), actor("firm")).await.unwrap());
    assert_eq!(s.book_slot(request(b, general(1), 10), actor("firm")).await.unwrap(), BookingOutcome::Full);
    // A second lane opens for the hour: its room is booked.
    let second = booked(s.book_slot(request(b, general(2), 10), actor("firm")).await.unwrap());
    assert_eq!(usage().await.iter().map(|u| (u.capacity, u.used)).collect::<Vec<_>>(), vec![(2, 2)]);
    // It closes again: both bookings stay, and nobody else gets in until they fall below one.
    assert_eq!(s.book_slot(request(c, general(1), 10), actor("firm")).await.unwrap(), BookingOutcome::Full);
    assert_eq!(usage().await.iter().map(|u| u.used).sum::<u32>(), 2, "a refused booking changes no counter");
    s.cancel_booking(first.id, actor("firm")).await.unwrap();
    assert_eq!(s.book_slot(request(c, general(1), 10), actor("firm")).await.unwrap(), BookingOutcome::Full, "one booked of one");
    s.cancel_booking(second.id, actor("firm")).await.unwrap();
    booked(s.book_slot(request(c, general(1), 10), actor("firm")).await.unwrap());
    assert_eq!(usage().await.iter().map(|u| (u.capacity, u.used)).collect::<Vec<_>>(), vec![(1, 1)]);
    assert!(s.verify_audit().await.unwrap().is_ok());
}

/// Concurrency, part 1: `n` accepted declarations of different enterprises, and an hour with
/// room for `cap` of them. The backend's test books them all at once, then calls part 2.
pub async fn concurrent_booking_setup(s: &dyn Store, n: usize) -> Vec<DeclarationId> {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let code = format!("01{:08}", i);
        ids.push(accepted_declaration(s, &code, &format!("12C-{:03}.{:02}", i, i % 100)).await);
    }
    ids
}

pub fn concurrent_request(id: DeclarationId, cap: u32) -> BookingRequest<'static> {
    request(id, HourCapacity { general: cap, reserved: 0, perishable: 0, agv: 0 }, 10)
}

/// The book/cancel race, part 1: `n` accepted declarations of ONE forwarding agent (so every
/// booking and cancellation touches the same daily counter and the same slot counter).
pub async fn one_agent_setup(s: &dyn Store, n: usize) -> Vec<DeclarationId> {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(accepted_declaration(s, "0101234567", &format!("12C-{:03}.{:02}", i, i % 100)).await);
    }
    ids
}

/// The book/cancel race, part 2: one declaration's rounds of booking and cancelling, run by many
/// tasks at once; every call must succeed (a deadlock or serialization failure is retried).
pub async fn book_and_cancel(s: &dyn Store, id: DeclarationId, rounds: usize) {
    let req = || request(id, HourCapacity { general: 1000, reserved: 0, perishable: 0, agv: 0 }, 1000);
    for _ in 0..rounds {
        let b = match s.book_slot(req(), actor("agent")).await.unwrap() {
            BookingOutcome::Booked(b) => b,
            other => panic!("{other:?}"),
        };
        s.cancel_booking(b.id, actor("agent")).await.unwrap();
    }
    assert!(matches!(s.book_slot(req(), actor("agent")).await.unwrap(), BookingOutcome::Booked(_)));
}

/// The book/cancel race, part 3: the counters equal the live bookings, and the chain is whole.
pub async fn book_and_cancel_check(s: &dyn Store, n: usize) {
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), n as u32, "one live booking each");
    // The daily counter agrees: exactly `limit - n` more bookings fit.
    let more = accepted_declaration(s, "0101234567", "12C-999.99").await;
    let limited = request(more, HourCapacity { general: 1000, reserved: 0, perishable: 0, agv: 0 }, n as u32);
    assert_eq!(s.book_slot(limited, actor("agent")).await.unwrap(), BookingOutcome::DailyLimitReached);
    assert!(s.verify_audit().await.unwrap().is_ok());
}

/// Concurrency, part 2: exactly `cap` bookings, each slot once, counters agree.
pub async fn concurrent_booking_check(s: &dyn Store, outcomes: Vec<BookingOutcome>, cap: u32) {
    let booked: Vec<_> =
        outcomes.iter().filter_map(|o| if let BookingOutcome::Booked(b) = o { Some(b.declaration_id) } else { None }).collect();
    let full = outcomes.iter().filter(|o| **o == BookingOutcome::Full).count();
    assert_eq!(booked.len(), cap as usize, "exactly the capacity is booked");
    assert_eq!(full, outcomes.len() - cap as usize, "everyone else is refused cleanly");
    let mut unique = booked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), booked.len(), "no declaration booked twice");
    let usage = s.slot_usage(&GatePairId::parse("huu-nghi").unwrap(), Direction::Export, HOUR, HOUR.plus_seconds(3600)).await.unwrap();
    assert_eq!(usage.iter().map(|u| u.used).sum::<u32>(), cap);
    assert!(s.verify_audit().await.unwrap().is_ok(), "the audit chain stays one chain under concurrency");
}

pub async fn suspensions_are_kept_per_side(s: &dyn Store) {
    use cuakhau_core::goods::slots::Suspension;
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let tet =
        Suspension { side: Side::Cn, from: HOUR, until: HOUR.plus_seconds(48 * 3600), preregistered_only: true, reason: "Tết".into() };
    let id = s.add_suspension(&hn, &tet, actor("cn-board")).await.unwrap();
    let found = s.suspensions(&hn, HOUR.plus_seconds(3600), HOUR.plus_seconds(7200)).await.unwrap();
    assert_eq!(found, vec![(id, tet.clone())]);
    assert!(s.suspensions(&hn, HOUR.plus_seconds(48 * 3600), HOUR.plus_seconds(50 * 3600)).await.unwrap().is_empty(), "until is exclusive");
    assert!(matches!(s.add_suspension(&GatePairId::parse("nowhere").unwrap(), &tet, actor("x")).await, Err(StoreError::NotFound(_))));
    assert_eq!(audit_len(s).await, 8);
}

pub fn new_trip(declaration_id: DeclarationId, status: TripStatus, yard_capacity: u32) -> NewTrip {
    NewTrip {
        declaration_id,
        status,
        class: LaneClass::Perishable,
        commodity: "08".into(),
        slot: None,
        spoils_at: Some(T0.plus_seconds(48 * 3600)),
        trip: Trip::new(Direction::Export, Channel::Yellow, true),
        channel_reason: "fresh fruit".into(),
        yard_capacity,
    }
}

pub async fn trips_go_from_queue_to_crossing(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let at = |secs: i64, name: &'static str| Actor { name, at: T0.plus_seconds(secs) };
    let a = accepted_declaration(s, "0101234567", "12C-111.11").await;
    let b = accepted_declaration(s, "0101234567", "12C-222.22").await;
    let c = accepted_declaration(s, "0101234567", "12C-333.33").await;
    let hn = GatePairId::parse("huu-nghi").unwrap();
    let found = s.declaration_for_plate(&hn, "12C11111", T0).await.unwrap().map(|d| d.id);
    assert_eq!(found, Some(a), "the camera's read finds the declaration");
    assert_eq!(s.declaration_for_plate(&hn, "12C11111", T0.plus_seconds(73 * 3600)).await.unwrap(), None, "not once it lapsed");
    // a joins the virtual queue from the road, then reaches the yard and keeps its trip.
    let ta = s.join_queue(new_trip(a, TripStatus::Virtual, 1), at(0, "firm")).await.unwrap();
    assert_eq!((ta.status, ta.yard_at), (TripStatus::Virtual, None));
    let ta2 = s.join_queue(new_trip(a, TripStatus::Yard, 1), at(60, "guard")).await.unwrap();
    assert_eq!((ta2.id, ta2.status, ta2.yard_at), (ta.id, TripStatus::Yard, Some(T0.plus_seconds(60))));
    assert!(
        matches!(s.join_queue(new_trip(a, TripStatus::Yard, 9), at(61, "guard")).await, Err(StoreError::Conflict(_))),
        "one trip per declaration"
    );
    // The yard holds one truck.
    let full = s.join_queue(new_trip(b, TripStatus::Yard, 1), at(62, "guard")).await.unwrap_err();
    assert!(matches!(full, StoreError::Conflict(crate::ConflictKind::YardFull { .. })), "{full:?}");
    let tb = s.join_queue(new_trip(b, TripStatus::Virtual, 1), at(63, "firm")).await.unwrap();
    let tb = s
        .report_position(tb.id, Position { lat: 21.8, lon: 106.7, at: T0.plus_seconds(70) }, Some(T0.plus_seconds(600)), at(70, "driver"))
        .await
        .unwrap();
    assert_eq!((tb.eta, tb.position.map(|p| p.lat)), (Some(T0.plus_seconds(600)), Some(21.8)));
    assert_eq!(s.declaration_for_plate(&hn, "12C11111", T0).await.unwrap(), None, "in the yard already");
    let waiting = s.trips(TripQuery { statuses: &[TripStatus::Yard, TripStatus::Virtual], ..Default::default() }).await.unwrap();
    assert_eq!(waiting.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ta.id, tb.id]);

    // A call to a closed lane (a round that read it open before its board closed it) is not made.
    let lane = LaneId::parse("huu-nghi-vn-export-1").unwrap();
    let call = |id: TripId, lane: &LaneId| Call { truck: TruckId::from(id), lane: lane.clone(), deadline: T0.plus_seconds(1000) };
    let mut closed = s.lane(&lane).await.unwrap().expect("fixture lane");
    closed.active = false;
    s.put_lane(&closed, at(90, "board")).await.unwrap();
    assert!(s.call_trips(&[call(ta.id, &lane)], at(95, "dispatch")).await.unwrap().is_empty(), "nobody called to a closed lane");
    closed.active = true;
    s.put_lane(&closed, at(99, "board")).await.unwrap();
    // Two calls for one lane: only the first gets it.
    let called = s.call_trips(&[call(ta.id, &lane), call(tb.id, &lane)], at(100, "dispatch")).await.unwrap();
    assert_eq!(called.iter().map(|t| (t.id, t.status)).collect::<Vec<_>>(), vec![(ta.id, TripStatus::Called)]);
    assert_eq!(called[0].lane.as_deref(), Some("huu-nghi-vn-export-1"));
    let due = s.due_notifications(T0.plus_seconds(100), 10).await.unwrap();
    assert_eq!((due.len(), due[0].kind.as_str(), due[0].trip_id), (1, "your-turn", ta.id));
    assert!(due[0].payload.contains("huu-nghi-vn-export-1"));
    s.notification_attempt(due[0].id, false, Some("gateway down"), T0.plus_seconds(160), T0.plus_seconds(100)).await.unwrap();
    assert!(s.due_notifications(T0.plus_seconds(150), 10).await.unwrap().is_empty(), "retried later");
    s.notification_attempt(due[0].id, true, None, T0.plus_seconds(160), T0.plus_seconds(160)).await.unwrap();
    assert!(s.due_notifications(T0.plus_seconds(10_000), 10).await.unwrap().is_empty());

    // b is called to a second lane, does not answer, and goes back to the virtual queue.
    let lane2 = LaneId::parse("huu-nghi-vn-export-2").unwrap();
    assert_eq!(s.call_trips(&[call(tb.id, &lane2)], at(110, "dispatch")).await.unwrap().len(), 1);
    assert_eq!(s.requeue_unanswered(&hn, T0.plus_seconds(999), at(999, "dispatch")).await.unwrap(), Vec::<TripId>::new());
    let back = s.requeue_unanswered(&hn, T0.plus_seconds(1000), at(1000, "dispatch")).await.unwrap();
    assert_eq!(back, vec![ta.id, tb.id], "both calls ran out");
    let tb = s.trip(tb.id).await.unwrap().unwrap();
    assert_eq!((tb.status, tb.lane.as_deref(), tb.calls), (TripStatus::Virtual, None, 1));
    assert_eq!(s.trip(ta.id).await.unwrap().unwrap().status, TripStatus::Yard);

    // a is called again and cleared step by step; the wrong officer and a closed side are refused.
    s.call_trips(&[call(ta.id, &lane)], at(1100, "dispatch")).await.unwrap();
    let vn = |a: Agency| (Side::Vn, a);
    let cn = |a: Agency| (Side::Cn, a);
    assert_eq!(
        s.trip_step(ta.id, 0, cn(Agency::Customs), Act::Start, true, at(1200, "x")).await.unwrap(),
        Err(ClearanceError::NotYourStep)
    );
    assert_eq!(
        s.trip_step(ta.id, 0, vn(Agency::Customs), Act::Start, false, at(1200, "x")).await.unwrap(),
        Err(ClearanceError::SideClosed)
    );
    let steps: Vec<((Side, Agency), usize)> = vec![
        (vn(Agency::Customs), 0),
        (vn(Agency::BorderGuard), 1),
        (vn(Agency::Quarantine), 2),
        (vn(Agency::BorderGuard), 3),
        (cn(Agency::Customs), 4),
        (cn(Agency::BorderGuard), 5),
    ];
    let mut t = 1200;
    for (officer, i) in steps {
        let r = s.trip_step(ta.id, i, officer, Act::Start, true, at(t, "officer")).await.unwrap().unwrap();
        assert_eq!(r.status, TripStatus::Clearing);
        if i == 1 {
            let held =
                s.trip_step(ta.id, i, officer, Act::Finish(Outcome::Hold { reason: "seal check".into() }), true, at(t + 30, "officer"));
            assert_eq!(held.await.unwrap().unwrap().trip.steps()[1].1.code(), "held");
        }
        let r = s.trip_step(ta.id, i, officer, Act::Finish(Outcome::Pass), true, at(t + 60, "officer")).await.unwrap().unwrap();
        if i == 2 {
            assert_eq!(r.trip.exit_release(), Some(T0.plus_seconds(t + 60)));
            // The lane is free for the next truck once the exit side released this one.
            assert_eq!(s.call_trips(&[call(tb.id, &lane)], at(t + 61, "dispatch")).await.unwrap().len(), 1);
        }
        t += 100;
    }
    let done = s.trip(ta.id).await.unwrap().unwrap();
    assert_eq!(done.status, TripStatus::Done);
    let m = done.milestones();
    assert_eq!(
        (m.arrival, m.called, m.entry_release),
        (Some(T0.plus_seconds(60)), Some(T0.plus_seconds(1100)), Some(T0.plus_seconds(1760)))
    );

    // b: refused by Vietnamese customs; the lane is free again and the driver is told.
    s.trip_step(tb.id, 0, vn(Agency::Customs), Act::Start, true, at(2000, "officer")).await.unwrap().unwrap();
    let r = s.trip_step(
        tb.id,
        0,
        vn(Agency::Customs),
        Act::Finish(Outcome::Refuse { reason: "HS code mismatch".into() }),
        true,
        at(2100, "officer"),
    );
    assert_eq!(r.await.unwrap().unwrap().status, TripStatus::Refused);
    let due = s.due_notifications(T0.plus_seconds(2100), 10).await.unwrap();
    let told = due.iter().find(|n| n.kind == "refused" && n.trip_id == tb.id).expect("the driver is told");
    // In the driver's page's words: who refused, why, and what to do; in the driver's language and all three.
    let words: serde_json::Value = serde_json::from_str(&told.payload).unwrap();
    assert_eq!(
        words["texts"]["en"],
        "Truck refused by Vietnamese customs: HS code mismatch The truck may not cross. Leave the lane as the officers direct and contact the declaring firm."
    );
    assert!(words["texts"]["zh"].as_str().unwrap().starts_with("车辆被越方海关拒绝通关：HS code mismatch"), "{words}");
    let lang = words["language"].as_str().unwrap();
    assert_eq!(words["text"], words["texts"][lang], "{words}");

    // Fees: one receipt, once.
    let fee = Fee { amount: 1_200_000.0, currency: "VND".into(), receipt: "LS-2026-000123".into() };
    assert_eq!(s.record_fee(ta.id, &fee, at(2200, "board")).await.unwrap().fee, Some(fee.clone()));
    assert!(matches!(s.record_fee(tb.id, &fee, at(2201, "board")).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.record_fee(ta.id, &Fee { receipt: "other".into(), ..fee }, at(2202, "board")).await, Err(StoreError::Conflict(_))));

    // A booked truck that never reaches the yard loses its slot after the grace period.
    let cap = HourCapacity { general: 5, reserved: 5, perishable: 0, agv: 0 };
    let booked = match s.book_slot(request(c, cap, 10), actor("firm")).await.unwrap() {
        BookingOutcome::Booked(x) => x,
        other => panic!("{other:?}"),
    };
    assert!(s.release_no_shows(&hn, HOUR, at(0, "dispatch")).await.unwrap().is_empty(), "its hour has not started");
    let elsewhere = GatePairId::parse("mong-cai").unwrap();
    assert!(s.release_no_shows(&elsewhere, HOUR.plus_seconds(1), at(0, "dispatch")).await.unwrap().is_empty(), "another gate pair's round");
    let released = s.release_no_shows(&hn, HOUR.plus_seconds(1), at(0, "dispatch")).await.unwrap();
    assert_eq!(released.iter().map(|b| (b.id, b.status.code())).collect::<Vec<_>>(), vec![(booked.id, "no-show")]);
    assert_eq!(s.live_booking(c).await.unwrap(), None);

    assert_eq!(s.setting("demo").await.unwrap(), None);
    s.put_setting("demo", "true", actor("demo")).await.unwrap();
    assert_eq!(s.setting("demo").await.unwrap().as_deref(), Some("true"));
    assert!(s.verify_audit().await.unwrap().is_ok());
}
