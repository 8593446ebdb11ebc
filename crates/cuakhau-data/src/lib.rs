//! The border's reference data shipped with cuakhau, and the CSV/JSON readers and writers for it.
//!
//! Files are parsed whole before anything is written: a malformed row is reported with its line
//! number and reason, and the caller writes nothing. The bundled files under `data/` are compiled
//! into the binary, so a fresh installation needs no other file.

use cuakhau_core::refdata::{IntegrityError, Lane, LocalityPairing, Province};
use cuakhau_core::{FieldError, GatePair, ReferenceData};
use serde::Deserialize;
use std::io::{Read, Write};

mod rows;
pub use rows::{GatePairRow, LaneRow, PairingRow, ProvinceRow};

/// The reference data files, as shipped in `data/`.
pub const BUNDLED_PROVINCES: &str = include_str!("../../../data/provinces.csv");
pub const BUNDLED_PAIRINGS: &str = include_str!("../../../data/pairings.csv");
pub const BUNDLED_GATE_PAIRS: &str = include_str!("../../../data/gate_pairs.csv");
pub const BUNDLED_LANES: &str = include_str!("../../../data/lanes.csv");

/// One of the four reference tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Provinces,
    Pairings,
    GatePairs,
    Lanes,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Provinces, Table::Pairings, Table::GatePairs, Table::Lanes];
    pub fn name(self) -> &'static str {
        match self {
            Table::Provinces => "provinces",
            Table::Pairings => "pairings",
            Table::GatePairs => "gate_pairs",
            Table::Lanes => "lanes",
        }
    }
    pub fn parse(s: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == s || t.name().replace('_', "-") == s)
    }
    /// Guesses the table from a file name such as `gate_pairs.csv`.
    pub fn from_file_name(name: &str) -> Option<Table> {
        let stem = name.rsplit('/').next()?.split('.').next()?;
        Table::parse(stem)
    }
}

/// Why a file was refused: the line (CSV, 1-based, the header is line 1) or item (JSON, 1-based)
/// and the reason.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{table} line {line}: {error}")]
    Row { table: &'static str, line: u64, error: FieldError },
    #[error("{table} line {line}: {reason}")]
    Format { table: &'static str, line: u64, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl DataError {
    /// The error as a message in `lang`, for people (CLI) and problem documents (API).
    pub fn message(&self, lang: cuakhau_core::Lang) -> cuakhau_core::Msg {
        let sep = if lang == cuakhau_core::Lang::Zh { "：" } else { ": " };
        match self {
            DataError::Row { table, line, error } => {
                cuakhau_core::Msg::ImportRow { line: *line, reason: format!("{table}.{}{sep}{}", error.field, error.problem.explain(lang)) }
            }
            DataError::Format { table, line, reason } => cuakhau_core::Msg::ImportRow { line: *line, reason: format!("{table}: {reason}") },
            DataError::Io(e) => cuakhau_core::Msg::MalformedJson { detail: e.to_string() },
        }
    }

    pub fn line(&self) -> Option<u64> {
        match self {
            DataError::Row { line, .. } | DataError::Format { line, .. } => Some(*line),
            DataError::Io(_) => None,
        }
    }
}

/// Parsed rows of one table.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Provinces(Vec<Province>),
    Pairings(Vec<LocalityPairing>),
    GatePairs(Vec<GatePair>),
    Lanes(Vec<Lane>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Provinces(v) => v.len(),
            Rows::Pairings(v) => v.len(),
            Rows::GatePairs(v) => v.len(),
            Rows::Lanes(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A reference data set holding just these rows.
    pub fn into_reference(self) -> ReferenceData {
        let mut r = ReferenceData::default();
        match self {
            Rows::Provinces(v) => r.provinces = v,
            Rows::Pairings(v) => r.pairings = v,
            Rows::GatePairs(v) => r.gate_pairs = v,
            Rows::Lanes(v) => r.lanes = v,
        }
        r
    }
}

fn parse_rows<R: for<'de> Deserialize<'de>, T>(
    table: Table,
    input: impl Read,
    on_row: &mut dyn FnMut(u64),
    convert: impl Fn(R) -> Result<T, FieldError>,
) -> Result<Vec<T>, DataError> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
    let name = table.name();
    let headers = rdr.headers().map_err(|e| DataError::Format { table: name, line: 1, reason: e.to_string() })?.clone();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec =
            rec.map_err(|e| DataError::Format { table: name, line: e.position().map(|p| p.line()).unwrap_or(0), reason: e.to_string() })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let row: R = rec.deserialize(Some(&headers)).map_err(|e| DataError::Format { table: name, line, reason: e.to_string() })?;
        out.push(convert(row).map_err(|error| DataError::Row { table: name, line, error })?);
        on_row(rec.position().map(|p| p.byte()).unwrap_or(0));
    }
    Ok(out)
}

