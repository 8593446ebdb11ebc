//! The OpenAPI 3.1 document: its header here, its paths from the routes themselves (each
//! registered once with its `#[utoipa::path]`, see `routes::documented`).

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
    modifiers(&Bearer)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as JSON.
pub fn json(doc: utoipa::openapi::OpenApi) -> String {
    doc.to_json().expect("the OpenAPI document serialises")
}

/// The whole document, as the server serves it at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::documented().split_for_parts().1
}
