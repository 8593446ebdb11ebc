//! Schemas for the OpenAPI document made from the core's own rules, so the document says what
//! the server checks: code lists (`enum`) from the core's constants, and the characters no text
//! may carry (`pattern`) from `cuakhau_core::validate::FORBIDDEN_CHARS`.

use cuakhau_core::goods::parties::VehicleKind;
use cuakhau_core::refdata::{Direction, GateKind, LaneClass, Mode, Side};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A string that is one of `codes`.
pub fn one_of(codes: &[&str]) -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes.iter().copied())).build()
}

/// `VN` or `CN`.
pub fn side() -> Object {
    one_of(Side::CODES)
}

/// `export` or `import`.
pub fn direction() -> Object {
    one_of(Direction::CODES)
}

/// A lane's class.
pub fn lane_class() -> Object {
    one_of(LaneClass::CODES)
}

/// A vehicle's kind.
pub fn vehicle_kind() -> Object {
    one_of(VehicleKind::CODES)
}

/// A gate pair's kind.
pub fn gate_kind() -> Object {
    one_of(GateKind::CODES)
}

/// How a gate pair is crossed.
pub fn mode() -> Object {
    one_of(Mode::CODES)
}

/// Marker types for query parameters (`#[param(value_type = schema::DirectionCode, inline)]`):
/// the same code lists as the functions above.
macro_rules! code_type {
    ($($(#[$m:meta])* $name:ident => $schema:path;)+) => {$(
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema().into()
            }
        }
        impl utoipa::ToSchema for $name {}
    )+};
}

code_type! {
    /// `VN` or `CN`.
    SideCode => side;
    /// `export` or `import`.
    DirectionCode => direction;
    /// A gate pair's kind.
    GateKindCode => gate_kind;
    /// How a gate pair is crossed.
    ModeCode => mode;
    /// An RFC 3339 instant.
    Instant => instant;
}

/// An instant, RFC 3339 with its offset.
pub fn instant() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
        .build()
}

/// The ECMA-262 `pattern` of a text without the characters the server refuses anywhere
/// (`cuakhau_core::validate::is_forbidden_char`).
pub fn plain_text_pattern() -> String {
    let ranges: String = cuakhau_core::validate::FORBIDDEN_CHARS
        .iter()
        .map(|&(lo, hi)| if lo == hi { format!("\\u{:04X}", lo as u32) } else { format!("\\u{:04X}-\\u{:04X}", lo as u32, hi as u32) })
        .collect();
    format!("^[^{ranges}]*$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_pattern_lists_every_forbidden_range() {
        assert_eq!(
            plain_text_pattern(),
            "^[^\\u0000-\\u0008\\u000B-\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$"
        );
    }

    #[test]
    fn code_lists_come_from_the_core() {
        let json = serde_json::to_value(direction()).unwrap();
        assert_eq!(json["enum"], serde_json::json!(["export", "import"]));
        assert_eq!(serde_json::to_value(side()).unwrap()["enum"], serde_json::json!(["VN", "CN"]));
    }
}