/// Parses a CSV file of `table`. `on_row` is called after each row with the byte offset reached,
/// for progress bars.
pub fn parse_csv(table: Table, input: impl Read, on_row: &mut dyn FnMut(u64)) -> Result<Rows, DataError> {
    Ok(match table {
        Table::Provinces => Rows::Provinces(parse_rows(table, input, on_row, ProvinceRow::into_domain)?),
        Table::Pairings => Rows::Pairings(parse_rows(table, input, on_row, PairingRow::into_domain)?),
        Table::GatePairs => Rows::GatePairs(parse_rows(table, input, on_row, GatePairRow::into_domain)?),
        Table::Lanes => Rows::Lanes(parse_rows(table, input, on_row, LaneRow::into_domain)?),
    })
}

/// Parses a JSON array of row objects (the CSV columns as keys) of `table`.
pub fn parse_json(table: Table, input: impl Read) -> Result<Rows, DataError> {
    let name = table.name();
    let items: Vec<serde_json::Value> =
        serde_json::from_reader(input).map_err(|e| DataError::Format { table: name, line: e.line() as u64, reason: e.to_string() })?;
    fn conv<R: for<'de> Deserialize<'de>, T>(
        name: &'static str,
        items: Vec<serde_json::Value>,
        f: impl Fn(R) -> Result<T, FieldError>,
    ) -> Result<Vec<T>, DataError> {
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let line = i as u64 + 1;
                let row: R = serde_json::from_value(v).map_err(|e| DataError::Format { table: name, line, reason: e.to_string() })?;
                f(row).map_err(|error| DataError::Row { table: name, line, error })
            })
            .collect()
    }
    Ok(match table {
        Table::Provinces => Rows::Provinces(conv(name, items, ProvinceRow::into_domain)?),
        Table::Pairings => Rows::Pairings(conv(name, items, PairingRow::into_domain)?),
        Table::GatePairs => Rows::GatePairs(conv(name, items, GatePairRow::into_domain)?),
        Table::Lanes => Rows::Lanes(conv(name, items, LaneRow::into_domain)?),
    })
}

/// The reference data compiled into cuakhau, checked for integrity.
pub fn bundled() -> Result<ReferenceData, DataError> {
    let mut nop = |_| {};
    let mut r = ReferenceData::default();
    if let Rows::Provinces(v) = parse_csv(Table::Provinces, BUNDLED_PROVINCES.as_bytes(), &mut nop)? {
        r.provinces = v;
    }
    if let Rows::Pairings(v) = parse_csv(Table::Pairings, BUNDLED_PAIRINGS.as_bytes(), &mut nop)? {
        r.pairings = v;
    }
    if let Rows::GatePairs(v) = parse_csv(Table::GatePairs, BUNDLED_GATE_PAIRS.as_bytes(), &mut nop)? {
        r.gate_pairs = v;
    }
    if let Rows::Lanes(v) = parse_csv(Table::Lanes, BUNDLED_LANES.as_bytes(), &mut nop)? {
        r.lanes = v;
    }
    r.check().map_err(integrity)?;
    Ok(r)
}

/// Turns an integrity problem into a data error; `index` is 0-based and rows start on line 2.
pub fn integrity(e: IntegrityError) -> DataError {
    DataError::Row { table: e.table, line: e.index as u64 + 2, error: e.error }
}

