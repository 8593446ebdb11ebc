//! Conformance stories of the reference context: loads, lanes, gate hours.

use super::*;

pub async fn a_fresh_store_is_empty(s: &dyn Store) {
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.reference().await.unwrap(), ReferenceData::default());
    assert_eq!(audit_len(s).await, 0);
}

pub async fn loading_twice_changes_nothing(s: &dyn Store) {
    let data = fixture();
    let r1 = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r1.inserted, r1.updated, r1.unchanged), (7, 0, 0));
    assert!(!s.is_empty().await.unwrap());
    assert_eq!(s.reference().await.unwrap(), data);
    let entries = audit_len(s).await;
    assert_eq!(entries, 7);
    let r2 = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r2.inserted, r2.updated, r2.unchanged), (0, 0, 7));
    assert_eq!(audit_len(s).await, entries, "a second load writes no audit entry");
    assert_eq!(s.reference().await.unwrap(), data);
}

pub async fn a_load_that_breaks_integrity_writes_nothing(s: &dyn Store) {
    let mut data = fixture();
    data.lanes.push(Lane::parse("ghost-1", "no-such-pair", "VN", "export", "general", "x", "1", "true", "fixture").unwrap());
    let err = s.load_reference(&data, actor("loader")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(s.is_empty().await.unwrap());
    assert_eq!(audit_len(s).await, 0);
}

pub async fn a_changed_row_is_updated_with_before_and_after(s: &dyn Store) {
    let mut data = fixture();
    s.load_reference(&data, actor("loader")).await.unwrap();
    data.gate_pairs[1].designation = "auxiliary (cửa khẩu phụ)".into();
    let r = s.load_reference(&data, actor("loader")).await.unwrap();
    assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 6));
    let last = s.audit_page(7, 10).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].record.action, "reference.update");
    assert!(last[0].record.before.as_deref().unwrap().contains("\"designation\":\"international\""));
    assert!(last[0].record.after.as_deref().unwrap().contains("cửa khẩu phụ"));
}

pub async fn lanes_are_created_updated_and_audited(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let mut lane = s.lane(&cuakhau_core::LaneId::parse("huu-nghi-vn-export-1").unwrap()).await.unwrap().unwrap();
    lane.capacity_per_hour = 20;
    s.put_lane(&lane, actor("board")).await.unwrap();
    assert_eq!(s.lane(&lane.id).await.unwrap().unwrap().capacity_per_hour, 20);
    let e = s.audit_page(7, 10).await.unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].record.actor.as_str(), e[0].record.action.as_str()), ("board", "lane.update"));
    // Writing the same lane again is not a change.
    s.put_lane(&lane, actor("board")).await.unwrap();
    assert_eq!(audit_len(s).await, 8);
    let new = Lane::parse("tan-thanh-cn-import-1", "tan-thanh", "CN", "import", "agv", "AGV", "4", "true", "board").unwrap();
    s.put_lane(&new, actor("board")).await.unwrap();
    assert_eq!(s.reference().await.unwrap().lanes.len(), 3);
    let orphan = Lane::parse("x-1", "nowhere", "CN", "import", "agv", "AGV", "4", "true", "board").unwrap();
    assert!(matches!(s.put_lane(&orphan, actor("board")).await, Err(StoreError::NotFound(_))));
    assert_eq!(audit_len(s).await, 9);
}

pub async fn gate_hours_change_on_one_side_only(s: &dyn Store) {
    s.load_reference(&fixture(), actor("loader")).await.unwrap();
    let id = GatePairId::parse("tan-thanh").unwrap();
    let hours = OpeningHours::parse("cn_", "08:00", "22:00", "board decision").unwrap();
    let after = s.update_gate_hours(&id, Side::Cn, GateHoursChange { hours: hours.clone() }, actor("cn-board")).await.unwrap();
    assert_eq!(after.cn.hours, hours);
    assert_eq!(after.vn.hours, None);
    assert_eq!(s.gate_pair(&id).await.unwrap().unwrap(), after);
    let missing = GatePairId::parse("nowhere").unwrap();
    assert!(matches!(
        s.update_gate_hours(&missing, Side::Vn, GateHoursChange { hours: None }, actor("x")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(audit_len(s).await, 8);
}
