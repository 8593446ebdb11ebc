//! Parties to a crossing: the declarant enterprise, the vehicle and its plate, the driver, and the
//! goods' HS code. Each value is validated once, in its `parse`.

use crate::refdata::Side;
use crate::validate::{self, FieldError, Problem};

/// A declarant's registration: a Vietnamese tax code (10 digits, or 10-3 for a branch) or a
/// Chinese unified social credit code (18 characters with a check character, GB 32100-2015).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnterpriseCode {
    code: String,
    country: Side,
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl EnterpriseCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim().to_ascii_uppercase();
        let bad = || {
            FieldError::new(
                "enterprise_code",
                Problem::Other("not a Vietnamese tax code (10 or 10-3 digits) or a Chinese unified social credit code (18 characters)"),
            )
        };
        // Both forms are ASCII; checking first also makes the byte slices below safe.
        if !s.is_ascii() {
            return Err(bad());
        }
        let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
        if (s.len() == 10 && digits(&s)) || (s.len() == 14 && digits(&s[..10]) && &s[10..11] == "-" && digits(&s[11..])) {
            return Ok(EnterpriseCode { code: s, country: Side::Vn });
        }
        if s.len() == 18 && s.chars().all(|c| USCC_CHARS.contains(c)) {
            let val = |c: char| USCC_CHARS.find(c).expect("checked above") as u32;
            let sum: u32 = s.chars().take(17).zip(USCC_WEIGHTS).map(|(c, w)| val(c) * w).sum();
            let check = (31 - sum % 31) % 31;
            if USCC_CHARS.chars().nth(check as usize) == s.chars().nth(17) {
                return Ok(EnterpriseCode { code: s, country: Side::Cn });
            }
            return Err(FieldError::new(
                "enterprise_code",
                Problem::Other("the check character of this unified social credit code is wrong"),
            ));
        }
        Err(bad())
    }
    pub fn as_str(&self) -> &str {
        &self.code
    }
    pub fn country(&self) -> Side {
        self.country
    }
}

/// A number plate as written, and the key a camera reading is matched on (letters, digits and
/// Chinese characters only, upper case: `29C-123.45` and `29C12345` are the same plate).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Plate {
    pub display: String,
    pub key: String,
    pub country: Side,
}

impl Plate {
    pub fn parse(s: &str, country: Side) -> Result<Self, FieldError> {
        let display = validate::text("plate", s, 20)?;
        let key = Self::key_of(&display);
        if key.chars().count() < 5 || !key.chars().any(|c| c.is_ascii_digit()) {
            return Err(FieldError::new("plate", Problem::Other("a plate has at least 5 letters and digits")));
        }
        Ok(Plate { display, key, country })
    }
    /// The matching key of any plate text (a camera read, a typed plate).
    pub fn key_of(s: &str) -> String {
        s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
    }
}

/// What kind of vehicle crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VehicleKind {
    Truck,
    TractorTrailer,
    Refrigerated,
    /// A driverless automated guided vehicle on a dedicated lane; it has no driver.
    Agv,
}

impl VehicleKind {
    pub const CODES: &'static [&'static str] = &["truck", "tractor-trailer", "refrigerated", "agv"];
    pub fn code(self) -> &'static str {
        match self {
            VehicleKind::Truck => "truck",
            VehicleKind::TractorTrailer => "tractor-trailer",
            VehicleKind::Refrigerated => "refrigerated",
            VehicleKind::Agv => "agv",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "truck" => Ok(VehicleKind::Truck),
            "tractor-trailer" => Ok(VehicleKind::TractorTrailer),
            "refrigerated" => Ok(VehicleKind::Refrigerated),
            "agv" => Ok(VehicleKind::Agv),
            _ => Err(FieldError::new("vehicle_kind", Problem::NotOneOf { allowed: Self::CODES })),
        }
    }
}

/// A driver: name, nationality and the number of an identity document or border pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Driver {
    pub name: String,
    pub nationality: Side,
    pub document_no: String,
}

impl Driver {
    pub fn parse(name: &str, nationality: &str, document_no: &str) -> Result<Self, FieldError> {
        Self::parse_all(name, nationality, document_no).map_err(|mut e| e.swap_remove(0))
    }