/// Writes one table of `data` as CSV, in the same format `parse_csv` reads.
pub fn write_csv(table: Table, data: &ReferenceData, out: impl Write) -> Result<(), DataError> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| DataError::Io(std::io::Error::other(e.to_string()));
    match table {
        Table::Provinces => data.provinces.iter().try_for_each(|p| w.serialize(ProvinceRow::from_domain(p))).map_err(io)?,
        Table::Pairings => data.pairings.iter().try_for_each(|p| w.serialize(PairingRow::from_domain(p))).map_err(io)?,
        Table::GatePairs => data.gate_pairs.iter().try_for_each(|p| w.serialize(GatePairRow::from_domain(p))).map_err(io)?,
        Table::Lanes => data.lanes.iter().try_for_each(|p| w.serialize(LaneRow::from_domain(p))).map_err(io)?,
    }
    w.flush()?;
    Ok(())
}

/// Writes one table of `data` as a JSON array of row objects.
pub fn write_json(table: Table, data: &ReferenceData, out: impl Write) -> Result<(), DataError> {
    let r = match table {
        Table::Provinces => serde_json::to_writer_pretty(out, &data.provinces.iter().map(ProvinceRow::from_domain).collect::<Vec<_>>()),
        Table::Pairings => serde_json::to_writer_pretty(out, &data.pairings.iter().map(PairingRow::from_domain).collect::<Vec<_>>()),
        Table::GatePairs => serde_json::to_writer_pretty(out, &data.gate_pairs.iter().map(GatePairRow::from_domain).collect::<Vec<_>>()),
        Table::Lanes => serde_json::to_writer_pretty(out, &data.lanes.iter().map(LaneRow::from_domain).collect::<Vec<_>>()),
    };
    r.map_err(|e| DataError::Io(std::io::Error::other(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_data_parses_and_holds_together() {
        let r = bundled().unwrap();
        assert_eq!(r.gate_pairs.len(), 36);
        assert_eq!(r.provinces.len(), 9);
        let hn = r.gate_pairs.iter().find(|g| g.id.as_str() == "huu-nghi").unwrap();
        assert_eq!(hn.cn.name_zh.as_deref(), Some("友谊关"));
        assert!(hn.vn.coordinate.is_some() && hn.cn.coordinate.is_some());
        // Every gate pair has names in all three languages on the Chinese side where the source gives one.
        assert!(r.gate_pairs.iter().all(|g| !g.vn.name_en.is_empty() && !g.cn.name_vi.is_empty()));
    }

    #[test]
    fn csv_round_trips() {
        let r = bundled().unwrap();
        for t in Table::ALL {
            let mut buf = Vec::new();
            write_csv(t, &r, &mut buf).unwrap();
            let back = parse_csv(t, buf.as_slice(), &mut |_| {}).unwrap();
            let mut buf2 = Vec::new();
            write_csv(t, &back.into_reference(), &mut buf2).unwrap();
            assert_eq!(String::from_utf8(buf).unwrap(), String::from_utf8(buf2).unwrap(), "{t:?}");
        }
    }

    #[test]
    fn a_malformed_row_is_reported_with_its_line() {
        let mut lines: Vec<String> = BUNDLED_LANES.lines().map(String::from).collect();
        lines[4] = lines[4].replace(",17,", ",seventeen,");
        let e = parse_csv(Table::Lanes, lines.join("\n").as_bytes(), &mut |_| {}).unwrap_err();
        assert_eq!(e.line(), Some(5));
        assert!(e.to_string().contains("capacity_per_hour"), "{e}");

        let bad_header = "id,country,name_vi,name_zh,name_en,former_names,source,colour\nx,VN,a,b,c,,s,red\n";
        let e = parse_csv(Table::Provinces, bad_header.as_bytes(), &mut |_| {}).unwrap_err();
        assert_eq!(e.line(), Some(2));
        assert!(e.to_string().contains("colour"), "{e}");
    }

    #[test]
    fn json_round_trips_and_reports_items() {
        let r = bundled().unwrap();
        let mut buf = Vec::new();
        write_json(Table::GatePairs, &r, &mut buf).unwrap();
        let back = parse_json(Table::GatePairs, buf.as_slice()).unwrap();
        assert_eq!(back, Rows::GatePairs(r.gate_pairs.clone()));
        let bad = r#"[{"id":"x","country":"VN","name_vi":"a","name_zh":"b","name_en":"c","former_names":"","source":""}]"#;
        let e = parse_json(Table::Provinces, bad.as_bytes()).unwrap_err();
        assert_eq!(e.line(), Some(1));
        assert!(e.to_string().contains("source"));
    }
}

/// The bundled example risk rules (`data/risk_rules.csv`): examples that stand in for each customs
/// administration's own, confidential risk profile, clearly labelled as examples in their reasons.
pub const BUNDLED_RISK_RULES: &str = include_str!("../../../data/risk_rules.csv");

/// Parses risk rules: `hs_prefix,origin,min_value,perishable,channel,code,reason_vi,reason_zh,reason_en`,
/// first match wins; codes are slugs, each once.
pub fn parse_risk_rules(text: &str) -> Result<Vec<cuakhau_core::goods::clearance::RiskRule>, DataError> {
    use cuakhau_core::goods::clearance::{Channel, RiskRule};
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let table = "risk_rules";
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| DataError::Format { table, line, reason: e.to_string() })?;
        if rec.len() != 9 {
            return Err(DataError::Format { table, line, reason: format!("expected 9 columns, found {}", rec.len()) });
        }
        let opt = |k: usize| Some(rec[k].to_string()).filter(|s| !s.is_empty());
        let bad = |field: &str, p: cuakhau_core::Problem| DataError::Row { table, line, error: FieldError::new(field, p) };
        let min_value = match opt(2) {
            Some(v) => Some(v.parse::<f64>().map_err(|_| bad("min_value", cuakhau_core::Problem::NotANumber))?),
            None => None,
        };
        let perishable = match opt(3) {
            Some(v) => Some(cuakhau_core::refdata::parse_bool("perishable", &v).map_err(|e| DataError::Row { table, line, error: e })?),
            None => None,
        };
        let channel = Channel::parse(&rec[4]).ok_or_else(|| bad("channel", cuakhau_core::Problem::NotOneOf { allowed: Channel::CODES }))?;
        let code = &rec[5];
        if code == cuakhau_core::goods::clearance::NO_RULE
            || code.is_empty()
            || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad("code", cuakhau_core::Problem::BadSlug));
        }
        if out.iter().any(|r: &RiskRule| r.code == code) {
            return Err(bad("code", cuakhau_core::Problem::Other("duplicate id")));
        }
        let reason =
            |k: usize, field: &str| cuakhau_core::validate::text(field, &rec[k], 500).map_err(|e| DataError::Row { table, line, error: e });
        let reason = [reason(6, "reason_vi")?, reason(7, "reason_zh")?, reason(8, "reason_en")?];
        out.push(RiskRule { hs_prefix: opt(0), origin: opt(1), min_value, perishable, channel, code: code.to_string(), reason });
    }
    Ok(out)
}

