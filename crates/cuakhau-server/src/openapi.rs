//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes::{audit, gate, goods, reference, reports, session, simulations};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(Debug)]
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "cuakhau API", description = "Smart border gates on the Vietnam–China land border. Errors are RFC 9457 problem+json in the language of Accept-Language (vi, zh, en)."),
    paths(
        crate::routes::healthz, crate::routes::metrics,
        reference::list_gate_pairs, reference::get_gate_pair, reference::list_pair_lanes, reference::create_lane,
        reference::list_gates, reference::get_gate, reference::put_hours,
        reference::list_provinces, reference::get_province, reference::list_pairings,
        reference::list_lanes, reference::get_lane, reference::patch_lane, reference::import_table,
        session::login, session::logout, session::me, session::list_users, session::create_user, session::set_password, session::update_user,
        audit::list, audit::verify,
        simulations::start, simulations::status, simulations::plot, simulations::shipped,
        goods::create, goods::list, goods::show, goods::submit, goods::amend, goods::cancel, goods::accept, goods::reject,
        goods::slots, goods::book, goods::show_booking, goods::cancel_booking, goods::suspend, goods::list_suspensions,
        gate::yard_check_in, gate::dispatch, gate::queue, gate::queue_stream, gate::join_virtual_queue, gate::trip_of_declaration,
        gate::worklist, gate::show_trip, gate::start_step, gate::finish_step, gate::record_fee, gate::track, gate::report_position,
        reports::dwell,
    ),
    modifiers(&Bearer)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as JSON.
pub fn json() -> String {
    ApiDoc::openapi().to_json().expect("the OpenAPI document serialises")
}
