//! The OpenAPI 3.1 document: its header here, its paths from the routes themselves (each
//! registered once with its `#[utoipa::path]`, see `routes::documented`), then [`complete`]d with
//! what every operation shares: the error answers every route can give (problem+json, one
//! `Problem` schema), parameters placed where the server reads them, and text that admits no
//! character the server refuses.

use serde_json::{Map, Value, json};
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
    serde_json::to_string(&complete(doc)).expect("the OpenAPI document serialises")
}

/// The whole document, as the server serves it at `/api/v1/openapi.json`.
pub fn document() -> Value {
    complete(crate::routes::documented().split_for_parts().1)
}

const PROBLEM: &str = "application/problem+json";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The answers any operation can give besides its own: (status, when, only on secured
/// operations, only on operations with a body).
const STANDARD: &[(&str, &str, bool, bool)] = &[
    ("400", "A malformed body, query or path part", false, false),
    ("401", "Not signed in, or the session has ended", true, false),
    ("403", "The caller's roles do not allow this, or a cookie-authenticated change from another site", true, false),
    ("404", "No such resource", false, false),
    ("408", "The request or its body took too long", false, false),
    ("413", "The body is larger than the server accepts", false, true),
    ("415", "The body is not in the documented media type", false, true),
    ("422", "A field is invalid (the problem's `field` names it), or text holds a control character", false, false),
    ("429", "Too many requests: wait `Retry-After` seconds", false, false),
    ("503", "Overloaded or busy: try again after `Retry-After` seconds", false, false),
];

/// Adds what every operation shares to the routes' own document (see the module's header), and
/// returns it as JSON.
pub fn complete(doc: utoipa::openapi::OpenApi) -> Value {
    let mut v = serde_json::to_value(doc).expect("the OpenAPI document serialises");
    let problem = serde_json::to_value(<cuakhau_api::Problem as utoipa::PartialSchema>::schema()).expect("a schema serialises");
    let schemas = v.pointer_mut("/components").and_then(Value::as_object_mut).expect("components").entry("schemas").or_insert(json!({}));
    schemas.as_object_mut().expect("schemas").entry("Problem").or_insert(problem);
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for (template, item) in paths.iter_mut() {
            let in_path = template_params(template);
            for method in METHODS {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    complete_operation(op, &in_path);
                }
            }
        }
    }
    forbid_control_chars(&mut v, &cuakhau_api::schema::plain_text_pattern());
    v
}

/// The names between braces in a path template.
pub fn template_params(template: &str) -> Vec<String> {
    template.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string())).collect()
}

fn problem_content() -> Value {
    json!({ PROBLEM: { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

fn complete_operation(op: &mut Map<String, Value>, in_path: &[String]) {
    // Parameters the template does not name are read from the query.
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            if p["in"] == "path" && !in_path.contains(&name) {
                p["in"] = json!("query");
            }
        }
    }
    let secured =
        op.get("security").and_then(Value::as_array).is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(|r| !r.is_empty())));
    let has_body = op.contains_key("requestBody");
    let responses = op.entry("responses").or_insert(json!({})).as_object_mut().expect("responses");
    for (status, description, only_secured, only_body) in STANDARD {
        if (*only_secured && !secured) || (*only_body && !has_body) {
            continue;
        }
        responses.entry(status.to_string()).or_insert(json!({ "description": description }));
    }
    for (status, answer) in responses.iter_mut() {
        if !status.starts_with('4') && !status.starts_with('5') {
            continue;
        }
        let answer = answer.as_object_mut().expect("a response");
        answer.insert("content".into(), problem_content());
        if status == "429" || status == "503" {
            let headers = answer.entry("headers").or_insert(json!({})).as_object_mut().expect("headers");
            headers.insert(
                "Retry-After".into(),
                json!({ "description": "Seconds to wait before trying again", "schema": { "type": "integer", "minimum": 0 } }),
            );
        }
    }
}

/// True when `schema` says it is a string (alone or with `null`).
fn is_string_schema(schema: &Map<String, Value>) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// True when a string schema admits no forbidden character: a code list, an instant, or the
/// text pattern.
fn string_is_plain(schema: &Map<String, Value>, pattern: &str) -> bool {
    schema.contains_key("enum")
        || schema.get("format").is_some_and(|f| f == "date-time")
        || schema.get("pattern").is_some_and(|p| p == pattern)
}