#[cfg(test)]
mod risk_tests {
    #[test]
    fn bundled_risk_rules_parse_and_bad_rows_name_their_line() {
        let rules = super::parse_risk_rules(super::BUNDLED_RISK_RULES).unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[2].perishable, Some(true));
        assert_eq!(rules[2].code, "perishable");
        assert!(rules.iter().all(|r| r.reason.iter().all(|t| !t.is_empty())), "every reason in all three languages");
        assert!(rules[0].reason[1].starts_with("烟草"));
        const HEAD: &str = "hs_prefix,origin,min_value,perishable,channel,code,reason_vi,reason_zh,reason_en\n";
        let err = super::parse_risk_rules(&format!("{HEAD}08,,,,purple,x,a,b,c\n")).unwrap_err();
        assert!(err.to_string().contains("line 2") && err.to_string().contains("channel"), "{err}");
        let err = super::parse_risk_rules(&format!("{HEAD}08,,,,red,fruit,a,,c\n")).unwrap_err();
        assert!(err.to_string().contains("reason_zh"), "{err}");
        let err = super::parse_risk_rules(&format!("{HEAD}08,,,,red,fruit,a,b,c\n09,,,,red,fruit,a,b,c\n")).unwrap_err();
        assert!(err.to_string().contains("line 3") && err.to_string().contains("code"), "{err}");
        let err = super::parse_risk_rules(&format!("{HEAD}08,,,,red,Fruit Rule,a,b,c\n")).unwrap_err();
        assert!(err.to_string().contains("code"), "{err}");
    }
}
