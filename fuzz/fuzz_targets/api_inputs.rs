//! Fuzzes what users type: every field parser of the goods flow (plates, enterprise codes, HS
//! codes, drivers, roles, gate pair ids, times, free text) and the API's request bodies as JSON.
//! Each gives a value or a field error, never a panic; an accepted value parses again to itself.
#![no_main]

use cuakhau_core::goods::parties::{Driver, EnterpriseCode, HsCode, Plate};
use cuakhau_core::{GatePairId, Role, Side};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for side in [Side::Vn, Side::Cn] {
        if let Ok(p) = Plate::parse(text, side) {
            assert_eq!(Plate::parse(&p.display, side).map(|q| q.key).ok().as_deref(), Some(p.key.as_str()));
        }
    }
    let _ = Plate::key_of(text);
    if let Ok(code) = EnterpriseCode::parse(text) {
        assert!(EnterpriseCode::parse(code.as_str()).is_ok());
    }
    if let Ok(hs) = HsCode::parse(text) {
        let _ = (hs.chapter(), hs.needs_quarantine(), hs.group());
    }
    let mut parts = text.splitn(3, '\u{1f}');
    let (a, b, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let _ = Driver::parse(a, b, c);
    if let Ok(role) = Role::parse(text) {
        assert_eq!(Role::parse(&role.code()).ok(), Some(role));
    }
    if let Ok(id) = GatePairId::parse(text) {
        assert!(GatePairId::parse(id.as_str()).is_ok());
    }
    let _ = cuakhau_core::time::parse_rfc3339(text);
    let _ = cuakhau_core::validate::text("f", text, 200);
    let _ = serde_json::from_str::<cuakhau_api::DeclarationIn>(text);
    let _ = serde_json::from_str::<cuakhau_api::AmendIn>(text);
    let _ = serde_json::from_str::<cuakhau_api::BookingIn>(text);
    let _ = serde_json::from_str::<cuakhau_api::SuspensionIn>(text);
    let _ = serde_json::from_str::<cuakhau_api::FinishIn>(text);
    let _ = serde_json::from_str::<cuakhau_api::PositionIn>(text);
});