    /// Validates every field and names each bad one (name, nationality, document, in the form's order).
    pub fn parse_all(name: &str, nationality: &str, document_no: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = validate::collect(&mut errors, validate::text("driver_name", name, 120));
        let nationality = validate::collect(&mut errors, Side::parse("driver_nationality", nationality));
        let document_no = validate::collect(&mut errors, validate::text("driver_document_no", document_no, 32)).filter(|d| {
            let ok = d.chars().all(|c| c.is_ascii_alphanumeric()) && d.len() >= 6;
            if !ok {
                errors.push(FieldError::new("driver_document_no", Problem::Other("6 to 32 letters and digits")));
            }
            ok
        });
        match (name, nationality, document_no) {
            (Some(name), Some(nationality), Some(d)) => Ok(Driver { name, nationality, document_no: d.to_ascii_uppercase() }),
            _ => Err(errors),
        }
    }
}

/// A Harmonized System code of 6 to 10 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode(String);

impl HsCode {
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s: String = s.trim().chars().filter(|c| *c != '.').collect();
        if !(6..=10).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new("hs_code", Problem::Other("6 to 10 digits")));
        }
        Ok(HsCode(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The HS chapter (first two digits).
    pub fn chapter(&self) -> u8 {
        self.0[..2].parse().unwrap_or(0)
    }
    /// Goods of chapters 01–24 (animals, plants, food) pass quarantine and need a certificate.
    pub fn needs_quarantine(&self) -> bool {
        (1..=24).contains(&self.chapter())
    }
    /// A coarse commodity group for reports: the HS section of the chapter.
    pub fn group(&self) -> &'static str {
        match self.chapter() {
            1..=5 => "animals",
            6..=14 => "vegetables-fruit",
            15..=24 => "food",
            25..=27 => "minerals",
            28..=40 => "chemicals-plastics",
            41..=67 => "materials-textiles",
            68..=83 => "metals-stone",
            84..=85 => "machinery-electronics",
            86..=89 => "vehicles",
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_codes_of_both_countries() {
        assert_eq!(EnterpriseCode::parse("0101234567").unwrap().country(), Side::Vn);
        assert_eq!(EnterpriseCode::parse("0101234567-001").unwrap().country(), Side::Vn);
        // A published example of a valid unified social credit code.
        assert_eq!(EnterpriseCode::parse("91350100M000100Y43").unwrap().country(), Side::Cn);
        assert!(EnterpriseCode::parse("91350100M000100Y44").is_err(), "wrong check character");
        // Found by fuzzing (fuzz/fuzz_targets/api_inputs.rs): 14 bytes with a character that
        // straddles byte 10 made the tax-code check slice inside it and panic.
        for bad in ["", "12345", "0101234567-1", "91350100M000100YI3", "2M.39C+ 𥥥 ", "0101234567𥥥", "91350100M000100Y4𥥥"] {
            assert_eq!(EnterpriseCode::parse(bad).unwrap_err().field, "enterprise_code", "{bad}");
        }
    }

    #[test]
    fn plates_match_whatever_the_camera_reads() {
        let p = Plate::parse("29C-123.45", Side::Vn).unwrap();
        assert_eq!(p.key, "29C12345");
        assert_eq!(Plate::key_of("29c 123 45"), p.key);
        assert_eq!(Plate::parse("桂A·12345", Side::Cn).unwrap().key, "桂A12345");
        assert!(Plate::parse("AB-1", Side::Vn).is_err());
    }

    #[test]
    fn hs_codes_and_quarantine() {
        let durian = HsCode::parse("0810.60.00").unwrap();
        assert_eq!(durian.as_str(), "08106000");
        assert!(durian.needs_quarantine());
        assert_eq!(durian.group(), "vegetables-fruit");
        let phone = HsCode::parse("851713").unwrap();
        assert!(!phone.needs_quarantine());
        assert!(HsCode::parse("0810").is_err());
        assert!(HsCode::parse("08106000123").is_err());
    }

    #[test]
    fn drivers_and_vehicles() {
        assert!(Driver::parse("Nguyễn Văn Tài", "VN", "B1234567").is_ok());
        assert_eq!(Driver::parse("X", "VN", "12").unwrap_err().field, "driver_document_no");
        assert_eq!(Driver::parse("X", "LA", "B1234567").unwrap_err().field, "driver_nationality");
        assert_eq!(VehicleKind::parse("agv").unwrap(), VehicleKind::Agv);
        assert_eq!(VehicleKind::parse("boat").unwrap_err().field, "vehicle_kind");
    }
}