/// Gives every string schema that is neither a code list nor an instant the text pattern.
fn forbid_control_chars(v: &mut Value, pattern: &str) {
    match v {
        Value::Object(map) => {
            if is_string_schema(map) && !string_is_plain(map, pattern) {
                map.insert("pattern".into(), json!(pattern));
            }
            map.values_mut().for_each(|x| forbid_control_chars(x, pattern));
        }
        Value::Array(items) => items.iter_mut().for_each(|x| forbid_control_chars(x, pattern)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(doc: &Value) -> Vec<(String, String, &Map<String, Value>)> {
        let mut out = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                if let Some(op) = item.get(method).and_then(Value::as_object) {
                    out.push((method.to_string(), template.clone(), op));
                }
            }
        }
        assert!(out.len() > 50, "{} operations", out.len());
        out
    }

    #[test]
    fn every_error_answer_is_a_problem_and_every_secured_operation_documents_401() {
        let doc = document();
        assert!(doc.pointer("/components/schemas/Problem/properties/detail").is_some());
        for (method, path, op) in operations(&doc) {
            let responses = op["responses"].as_object().expect("responses");
            for (status, answer) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = answer["content"].as_object().unwrap_or_else(|| panic!("{method} {path} {status}: no content"));
                    assert_eq!(content.keys().collect::<Vec<_>>(), [PROBLEM], "{method} {path} {status}");
                    assert_eq!(content[PROBLEM]["schema"]["$ref"], "#/components/schemas/Problem", "{method} {path} {status}");
                }
            }
            for status in ["400", "404", "408", "422", "429", "503"] {
                assert!(responses.contains_key(status), "{method} {path} does not document {status}");
            }
            assert!(responses["429"]["headers"]["Retry-After"].is_object(), "{method} {path}: 429 without Retry-After");
            if op.get("security").is_some() {
                assert!(responses.contains_key("401"), "{method} {path} is secured but does not document 401");
            }
            if op.contains_key("requestBody") {
                assert!(responses.contains_key("413") && responses.contains_key("415"), "{method} {path}");
            }
        }
    }

    #[test]
    fn path_parameters_are_exactly_the_templates_and_the_rest_are_query_parameters() {
        let doc = document();
        let mut queries = 0;
        for (method, path, op) in operations(&doc) {
            let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut in_path: Vec<String> =
                params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap().to_string()).collect();
            in_path.sort();
            let mut expected = template_params(&path);
            expected.sort();
            assert_eq!(in_path, expected, "{method} {path}");
            for p in &params {
                // (Or a header the operation reads, such as an event stream's `Last-Event-ID`.)
                assert!(p["in"] == "path" || p["in"] == "query" || p["in"] == "header", "{method} {path}: {p}");
                queries += usize::from(p["in"] == "query");
            }
        }
        // The query parameters that were once declared as path parameters are among them.
        assert!(queries >= 30, "{queries} query parameters");
        let dispatch = &doc["paths"]["/api/v1/gate-pairs/{id}/dispatch"]["post"]["parameters"];
        let direction = dispatch.as_array().unwrap().iter().find(|p| p["name"] == "direction").expect("direction");
        assert_eq!((direction["in"].as_str(), direction["required"].as_bool()), (Some("query"), Some(true)));
        assert_eq!(direction["schema"]["enum"], json!(cuakhau_core::Direction::CODES));
    }

    #[test]
    fn no_string_in_the_document_admits_control_characters() {
        fn walk(v: &Value, at: &str, pattern: &str, seen: &mut usize) {
            match v {
                Value::Object(map) => {
                    if is_string_schema(map) {
                        *seen += 1;
                        assert!(string_is_plain(map, pattern), "{at}: {v}");
                    }
                    map.iter().for_each(|(k, x)| walk(x, &format!("{at}/{k}"), pattern, seen));
                }
                Value::Array(items) => items.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{at}/{i}"), pattern, seen)),
                _ => {}
            }
        }
        let doc = document();
        let mut seen = 0;
        walk(&doc, "", &cuakhau_api::schema::plain_text_pattern(), &mut seen);
        assert!(seen > 100, "{seen} string schemas");
        // Code lists come from the core: a declaration's vehicle kinds, a lane's classes.
        let decl = &doc["components"]["schemas"]["DeclarationIn"]["properties"];
        assert_eq!(decl["vehicle_kind"]["enum"], json!(cuakhau_core::goods::parties::VehicleKind::CODES));
        assert_eq!(decl["consignments"]["minItems"], 1);
        assert_eq!(doc["components"]["schemas"]["NewLane"]["properties"]["class"]["enum"], json!(cuakhau_core::refdata::LaneClass::CODES));
    }

    #[test]
    fn csv_answers_are_documented() {
        let doc = document();
        let ok = &doc["paths"]["/api/v1/reports/dwell"]["get"]["responses"]["200"]["content"];
        assert!(ok.get("text/csv").is_some() && ok.get("application/json").is_some(), "{ok}");
    }
}
