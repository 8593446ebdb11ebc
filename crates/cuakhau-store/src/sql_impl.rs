//! The SQL implementation of [`crate::Store`], written once and stamped out per engine.
//!
//! Both engines accept the same statements (`$n` parameters, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`); what differs — the pool type, how a write transaction starts and how the audit
//! head is locked — is passed in by each backend crate. This crate does not depend on sqlx: the
//! macro expands inside the backend crates, which do.

/// Implements `Store` for `$store`, which must have a `pool: sqlx::Pool<$db>` field and an
/// inherent `async fn begin_write(&self) -> Result<(G, sqlx::Transaction<'static, $db>), sqlx::Error>`,
/// where `G` is whatever the engine must hold while the transaction is open (SQLite: its turn at
/// the single writer; PostgreSQL: nothing). It is dropped after the transaction ends.
/// `$lock_head` is the statement that reads (and, where the engine needs it, locks) the audit head.
#[macro_export]
macro_rules! impl_sql_store {
    (store = $store:ty, db = $db:ty, engine = $engine:literal, lock_head = $lock_head:literal) => {
        mod __sql_store {
            use super::*;
            use $crate::records::{self, snapshot, GatePairRec, GateRec, LaneRec, PairingRec, ProvinceRec, UserRec};
            use $crate::plan::{plan_load, Write};
            use $crate::{Actor, GateHoursChange, LoadReport, NewUser, Result, StoreError, User};
            use cuakhau_core::audit::{seal, AuditRecord};
            use cuakhau_core::refdata::{Lane, LaneId, LocalityPairing, Province};
            use cuakhau_core::{AuditEntry, GatePair, GatePairId, ReferenceData, Side, Timestamp};
            use sqlx::Row;

            type Tx = sqlx::Transaction<'static, $db>;
            type Conn = <$db as sqlx::Database>::Connection;

            pub(super) fn db_err(e: sqlx::Error) -> StoreError {
                if let Some(d) = e.as_database_error() {
                    // PostgreSQL's serialization failure and deadlock: the transaction was rolled
                    // back and may simply be run again (`retry_contention`).
                    if matches!(d.code().as_deref(), Some("40001" | "40P01")) {
                        return StoreError::Contention(d.message().to_string());
                    }
                    if d.is_unique_violation() {
                        return StoreError::Conflict(d.message().to_string());
                    }
                    if d.is_foreign_key_violation() {
                        return StoreError::Conflict(format!("refers to a row that does not exist: {}", d.message()));
                    }
                }
                StoreError::Backend(e.to_string())
            }

            /// Appends an audit entry; `scope` is the gate pair it concerns (its officers may read it),
            /// None for what only administrators read (users, sessions, settings, bulk loads).
            async fn audit(tx: &mut Tx, actor: &Actor<'_>, scope: Option<&str>, action: &str, entity: String, before: Option<String>, after: Option<String>) -> Result<()> {
                let head = sqlx::query($lock_head).fetch_one(&mut **tx).await.map_err(db_err)?;
                let seq: i64 = head.try_get("seq").map_err(db_err)?;
                let hash: String = head.try_get("hash").map_err(db_err)?;
                // A row someone appended past the head must not block every write with a unique
                // violation: number after it (still chained to the head), and `audit verify` names it.
                let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_log").fetch_one(&mut **tx).await.map_err(db_err)?;
                let seq = seq.max(last);
                let rec = AuditRecord { actor: actor.name.to_string(), at: actor.at, action: action.to_string(), entity, before, after };
                let e = seal(seq + 1, &hash, rec);
                sqlx::query("INSERT INTO audit_log (seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash, gate_pair_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                    .bind(e.seq).bind(&e.record.actor).bind(e.record.at.as_micros()).bind(&e.record.action).bind(&e.record.entity)
                    .bind(&e.record.before).bind(&e.record.after).bind(&e.prev_hash).bind(&e.hash).bind(scope)
                    .execute(&mut **tx).await.map_err(db_err)?;
                sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(e.seq).bind(&e.hash).execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            fn gate_rec(r: &<$db as sqlx::Database>::Row) -> std::result::Result<GateRec, sqlx::Error> {
                Ok(GateRec {
                    gate_pair_id: r.try_get("gate_pair_id")?, side: r.try_get("side")?, name_vi: r.try_get("name_vi")?,
                    name_zh: r.try_get("name_zh")?, name_pinyin: r.try_get("name_pinyin")?, name_en: r.try_get("name_en")?,
                    province_id: r.try_get("province_id")?, former_province: r.try_get("former_province")?, zone: r.try_get("zone")?,
                    lat: r.try_get("lat")?, lon: r.try_get("lon")?, coord_precision: r.try_get("coord_precision")?,
                    coord_source: r.try_get("coord_source")?, open_min: r.try_get("open_min")?, close_min: r.try_get("close_min")?,
                    hours_source: r.try_get("hours_source")?,
                })
            }

            fn pair_rec(r: &<$db as sqlx::Database>::Row) -> std::result::Result<GatePairRec, sqlx::Error> {
                Ok(GatePairRec { id: r.try_get("id")?, ord: r.try_get("ord")?, kind: r.try_get("kind")?, mode: r.try_get("mode")?,
                    designation: r.try_get("designation")?, sources: r.try_get("sources")? })
            }

            fn lane_rec(r: &<$db as sqlx::Database>::Row) -> std::result::Result<LaneRec, sqlx::Error> {
                Ok(LaneRec { id: r.try_get("id")?, gate_pair_id: r.try_get("gate_pair_id")?, side: r.try_get("side")?,
                    direction: r.try_get("direction")?, class: r.try_get("class")?, name: r.try_get("name")?,
                    capacity_per_hour: r.try_get("capacity_per_hour")?, active: r.try_get("active")?, basis: r.try_get("basis")? })
            }

            fn audit_entry(r: &<$db as sqlx::Database>::Row) -> std::result::Result<AuditEntry, sqlx::Error> {
                Ok(AuditEntry {
                    seq: r.try_get("seq")?,
                    record: AuditRecord { actor: r.try_get("actor")?, at: Timestamp(r.try_get("at_us")?), action: r.try_get("action")?,
                        entity: r.try_get("entity")?, before: r.try_get("before_json")?, after: r.try_get("after_json")? },
                    prev_hash: r.try_get("prev_hash")?, hash: r.try_get("hash")?,
                })
            }

            fn user_rec(r: &<$db as sqlx::Database>::Row) -> std::result::Result<UserRec, sqlx::Error> {
                Ok(UserRec { id: r.try_get("id")?, username: r.try_get("username")?, display_name: r.try_get("display_name")?,
                    roles: r.try_get("roles")?, created_at_us: r.try_get("created_at_us")?, disabled_at_us: r.try_get("disabled_at_us")? })
            }

            const GATE_COLS: &str = "gate_pair_id, side, name_vi, name_zh, name_pinyin, name_en, province_id, former_province, zone, lat, lon, coord_precision, coord_source, open_min, close_min, hours_source";

            async fn read_reference(ex: &mut Conn) -> Result<ReferenceData>
            {
                let provinces = sqlx::query("SELECT id, country, name_vi, name_zh, name_en, former_names, source FROM provinces ORDER BY country DESC, id")
                    .fetch_all(&mut *ex).await.map_err(db_err)?
                    .iter().map(|r| -> std::result::Result<ProvinceRec, sqlx::Error> { Ok(ProvinceRec { id: r.try_get("id")?, country: r.try_get("country")?,
                        name_vi: r.try_get("name_vi")?, name_zh: r.try_get("name_zh")?, name_en: r.try_get("name_en")?,
                        former_names: r.try_get("former_names")?, source: r.try_get("source")? }) })
                    .collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?
                    .into_iter().map(ProvinceRec::into_domain).collect::<Result<Vec<_>>>()?;
                let pairings = sqlx::query("SELECT vn_province, cn_province, mechanism, source FROM pairings ORDER BY cn_province DESC, vn_province")
                    .fetch_all(&mut *ex).await.map_err(db_err)?
                    .iter().map(|r| -> std::result::Result<PairingRec, sqlx::Error> { Ok(PairingRec { vn_province: r.try_get("vn_province")?,
                        cn_province: r.try_get("cn_province")?, mechanism: r.try_get("mechanism")?, source: r.try_get("source")? }) })
                    .collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?
                    .into_iter().map(PairingRec::into_domain).collect::<Result<Vec<_>>>()?;
                let pairs = sqlx::query("SELECT id, ord, kind, mode, designation, sources FROM gate_pairs ORDER BY ord, id")
                    .fetch_all(&mut *ex).await.map_err(db_err)?.iter().map(pair_rec).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?;
                let gates = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GATE_COLS} FROM gates")))
                    .fetch_all(&mut *ex).await.map_err(db_err)?.iter().map(gate_rec).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?;
                let mut by_pair: std::collections::HashMap<String, Vec<GateRec>> = std::collections::HashMap::new();
                for g in gates { by_pair.entry(g.gate_pair_id.clone()).or_default().push(g); }
                let gate_pairs = pairs.into_iter().map(|p| { let g = by_pair.remove(&p.id).unwrap_or_default(); records::gate_pair(p, g) })
                    .collect::<Result<Vec<_>>>()?;
                let lanes = sqlx::query("SELECT id, gate_pair_id, side, direction, class, name, capacity_per_hour, active, basis FROM lanes ORDER BY gate_pair_id, side, direction, id")
                    .fetch_all(&mut *ex).await.map_err(db_err)?.iter().map(lane_rec).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?
                    .into_iter().map(LaneRec::into_domain).collect::<Result<Vec<_>>>()?;
                Ok(ReferenceData { provinces, pairings, gate_pairs, lanes })
            }

            async fn read_pair(ex: &mut Conn, id: &str) -> Result<Option<GatePair>>
            {
                let Some(row) = sqlx::query("SELECT id, ord, kind, mode, designation, sources FROM gate_pairs WHERE id = $1")
                    .bind(id).fetch_optional(&mut *ex).await.map_err(db_err)? else { return Ok(None) };
                let rec = pair_rec(&row).map_err(db_err)?;
                let gates = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GATE_COLS} FROM gates WHERE gate_pair_id = $1")))
                    .bind(id).fetch_all(&mut *ex).await.map_err(db_err)?.iter().map(gate_rec).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)?;
                records::gate_pair(rec, gates).map(Some)
            }

            async fn write_province(tx: &mut Tx, p: &Province) -> Result<()> {
                sqlx::query("INSERT INTO provinces (id, country, name_vi, name_zh, name_en, former_names, source) VALUES ($1, $2, $3, $4, $5, $6, $7)
                             ON CONFLICT (id) DO UPDATE SET country = excluded.country, name_vi = excluded.name_vi, name_zh = excluded.name_zh,
                             name_en = excluded.name_en, former_names = excluded.former_names, source = excluded.source")
                    .bind(p.id.as_str()).bind(p.country.code()).bind(&p.name_vi).bind(&p.name_zh).bind(&p.name_en).bind(&p.former_names).bind(&p.source)
                    .execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            async fn write_pairing(tx: &mut Tx, p: &LocalityPairing) -> Result<()> {
                sqlx::query("INSERT INTO pairings (vn_province, cn_province, mechanism, source) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (vn_province, cn_province) DO UPDATE SET mechanism = excluded.mechanism, source = excluded.source")
                    .bind(p.vn_province.as_str()).bind(p.cn_province.as_str()).bind(&p.mechanism).bind(&p.source)
                    .execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            async fn write_gate_pair(tx: &mut Tx, g: &GatePair) -> Result<()> {
                sqlx::query("INSERT INTO gate_pairs (id, ord, kind, mode, designation, sources) VALUES ($1, $2, $3, $4, $5, $6)
                             ON CONFLICT (id) DO UPDATE SET ord = excluded.ord, kind = excluded.kind, mode = excluded.mode,
                             designation = excluded.designation, sources = excluded.sources")
                    .bind(g.id.as_str()).bind(g.order as i64).bind(g.kind.code()).bind(g.mode.code()).bind(&g.designation).bind(records::join_sources(g))
                    .execute(&mut **tx).await.map_err(db_err)?;
                for gate in [&g.vn, &g.cn] {
                    let r = GateRec::from_domain(&g.id, gate);
                    sqlx::query("INSERT INTO gates (gate_pair_id, side, name_vi, name_zh, name_pinyin, name_en, province_id, former_province, zone,
                                 lat, lon, coord_precision, coord_source, open_min, close_min, hours_source)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                                 ON CONFLICT (gate_pair_id, side) DO UPDATE SET name_vi = excluded.name_vi, name_zh = excluded.name_zh,
                                 name_pinyin = excluded.name_pinyin, name_en = excluded.name_en, province_id = excluded.province_id,
                                 former_province = excluded.former_province, zone = excluded.zone, lat = excluded.lat, lon = excluded.lon,
                                 coord_precision = excluded.coord_precision, coord_source = excluded.coord_source, open_min = excluded.open_min,
                                 close_min = excluded.close_min, hours_source = excluded.hours_source")
                        .bind(r.gate_pair_id).bind(r.side).bind(r.name_vi).bind(r.name_zh).bind(r.name_pinyin).bind(r.name_en)
                        .bind(r.province_id).bind(r.former_province).bind(r.zone).bind(r.lat).bind(r.lon).bind(r.coord_precision)
                        .bind(r.coord_source).bind(r.open_min).bind(r.close_min).bind(r.hours_source)
                        .execute(&mut **tx).await.map_err(db_err)?;
                }
                Ok(())
            }

            async fn write_lane(tx: &mut Tx, l: &Lane) -> Result<()> {
                sqlx::query("INSERT INTO lanes (id, gate_pair_id, side, direction, class, name, capacity_per_hour, active, basis)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                             ON CONFLICT (id) DO UPDATE SET gate_pair_id = excluded.gate_pair_id, side = excluded.side, direction = excluded.direction,
                             class = excluded.class, name = excluded.name, capacity_per_hour = excluded.capacity_per_hour,
                             active = excluded.active, basis = excluded.basis")
                    .bind(l.id.as_str()).bind(l.gate_pair.as_str()).bind(l.side.code()).bind(l.direction.code()).bind(l.class.code())
                    .bind(&l.name).bind(l.capacity_per_hour as i64).bind(l.active).bind(&l.basis)
                    .execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            async fn read_lane<'e, E>(ex: E, id: &str) -> Result<Option<Lane>>
            where E: sqlx::Executor<'e, Database = $db> {
                let row = sqlx::query("SELECT id, gate_pair_id, side, direction, class, name, capacity_per_hour, active, basis FROM lanes WHERE id = $1")
                    .bind(id).fetch_optional(ex).await.map_err(db_err)?;
                row.map(|r| lane_rec(&r).map_err(db_err).and_then(LaneRec::into_domain)).transpose()
            }

            async fn read_user<'e, E>(ex: E, username: &str) -> Result<Option<(User, String)>>
            where E: sqlx::Executor<'e, Database = $db> {
                let row = sqlx::query("SELECT id, username, display_name, roles, created_at_us, disabled_at_us, password_hash FROM users WHERE username = $1")
                    .bind(username).fetch_optional(ex).await.map_err(db_err)?;
                let Some(r) = row else { return Ok(None) };
                let hash: String = r.try_get("password_hash").map_err(db_err)?;
                Ok(Some((user_rec(&r).map_err(db_err)?.into_domain()?, hash)))
            }


            const DECL_COLS: &str = "id, enterprise_code, gate_pair_id, direction, plate, plate_country, vehicle_kind, driver_name, driver_nationality, driver_document_no, consignments_json, state, version, reasons_json, accepted_at_us, valid_until_us, created_at_us, updated_at_us, track_code, (SELECT t.status FROM trips t WHERE t.declaration_id = declarations.id) AS trip_status";

            fn decl_rec(r: &<$db as sqlx::Database>::Row) -> Result<$crate::goods::DeclarationRecord> {
                use cuakhau_core::goods::parties::{Driver, Plate, VehicleKind};
                let g = |e: sqlx::Error| db_err(e);
                let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("declaration: {e}"));
                let side: String = r.try_get("plate_country").map_err(g)?;
                let plate: String = r.try_get("plate").map_err(g)?;
                let driver_name: Option<String> = r.try_get("driver_name").map_err(g)?;
                let driver = match driver_name {
                    Some(n) => {
                        let nat: Option<String> = r.try_get("driver_nationality").map_err(g)?;
                        let doc: Option<String> = r.try_get("driver_document_no").map_err(g)?;
                        Some(Driver::parse(&n, nat.as_deref().unwrap_or(""), doc.as_deref().unwrap_or("")).map_err(bad)?)
                    }
                    None => None,
                };
                let state: String = r.try_get("state").map_err(g)?;
                let reasons: Option<String> = r.try_get("reasons_json").map_err(g)?;
                let version: i64 = r.try_get("version").map_err(g)?;
                let consignments: String = r.try_get("consignments_json").map_err(g)?;
                let direction: String = r.try_get("direction").map_err(g)?;
                let kind: String = r.try_get("vehicle_kind").map_err(g)?;
                let pair: String = r.try_get("gate_pair_id").map_err(g)?;
                Ok($crate::goods::DeclarationRecord {
                    id: r.try_get("id").map_err(g)?,
                    enterprise: r.try_get("enterprise_code").map_err(g)?,
                    gate_pair: GatePairId::parse(&pair).map_err(bad)?,
                    direction: cuakhau_core::Direction::parse("direction", &direction).map_err(bad)?,
                    plate: Plate::parse(&plate, Side::parse("plate_country", &side).map_err(bad)?).map_err(bad)?,
                    vehicle_kind: VehicleKind::parse(&kind).map_err(bad)?,
                    driver,
                    declaration: cuakhau_core::goods::Declaration {
                        state: $crate::goods::state_from_columns(&state, reasons.as_deref(), r.try_get("accepted_at_us").map_err(g)?, r.try_get("valid_until_us").map_err(g)?)?,
                        version: version as u32,
                        consignments: $crate::goods::consignments_from_json(&consignments)?,
                    },
                    created_at: Timestamp(r.try_get("created_at_us").map_err(g)?),
                    updated_at: Timestamp(r.try_get("updated_at_us").map_err(g)?),
                    track_code: r.try_get::<Option<String>, _>("track_code").map_err(g)?.unwrap_or_default(),
                    trip_status: match r.try_get::<Option<String>, _>("trip_status").map_err(g)? {
                        Some(t) => Some(cuakhau_core::goods::gate::TripStatus::parse(&t).ok_or_else(|| StoreError::Corrupt(format!("trip status {t:?}")))?),
                        None => None,
                    },
                })
            }

            async fn read_decl(ex: &mut Conn, id: i64) -> Result<Option<$crate::goods::DeclarationRecord>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DECL_COLS} FROM declarations WHERE id = $1"))).bind(id).fetch_optional(&mut *ex).await.map_err(db_err)?;
                row.map(|r| decl_rec(&r)).transpose()
            }

            fn booking_rec(r: &<$db as sqlx::Database>::Row) -> Result<$crate::goods::Booking> {
                let bucket: String = r.try_get("bucket").map_err(db_err)?;
                Ok($crate::goods::Booking {
                    id: r.try_get("id").map_err(db_err)?,
                    declaration_id: r.try_get("declaration_id").map_err(db_err)?,
                    gate_pair: r.try_get("gate_pair_id").map_err(db_err)?,
                    direction: r.try_get("direction").map_err(db_err)?,
                    hour: Timestamp(r.try_get("hour_us").map_err(db_err)?),
                    bucket: cuakhau_core::goods::slots::Bucket::parse(&bucket).ok_or_else(|| StoreError::Corrupt(format!("bucket {bucket}")))?,
                    status: r.try_get("status").map_err(db_err)?,
                })
            }

            const BOOKING_COLS: &str = "id, declaration_id, gate_pair_id, direction, hour_us, bucket, status";

            async fn read_live_booking(ex: &mut Conn, declaration_id: i64) -> Result<Option<$crate::goods::Booking>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BOOKING_COLS} FROM bookings WHERE declaration_id = $1 AND status = 'booked'")))
                    .bind(declaration_id).fetch_optional(&mut *ex).await.map_err(db_err)?;
                row.map(|r| booking_rec(&r)).transpose()
            }


            /// Marks a booking cancelled and gives back its slot and its place in the daily count.
            async fn release_booking(tx: &mut Tx, b: &$crate::goods::Booking) -> Result<()> {
                // Locks in booking's order everywhere: the enterprise's day counter, then the slot
                // counter, then the booking row (and the audit head last). Two orders deadlock.
                sqlx::query("UPDATE enterprise_day SET used = used - 1 WHERE (enterprise_code, day) IN (SELECT enterprise_code, day FROM bookings WHERE id = $1) AND used > 0")
                    .bind(b.id).execute(&mut **tx).await.map_err(db_err)?;
                sqlx::query("UPDATE slot_usage SET used = used - 1 WHERE gate_pair_id = $1 AND direction = $2 AND hour_us = $3 AND bucket = $4 AND used > 0")
                    .bind(&b.gate_pair).bind(&b.direction).bind(b.hour.as_micros()).bind(b.bucket.code()).execute(&mut **tx).await.map_err(db_err)?;
                sqlx::query("UPDATE bookings SET status = 'cancelled' WHERE id = $1").bind(b.id).execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            const TRIP_COLS: &str = "id, declaration_id, gate_pair_id, direction, enterprise_code, plate, plate_country, lane_class, commodity, slot_us, spoils_at_us, status, joined_at_us, yard_at_us, called_at_us, call_deadline_us, calls, lane_id, channel, channel_reason, steps_json, eta_us, lat, lon, position_at_us, fee_amount, fee_currency, fee_receipt, updated_at_us";

            fn trip_rec(r: &<$db as sqlx::Database>::Row) -> Result<$crate::trips::TripRecord> {
                use cuakhau_core::goods::parties::Plate;
                let g = |e: sqlx::Error| db_err(e);
                let bad = |e: cuakhau_core::FieldError| StoreError::Corrupt(format!("trip: {e}"));
                let ts = |k: &str| -> Result<Option<Timestamp>> { Ok(r.try_get::<Option<i64>, _>(k).map_err(g)?.map(Timestamp)) };
                let s = |k: &str| -> Result<String> { r.try_get::<String, _>(k).map_err(g) };
                let direction = cuakhau_core::Direction::parse("direction", &s("direction")?).map_err(bad)?;
                let channel_code = s("channel")?;
                let channel = cuakhau_core::goods::Channel::parse(&channel_code).ok_or_else(|| StoreError::Corrupt(format!("channel {channel_code}")))?;
                let status_code = s("status")?;
                let lat: Option<f64> = r.try_get("lat").map_err(g)?;
                let lon: Option<f64> = r.try_get("lon").map_err(g)?;
                let fee_amount: Option<f64> = r.try_get("fee_amount").map_err(g)?;
                Ok($crate::trips::TripRecord {
                    id: r.try_get("id").map_err(g)?,
                    declaration_id: r.try_get("declaration_id").map_err(g)?,
                    gate_pair: GatePairId::parse(&s("gate_pair_id")?).map_err(bad)?,
                    direction,
                    enterprise: s("enterprise_code")?,
                    plate: Plate::parse(&s("plate")?, Side::parse("plate_country", &s("plate_country")?).map_err(bad)?).map_err(bad)?,
                    class: cuakhau_core::refdata::LaneClass::parse("lane_class", &s("lane_class")?).map_err(bad)?,
                    commodity: s("commodity")?,
                    slot: ts("slot_us")?,
                    spoils_at: ts("spoils_at_us")?,
                    status: cuakhau_core::goods::gate::TripStatus::parse(&status_code).ok_or_else(|| StoreError::Corrupt(format!("trip status {status_code}")))?,
                    joined_at: Timestamp(r.try_get("joined_at_us").map_err(g)?),
                    yard_at: ts("yard_at_us")?,
                    called_at: ts("called_at_us")?,
                    call_deadline: ts("call_deadline_us")?,
                    calls: r.try_get::<i64, _>("calls").map_err(g)? as u32,
                    lane: r.try_get("lane_id").map_err(g)?,
                    trip: $crate::trips::steps_from_json(direction, channel, &s("steps_json")?)?,
                    channel_reason: s("channel_reason")?,
                    eta: ts("eta_us")?,
                    position: match (lat, lon, ts("position_at_us")?) {
                        (Some(lat), Some(lon), Some(at)) => Some($crate::trips::Position { lat, lon, at }),
                        _ => None,
                    },
                    fee: match fee_amount {
                        Some(amount) => Some($crate::trips::Fee {
                            amount,
                            currency: r.try_get::<Option<String>, _>("fee_currency").map_err(g)?.unwrap_or_default(),
                            receipt: r.try_get::<Option<String>, _>("fee_receipt").map_err(g)?.unwrap_or_default(),
                        }),
                        None => None,
                    },
                    updated_at: Timestamp(r.try_get("updated_at_us").map_err(g)?),
                })
            }

            async fn read_trip(ex: &mut Conn, id: i64) -> Result<Option<$crate::trips::TripRecord>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TRIP_COLS} FROM trips WHERE id = $1"))).bind(id).fetch_optional(&mut *ex).await.map_err(db_err)?;
                row.map(|r| trip_rec(&r)).transpose()
            }

            async fn queue_notification(tx: &mut Tx, trip: &$crate::trips::TripRecord, kind: &str, at: Timestamp) -> Result<()> {
                let payload = $crate::serde_json::json!({
                    "event": kind, "trip": trip.id, "declaration": trip.declaration_id, "gate_pair": trip.gate_pair.as_str(),
                    "direction": trip.direction.code(), "plate": trip.plate.display, "lane": trip.lane,
                    "deadline": trip.call_deadline.map(|d| d.to_rfc3339()),
                    "deadline_local": trip.call_deadline.map(|d| d.to_rfc3339_in(trip.direction.exit_side().zone())),
                }).to_string();
                sqlx::query("INSERT INTO notifications (trip_id, kind, payload_json, created_at_us, next_attempt_us) VALUES ($1, $2, $3, $4, $4)")
                    .bind(trip.id).bind(kind).bind(payload).bind(at.as_micros()).execute(&mut **tx).await.map_err(db_err)?;
                Ok(())
            }

            #[async_trait::async_trait]
            impl $crate::Store for $store {
                fn engine(&self) -> &'static str { $engine }

                async fn is_empty(&self) -> Result<bool> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gate_pairs").fetch_one(&self.pool).await.map_err(db_err)?;
                    Ok(n == 0)
                }

                async fn load_reference(&self, data: &ReferenceData, actor: Actor<'_>) -> Result<LoadReport> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let stored = read_reference(&mut *tx).await?;
                        let merged = $crate::plan::merged(&stored, data);
                        merged.check().map_err(|e| StoreError::Conflict(format!("{} row {}: {}", e.table, e.index + 1, e.error)))?;
                        let plan = plan_load(&stored, data);
                        let mut report = LoadReport { unchanged: plan.unchanged, ..Default::default() };
                        for w in plan.writes {
                            let (entity, before, after, inserted) = match &w {
                                Write::Province { new, old } => { write_province(&mut tx, new).await?;
                                    (format!("province/{}", new.id.as_str()), old.as_ref().map(snapshot::province), snapshot::province(new), old.is_none()) }
                                Write::Pairing { new, old } => { write_pairing(&mut tx, new).await?;
                                    (format!("pairing/{}/{}", new.vn_province.as_str(), new.cn_province.as_str()), old.as_ref().map(snapshot::pairing), snapshot::pairing(new), old.is_none()) }
                                Write::GatePair { new, old } => { write_gate_pair(&mut tx, new).await?;
                                    (format!("gate-pair/{}", new.id.as_str()), old.as_ref().map(snapshot::gate_pair), snapshot::gate_pair(new), old.is_none()) }
                                Write::Lane { new, old } => { write_lane(&mut tx, new).await?;
                                    (format!("lane/{}", new.id.as_str()), old.as_ref().map(snapshot::lane), snapshot::lane(new), old.is_none()) }
                            };
                            if inserted { report.inserted += 1 } else { report.updated += 1 }
                            audit(&mut tx, &actor, None, if inserted { "reference.insert" } else { "reference.update" }, entity, before, Some(after)).await?;
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(report)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn reference(&self) -> Result<ReferenceData> {
                    read_reference(&mut *self.pool.acquire().await.map_err(db_err)?).await
                }

                async fn gate_pair(&self, id: &GatePairId) -> Result<Option<GatePair>> {
                    read_pair(&mut *self.pool.acquire().await.map_err(db_err)?, id.as_str()).await
                }

                async fn update_gate_hours(&self, id: &GatePairId, side: Side, change: GateHoursChange, actor: Actor<'_>) -> Result<GatePair> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let before = read_pair(&mut *tx, id.as_str()).await?.ok_or_else(|| StoreError::NotFound(format!("gate pair {}", id.as_str())))?;
                        let mut after = before.clone();
                        after.gate_mut(side).hours = change.hours.clone();
                        if after != before {
                            write_gate_pair(&mut tx, &after).await?;
                            audit(&mut tx, &actor, Some(id.as_str()), "gate.hours", format!("gate-pair/{}/{}", id.as_str(), side.code()),
                                  Some(snapshot::gate_pair(&before)), Some(snapshot::gate_pair(&after))).await?;
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(after)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn lane(&self, id: &LaneId) -> Result<Option<Lane>> {
                    read_lane(&self.pool, id.as_str()).await
                }

                async fn put_lane(&self, lane: &Lane, actor: Actor<'_>) -> Result<Lane> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        if read_pair(&mut *tx, lane.gate_pair.as_str()).await?.is_none() {
                            return Err(StoreError::NotFound(format!("gate pair {}", lane.gate_pair.as_str())));
                        }
                        let old = read_lane(&mut *tx, lane.id.as_str()).await?;
                        if old.as_ref() != Some(lane) {
                            write_lane(&mut tx, lane).await?;
                            audit(&mut tx, &actor, Some(lane.gate_pair.as_str()), if old.is_some() { "lane.update" } else { "lane.create" }, format!("lane/{}", lane.id.as_str()),
                                  old.as_ref().map(snapshot::lane), Some(snapshot::lane(lane))).await?;
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(lane.clone())
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn create_user(&self, user: NewUser, actor: Actor<'_>) -> Result<User> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    let row = sqlx::query("INSERT INTO users (username, display_name, password_hash, roles, created_at_us) VALUES ($1, $2, $3, $4, $5)
                                           RETURNING id, username, display_name, roles, created_at_us, disabled_at_us")
                        .bind(&user.username).bind(&user.display_name).bind(&user.password_hash).bind(records::roles_text(&user.roles)).bind(actor.at.as_micros())
                        .fetch_one(&mut *tx).await.map_err(|e| match db_err(e) {
                            StoreError::Conflict(_) => StoreError::Conflict(format!("user name '{}' is taken", user.username)),
                            other => other,
                        })?;
                    let created = user_rec(&row).map_err(db_err)?.into_domain()?;
                    audit(&mut tx, &actor, None, "user.create", format!("user/{}", created.username), None, Some(snapshot::user(&created))).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(created)
                }

                async fn list_users(&self) -> Result<Vec<User>> {
                    sqlx::query("SELECT id, username, display_name, roles, created_at_us, disabled_at_us FROM users ORDER BY username")
                        .fetch_all(&self.pool).await.map_err(db_err)?
                        .iter().map(|r| user_rec(r).map_err(db_err).and_then(UserRec::into_domain)).collect()
                }

                async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
                    read_user(&self.pool, username).await
                }

                async fn set_password(&self, username: &str, password_hash: &str, actor: Actor<'_>) -> Result<()> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
                        .bind(password_hash).bind(username).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                    if n == 0 { return Err(StoreError::NotFound(format!("user {username}"))); }
                    // A new password ends every session of that user.
                    sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)")
                        .bind(username).execute(&mut *tx).await.map_err(db_err)?;
                    audit(&mut tx, &actor, None, "user.password", format!("user/{username}"), None, None).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(())
                }

                async fn create_session(&self, token_hash: &str, user_id: i64, expires_at: Timestamp, actor: Actor<'_>) -> Result<()> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash).bind(user_id).bind(actor.at.as_micros()).bind(expires_at.as_micros())
                        .execute(&mut *tx).await.map_err(db_err)?;
                    audit(&mut tx, &actor, None, "session.login", format!("user/{}", actor.name), None, None).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(())
                }

                async fn record_failed_login(&self, username: &str, actor: Actor<'_>) -> Result<()> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    audit(&mut tx, &actor, None, "session.login-failed", format!("user/{username}"), None, None).await?;
                    tx.commit().await.map_err(db_err)
                }

                async fn update_user(&self, username: &str, change: $crate::UserChange, actor: Actor<'_>) -> Result<User> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    let (before, _) = read_user(&mut *tx, username).await?.ok_or_else(|| StoreError::NotFound(format!("user {username}")))?;
                    if let Some(roles) = &change.roles {
                        sqlx::query("UPDATE users SET roles = $1 WHERE username = $2")
                            .bind(records::roles_text(roles)).bind(username).execute(&mut *tx).await.map_err(db_err)?;
                    }
                    match change.disabled {
                        Some(true) if !before.disabled => {
                            sqlx::query("UPDATE users SET disabled_at_us = $1 WHERE username = $2")
                                .bind(actor.at.as_micros()).bind(username).execute(&mut *tx).await.map_err(db_err)?;
                            // A disabled account's sessions end with it, in the same transaction.
                            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(before.id).execute(&mut *tx).await.map_err(db_err)?;
                        }
                        Some(false) if before.disabled => {
                            sqlx::query("UPDATE users SET disabled_at_us = NULL WHERE username = $1")
                                .bind(username).execute(&mut *tx).await.map_err(db_err)?;
                        }
                        _ => {}
                    }
                    let (after, _) = read_user(&mut *tx, username).await?.ok_or_else(|| StoreError::NotFound(format!("user {username}")))?;
                    audit(&mut tx, &actor, None, "user.update", format!("user/{username}"),
                          Some($crate::serde_json::json!({"roles": records::roles_text(&before.roles), "disabled": before.disabled}).to_string()),
                          Some($crate::serde_json::json!({"roles": records::roles_text(&after.roles), "disabled": after.disabled}).to_string())).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(after)
                }

                async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
                    let row = sqlx::query("SELECT u.id, u.username, u.display_name, u.roles, u.created_at_us, u.disabled_at_us FROM sessions s JOIN users u ON u.id = s.user_id
                                           WHERE s.token_hash = $1 AND s.expires_at_us > $2 AND u.disabled_at_us IS NULL")
                        .bind(token_hash).bind(now.as_micros()).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.map(|r| user_rec(&r).map_err(db_err).and_then(UserRec::into_domain)).transpose()
                }

                async fn delete_session(&self, token_hash: &str, actor: Actor<'_>) -> Result<bool> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    let n = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                    if n > 0 {
                        audit(&mut tx, &actor, None, "session.logout", format!("user/{}", actor.name), None, None).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(n > 0)
                }


                async fn create_declaration(&self, d: $crate::goods::NewDeclaration, actor: Actor<'_>) -> Result<$crate::goods::DeclarationRecord> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let d = d.clone();
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        if read_pair(&mut *tx, d.gate_pair.as_str()).await?.is_none() {
                            return Err(StoreError::NotFound(format!("gate pair {}", d.gate_pair.as_str())));
                        }
                        let now = actor.at.as_micros();
                        let id: i64 = sqlx::query_scalar("INSERT INTO declarations (enterprise_code, gate_pair_id, direction, plate, plate_key, plate_country, vehicle_kind,
                            driver_name, driver_nationality, driver_document_no, consignments_json, state, version, created_at_us, updated_at_us, track_code)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', 1, $12, $12, $13) RETURNING id")
                            .bind(d.enterprise.as_str()).bind(d.gate_pair.as_str()).bind(d.direction.code()).bind(&d.plate.display).bind(&d.plate.key)
                            .bind(d.plate.country.code()).bind(d.vehicle_kind.code()).bind(d.driver.as_ref().map(|x| x.name.clone()))
                            .bind(d.driver.as_ref().map(|x| x.nationality.code())).bind(d.driver.as_ref().map(|x| x.document_no.clone()))
                            .bind($crate::goods::consignments_json(&d.consignments)).bind(now).bind(&d.track_code)
                            .fetch_one(&mut *tx).await.map_err(db_err)?;
                        let rec = read_decl(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the new declaration vanished".into()))?;
                        audit(&mut tx, &actor, Some(rec.gate_pair.as_str()), "declaration.create", format!("declaration/{id}"), None, Some($crate::goods::snapshot(&rec))).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(rec)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn declaration(&self, id: i64) -> Result<Option<$crate::goods::DeclarationRecord>> {
                    read_decl(&mut *self.pool.acquire().await.map_err(db_err)?, id).await
                }

                async fn declarations(&self, q: $crate::goods::DeclarationQuery<'_>) -> Result<Vec<$crate::goods::DeclarationRecord>> {
                    use cuakhau_core::auth::ReadScope;
                    // Every value is bound as a parameter; the SQL text holds only $n markers.
                    let mut text: Vec<String> = Vec::new();
                    let mut clauses: Vec<String> = Vec::new();
                    let mut ph = |v: String, text: &mut Vec<String>| { text.push(v); format!("${}", text.len()) };
                    let list = |vals: Vec<String>, text: &mut Vec<String>, ph: &mut dyn FnMut(String, &mut Vec<String>) -> String| {
                        vals.into_iter().map(|v| ph(v, text)).collect::<Vec<_>>().join(", ")
                    };
                    if let ReadScope::Only { enterprises, gate_pairs } = q.scope {
                        let mut any = Vec::new();
                        if !enterprises.is_empty() {
                            any.push(format!("enterprise_code IN ({})", list(enterprises.clone(), &mut text, &mut ph)));
                        }
                        if !gate_pairs.is_empty() {
                            any.push(format!("gate_pair_id IN ({})", list(gate_pairs.iter().map(|g| g.as_str().to_string()).collect(), &mut text, &mut ph)));
                        }
                        if any.is_empty() {
                            return Ok(Vec::new());
                        }
                        clauses.push(format!("({})", any.join(" OR ")));
                    }
                    if !q.states.is_empty() {
                        clauses.push(format!("state IN ({})", list(q.states.iter().map(|s| s.to_string()).collect(), &mut text, &mut ph)));
                    }
                    if let Some(g) = q.gate_pair {
                        clauses.push(format!("gate_pair_id = {}", ph(g.as_str().to_string(), &mut text)));
                    }
                    if let Some(d) = q.direction {
                        clauses.push(format!("direction = {}", ph(d.code().to_string(), &mut text)));
                    }
                    let n = text.len();
                    let mut sql = format!("SELECT {DECL_COLS} FROM declarations WHERE id < ${}", n + 1);
                    for c in &clauses {
                        sql.push_str(" AND ");
                        sql.push_str(c);
                    }
                    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 2));
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for v in text {
                        query = query.bind(v);
                    }
                    let rows = query.bind(q.before.unwrap_or(i64::MAX)).bind(q.limit as i64).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(decl_rec).collect()
                }

                async fn declaration_event(&self, id: i64, event: cuakhau_core::goods::declaration::DeclEvent, actor: Actor<'_>) -> Result<$crate::goods::DeclarationRecord> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let event = event.clone();
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let before = read_decl(&mut *tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("declaration {id}")))?;
                        let action = format!("declaration.{}", match &event {
                            cuakhau_core::goods::declaration::DeclEvent::Submit => "submit",
                            cuakhau_core::goods::declaration::DeclEvent::Accept { .. } => "accept",
                            cuakhau_core::goods::declaration::DeclEvent::Reject { .. } => "reject",
                            cuakhau_core::goods::declaration::DeclEvent::Amend { .. } => "amend",
                            cuakhau_core::goods::declaration::DeclEvent::Cancel => "cancel",
                        });
                        // Where the truck stands decides first: once called, the declaration never changes.
                        let trip: Option<(i64, String)> = sqlx::query_as("SELECT id, status FROM trips WHERE declaration_id = $1")
                            .bind(id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                        let trip_status = trip.as_ref().map(|(_, s)| cuakhau_core::goods::gate::TripStatus::parse(s)
                            .ok_or_else(|| StoreError::Corrupt(format!("trip {} has status {s:?}", id)))).transpose()?;
                        let trip_next = cuakhau_core::goods::gate::declaration_change(&event, trip_status)
                            .map_err(|e| StoreError::Refused(cuakhau_core::goods::Refusal::TripLocked(e)))?;
                        let next = before.declaration.apply(event).map_err(|e| StoreError::Refused(cuakhau_core::goods::Refusal::Transition(e)))?;
                        if let (Some(status), Some((trip_id, old))) = (trip_next, &trip) {
                            sqlx::query("UPDATE trips SET status = $1, updated_at_us = $2 WHERE id = $3")
                                .bind(status.code()).bind(actor.at.as_micros()).bind(trip_id).execute(&mut *tx).await.map_err(db_err)?;
                            audit(&mut tx, &actor, Some(before.gate_pair.as_str()), "trip.withdraw", format!("trip/{trip_id}"),
                                  Some($crate::serde_json::json!({"status": old}).to_string()),
                                  Some($crate::serde_json::json!({"status": status.code()}).to_string())).await?;
                        }
                        let (state, reasons, accepted, valid) = $crate::goods::state_columns(&next.state);
                        sqlx::query("UPDATE declarations SET state = $1, version = $2, reasons_json = $3, accepted_at_us = $4, valid_until_us = $5, consignments_json = $6, updated_at_us = $7 WHERE id = $8")
                            .bind(state).bind(next.version as i64).bind(reasons).bind(accepted).bind(valid)
                            .bind($crate::goods::consignments_json(&next.consignments)).bind(actor.at.as_micros()).bind(id)
                            .execute(&mut *tx).await.map_err(db_err)?;
                        // Leaving `accepted` gives up the slot the declaration held.
                        if !matches!(next.state, cuakhau_core::goods::DeclState::Accepted { .. }) {
                            if let Some(b) = read_live_booking(&mut *tx, id).await? {
                                release_booking(&mut tx, &b).await?;
                                audit(&mut tx, &actor, Some(b.gate_pair.as_str()), "slot.release", format!("booking/{}", b.id), None,
                                      Some($crate::serde_json::json!({"declaration": id, "reason": action}).to_string())).await?;
                            }
                        }
                        let after = read_decl(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the declaration vanished".into()))?;
                        audit(&mut tx, &actor, Some(before.gate_pair.as_str()), &action, format!("declaration/{id}"), Some($crate::goods::snapshot(&before)), Some($crate::goods::snapshot(&after))).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(after)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn book_slot(&self, req: $crate::goods::BookingRequest<'_>, actor: Actor<'_>) -> Result<$crate::goods::BookingOutcome> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        use $crate::goods::BookingOutcome;
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let d = read_decl(&mut *tx, req.declaration_id).await?.ok_or_else(|| StoreError::NotFound(format!("declaration {}", req.declaration_id)))?;
                        if !d.declaration.is_valid_at(actor.at) {
                            return Ok(BookingOutcome::NotBookable(format!("the declaration is {} or its validity has run out", d.declaration.state.code())));
                        }
                        // No read for an existing booking: the partial unique index on live bookings refuses a
                        // second one at the insert below, and the transaction is then dropped (rolled back).
                        // One statement each: create the counter at 1, or add 1 while below the limit.
                        let day_ok = req.per_day_limit > 0 && sqlx::query("INSERT INTO enterprise_day (enterprise_code, day, used) VALUES ($1, $2, 1)
                                         ON CONFLICT (enterprise_code, day) DO UPDATE SET used = enterprise_day.used + 1 WHERE enterprise_day.used < $3 RETURNING used")
                            .bind(&d.enterprise).bind(&req.day).bind(req.per_day_limit as i64).fetch_optional(&mut *tx).await.map_err(db_err)?.is_some();
                        if !day_ok {
                            return Ok(BookingOutcome::DailyLimitReached);
                        }
                        for b in req.candidates {
                            let cap = req.capacity.of(*b) as i64;
                            if cap == 0 {
                                continue;
                            }
                            let got = sqlx::query("INSERT INTO slot_usage (gate_pair_id, direction, hour_us, bucket, capacity, used) VALUES ($1, $2, $3, $4, $5, 1)
                                         ON CONFLICT (gate_pair_id, direction, hour_us, bucket) DO UPDATE SET used = slot_usage.used + 1
                                         WHERE slot_usage.used < slot_usage.capacity RETURNING used")
                                .bind(d.gate_pair.as_str()).bind(d.direction.code()).bind(req.hour.as_micros()).bind(b.code()).bind(cap)
                                .fetch_optional(&mut *tx).await.map_err(db_err)?.map_or(0, |_| 1);
                            if got == 1 {
                                let inserted = sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO bookings (declaration_id, gate_pair_id, direction, hour_us, bucket, enterprise_code, day, status, created_at_us)
                                                       VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8) RETURNING {BOOKING_COLS}")))
                                    .bind(d.id).bind(d.gate_pair.as_str()).bind(d.direction.code()).bind(req.hour.as_micros()).bind(b.code())
                                    .bind(&d.enterprise).bind(&req.day).bind(actor.at.as_micros())
                                    .fetch_one(&mut *tx).await.map_err(db_err);
                                let row = match inserted {
                                    Ok(row) => row,
                                    Err(StoreError::Conflict(_)) => {
                                        drop(tx);
                                        let live = read_live_booking(&mut *self.pool.acquire().await.map_err(db_err)?, d.id).await?;
                                        return match live {
                                            Some(b) => Ok(BookingOutcome::AlreadyBooked(b)),
                                            None => Err(StoreError::Conflict(format!("declaration {} was booked and released meanwhile; try again", d.id))),
                                        };
                                    }
                                    Err(e) => return Err(e),
                                };
                                let booking = booking_rec(&row)?;
                                audit(&mut tx, &actor, Some(d.gate_pair.as_str()), "slot.book", format!("booking/{}", booking.id), None,
                                      Some($crate::serde_json::json!({"declaration": d.id, "gate_pair": d.gate_pair.as_str(), "direction": d.direction.code(),
                                                              "hour": req.hour.to_rfc3339(), "bucket": b.code()}).to_string())).await?;
                                tx.commit().await.map_err(db_err)?;
                                return Ok(BookingOutcome::Booked(booking));
                            }
                        }
                        // Dropping the transaction rolls back the daily counter too.
                        Ok(BookingOutcome::Full)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn cancel_booking(&self, booking_id: i64, actor: Actor<'_>) -> Result<$crate::goods::Booking> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BOOKING_COLS} FROM bookings WHERE id = $1 AND status = 'booked'")))
                            .bind(booking_id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                        let b = booking_rec(&row.ok_or_else(|| StoreError::NotFound(format!("live booking {booking_id}")))?)?;
                        release_booking(&mut tx, &b).await?;
                        audit(&mut tx, &actor, Some(b.gate_pair.as_str()), "slot.cancel", format!("booking/{booking_id}"), None, None).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok($crate::goods::Booking { status: "cancelled".into(), ..b })
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn live_booking(&self, declaration_id: i64) -> Result<Option<$crate::goods::Booking>> {
                    read_live_booking(&mut *self.pool.acquire().await.map_err(db_err)?, declaration_id).await
                }

                async fn slot_usage(&self, gate_pair: &GatePairId, direction: cuakhau_core::Direction, from: Timestamp, until: Timestamp) -> Result<Vec<$crate::goods::SlotUse>> {
                    let rows = sqlx::query("SELECT hour_us, bucket, capacity, used FROM slot_usage WHERE gate_pair_id = $1 AND direction = $2 AND hour_us >= $3 AND hour_us < $4 ORDER BY hour_us, bucket")
                        .bind(gate_pair.as_str()).bind(direction.code()).bind(from.as_micros()).bind(until.as_micros())
                        .fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(|r| {
                        let bucket: String = r.try_get("bucket").map_err(db_err)?;
                        Ok($crate::goods::SlotUse {
                            hour: Timestamp(r.try_get("hour_us").map_err(db_err)?),
                            bucket: cuakhau_core::goods::slots::Bucket::parse(&bucket).ok_or_else(|| StoreError::Corrupt(format!("bucket {bucket}")))?,
                            capacity: r.try_get::<i64, _>("capacity").map_err(db_err)? as u32,
                            used: r.try_get::<i64, _>("used").map_err(db_err)? as u32,
                        })
                    }).collect()
                }

                async fn add_suspension(&self, gate_pair: &GatePairId, su: &cuakhau_core::goods::slots::Suspension, actor: Actor<'_>) -> Result<i64> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        if read_pair(&mut *tx, gate_pair.as_str()).await?.is_none() {
                            return Err(StoreError::NotFound(format!("gate pair {}", gate_pair.as_str())));
                        }
                        let id: i64 = sqlx::query_scalar("INSERT INTO suspensions (gate_pair_id, side, from_us, until_us, preregistered_only, reason, created_at_us)
                                                          VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                            .bind(gate_pair.as_str()).bind(su.side.code()).bind(su.from.as_micros()).bind(su.until.as_micros())
                            .bind(su.preregistered_only).bind(&su.reason).bind(actor.at.as_micros())
                            .fetch_one(&mut *tx).await.map_err(db_err)?;
                        audit(&mut tx, &actor, Some(gate_pair.as_str()), "gate.suspend", format!("gate-pair/{}/{}", gate_pair.as_str(), su.side.code()), None,
                              Some($crate::serde_json::json!({"id": id, "from": su.from.to_rfc3339(), "until": su.until.to_rfc3339(),
                                                              "preregistered_only": su.preregistered_only, "reason": su.reason}).to_string())).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(id)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn suspensions(&self, gate_pair: &GatePairId, from: Timestamp, until: Timestamp) -> Result<Vec<(i64, cuakhau_core::goods::slots::Suspension)>> {
                    let rows = sqlx::query("SELECT id, side, from_us, until_us, preregistered_only, reason FROM suspensions
                                            WHERE gate_pair_id = $1 AND until_us > $2 AND from_us < $3 ORDER BY from_us, id")
                        .bind(gate_pair.as_str()).bind(from.as_micros()).bind(until.as_micros()).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(|r| {
                        let side: String = r.try_get("side").map_err(db_err)?;
                        Ok((r.try_get("id").map_err(db_err)?, cuakhau_core::goods::slots::Suspension {
                            side: Side::parse("side", &side).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                            from: Timestamp(r.try_get("from_us").map_err(db_err)?),
                            until: Timestamp(r.try_get("until_us").map_err(db_err)?),
                            preregistered_only: r.try_get("preregistered_only").map_err(db_err)?,
                            reason: r.try_get("reason").map_err(db_err)?,
                        }))
                    }).collect()
                }

                async fn join_queue(&self, t: $crate::trips::NewTrip, actor: Actor<'_>) -> Result<$crate::trips::TripRecord> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let t = t.clone();
                        use cuakhau_core::goods::gate::TripStatus;
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let d = read_decl(&mut *tx, t.declaration_id).await?.ok_or_else(|| StoreError::NotFound(format!("declaration {}", t.declaration_id)))?;
                        if !d.declaration.is_valid_at(actor.at) {
                            return Err(StoreError::Conflict(format!("declaration {} is {} or its validity has run out", d.id, d.declaration.state.code())));
                        }
                        if t.status == TripStatus::Yard {
                            let in_yard: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trips WHERE gate_pair_id = $1 AND direction = $2 AND status = 'yard'")
                                .bind(d.gate_pair.as_str()).bind(d.direction.code()).fetch_one(&mut *tx).await.map_err(db_err)?;
                            if in_yard >= t.yard_capacity as i64 {
                                return Err(StoreError::Conflict(format!("the yard is full ({} trucks)", t.yard_capacity)));
                            }
                        }
                        let existing: Option<(i64, String)> = sqlx::query_as("SELECT id, status FROM trips WHERE declaration_id = $1")
                            .bind(d.id).fetch_optional(&mut *tx).await.map_err(db_err)?;
                        let now = actor.at.as_micros();
                        let id = match existing {
                            Some((id, status)) if status == "virtual" && t.status == TripStatus::Yard => {
                                sqlx::query("UPDATE trips SET status = 'yard', yard_at_us = $1, updated_at_us = $1 WHERE id = $2")
                                    .bind(now).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                                id
                            }
                            Some((id, status)) => return Err(StoreError::Conflict(format!("declaration {} already has trip {id} ({status})", d.id))),
                            None => {
                                let yard_at = (t.status == TripStatus::Yard).then_some(now);
                                sqlx::query_scalar("INSERT INTO trips (declaration_id, gate_pair_id, direction, enterprise_code, plate, plate_key, plate_country,
                                        lane_class, commodity, slot_us, spoils_at_us, status, joined_at_us, yard_at_us, channel, channel_reason, steps_json, updated_at_us)
                                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $13) RETURNING id")
                                    .bind(d.id).bind(d.gate_pair.as_str()).bind(d.direction.code()).bind(&d.enterprise).bind(&d.plate.display)
                                    .bind(&d.plate.key).bind(d.plate.country.code()).bind(t.class.code()).bind(&t.commodity)
                                    .bind(t.slot.map(|x| x.as_micros())).bind(t.spoils_at.map(|x| x.as_micros())).bind(t.status.code())
                                    .bind(now).bind(yard_at).bind(t.trip.channel.code()).bind(&t.channel_reason).bind($crate::trips::steps_json(&t.trip))
                                    .fetch_one(&mut *tx).await.map_err(db_err)?
                            }
                        };
                        let rec = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the trip vanished".into()))?;
                        audit(&mut tx, &actor, Some(d.gate_pair.as_str()), if t.status == TripStatus::Yard { "trip.yard-check-in" } else { "trip.join-virtual-queue" },
                              format!("trip/{id}"), None, Some($crate::trips::snapshot(&rec))).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(rec)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn declaration_for_plate(&self, gate_pair: &GatePairId, plate_key: &str, now: Timestamp) -> Result<Option<$crate::goods::DeclarationRecord>> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DECL_COLS} FROM declarations WHERE gate_pair_id = $1 AND plate_key = $2
                            AND state = 'accepted' AND valid_until_us > $3
                            AND NOT EXISTS (SELECT 1 FROM trips t WHERE t.declaration_id = declarations.id AND t.status <> 'virtual') ORDER BY id DESC LIMIT 1")))
                        .bind(gate_pair.as_str()).bind(plate_key).bind(now.as_micros()).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.map(|r| decl_rec(&r)).transpose()
                }

                async fn trip(&self, id: i64) -> Result<Option<$crate::trips::TripRecord>> {
                    read_trip(&mut *self.pool.acquire().await.map_err(db_err)?, id).await
                }

                async fn trip_of_declaration(&self, declaration_id: i64) -> Result<Option<$crate::trips::TripRecord>> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TRIP_COLS} FROM trips WHERE declaration_id = $1")))
                        .bind(declaration_id).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.map(|r| trip_rec(&r)).transpose()
                }

                async fn trips(&self, q: $crate::trips::TripQuery<'_>) -> Result<Vec<$crate::trips::TripRecord>> {
                    // Statuses are our own codes, never user text: safe to inline. Gate pairs are bound.
                    let statuses = q.statuses.iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ");
                    let pairs: Vec<String> = q.gate_pairs.unwrap_or(&[]).iter().map(|g| g.as_str().to_string()).collect();
                    if q.gate_pairs.is_some() && pairs.is_empty() {
                        return Ok(Vec::new());
                    }
                    let pair_list = (0..pairs.len()).map(|i| format!("${}", i + 7)).collect::<Vec<_>>().join(", ");
                    let sql = format!("SELECT {TRIP_COLS} FROM trips WHERE ($1 IS NULL OR gate_pair_id = $1) AND ($2 IS NULL OR direction = $2)
                                       AND joined_at_us >= $3 AND joined_at_us < $4 AND id > $6 {} {} ORDER BY id LIMIT $5",
                                      if statuses.is_empty() { String::new() } else { format!("AND status IN ({statuses})") },
                                      if pairs.is_empty() { String::new() } else { format!("AND gate_pair_id IN ({pair_list})") });
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(q.gate_pair.map(|g| g.as_str().to_string())).bind(q.direction.map(|d| d.code()))
                        .bind(q.from.map_or(i64::MIN, |t| t.as_micros())).bind(q.until.map_or(i64::MAX, |t| t.as_micros()))
                        .bind(if q.limit == 0 { i64::MAX } else { q.limit as i64 })
                        .bind(q.after.unwrap_or(i64::MIN));
                    for p in pairs {
                        query = query.bind(p);
                    }
                    let rows = query.fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(trip_rec).collect()
                }

                async fn call_trips(&self, calls: &[cuakhau_core::goods::gate::Call], actor: Actor<'_>) -> Result<Vec<$crate::trips::TripRecord>> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let mut out = Vec::new();
                        for c in calls {
                            let id = c.truck.0 as i64;
                            let n = sqlx::query("UPDATE trips SET status = 'called', lane_id = $1, lane_hold = $1, called_at_us = $2, call_deadline_us = $3,
                                                 calls = calls + 1, updated_at_us = $2
                                                 WHERE id = $4 AND status IN ('yard', 'virtual') AND NOT EXISTS (SELECT 1 FROM trips t2 WHERE t2.lane_hold = $1)")
                                .bind(c.lane.as_str()).bind(actor.at.as_micros()).bind(c.deadline.as_micros()).bind(id)
                                .execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                            if n == 0 {
                                continue;
                            }
                            let rec = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the trip vanished".into()))?;
                            queue_notification(&mut tx, &rec, "your-turn", actor.at).await?;
                            audit(&mut tx, &actor, Some(rec.gate_pair.as_str()), "trip.call", format!("trip/{id}"), None,
                                  Some($crate::serde_json::json!({"lane": c.lane.as_str(), "deadline": c.deadline.to_rfc3339()}).to_string())).await?;
                            out.push(rec);
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(out)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn requeue_unanswered(&self, gate_pair: &GatePairId, now: Timestamp, actor: Actor<'_>) -> Result<Vec<i64>> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM trips WHERE gate_pair_id = $1 AND status = 'called' AND call_deadline_us <= $2 ORDER BY id")
                            .bind(gate_pair.as_str()).bind(now.as_micros()).fetch_all(&mut *tx).await.map_err(db_err)?;
                        for id in &ids {
                            sqlx::query("UPDATE trips SET status = CASE WHEN yard_at_us IS NULL THEN 'virtual' ELSE 'yard' END, lane_id = NULL, lane_hold = NULL,
                                         call_deadline_us = NULL, updated_at_us = $1 WHERE id = $2")
                                .bind(actor.at.as_micros()).bind(id).execute(&mut *tx).await.map_err(db_err)?;
                            audit(&mut tx, &actor, Some(gate_pair.as_str()), "trip.requeue", format!("trip/{id}"), None, Some("{\"reason\":\"call not answered in time\"}".into())).await?;
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(ids)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn trip_step(&self, id: i64, index: usize, officer: (Side, cuakhau_core::Agency), act: cuakhau_core::goods::clearance::Act,
                                   side_open: bool, actor: Actor<'_>)
                    -> Result<std::result::Result<$crate::trips::TripRecord, cuakhau_core::goods::clearance::ClearanceError>> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        use cuakhau_core::goods::gate::TripStatus;
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let before = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("trip {id}")))?;
                        if before.status.is_waiting() {
                            return Ok(Err(cuakhau_core::goods::clearance::ClearanceError::NotCurrent));
                        }
                        let mut trip = before.trip.clone();
                        if let Err(e) = trip.act(index, officer, act.clone(), actor.at, side_open) {
                            return Ok(Err(e));
                        }
                        let status = if trip.is_refused() { TripStatus::Refused } else if trip.is_cleared() { TripStatus::Done } else { TripStatus::Clearing };
                        // The lane is free again once the exit side has released the truck, or refused it.
                        let free_lane = trip.is_refused() || trip.exit_release().is_some();
                        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE trips SET status = $1, steps_json = $2, updated_at_us = $3, call_deadline_us = NULL {} WHERE id = $4",
                                            if free_lane { ", lane_hold = NULL" } else { "" })))
                            .bind(status.code()).bind($crate::trips::steps_json(&trip)).bind(actor.at.as_micros()).bind(id)
                            .execute(&mut *tx).await.map_err(db_err)?;
                        let after = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the trip vanished".into()))?;
                        let (step, _) = &after.trip.steps()[index];
                        let what = match &act {
                            cuakhau_core::goods::clearance::Act::Start => "start".to_string(),
                            cuakhau_core::goods::clearance::Act::Finish(o) => match o {
                                cuakhau_core::goods::Outcome::Pass => "pass".into(),
                                cuakhau_core::goods::Outcome::Hold { .. } => "hold".into(),
                                cuakhau_core::goods::Outcome::Refuse { .. } => "refuse".into(),
                            },
                        };
                        if status == TripStatus::Refused {
                            queue_notification(&mut tx, &after, "refused", actor.at).await?;
                        }
                        audit(&mut tx, &actor, Some(before.gate_pair.as_str()), &format!("trip.step.{what}"), format!("trip/{id}/step/{}", step.code()),
                              Some($crate::trips::snapshot(&before)), Some($crate::trips::snapshot(&after))).await?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(Ok(after))
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn record_fee(&self, id: i64, fee: &$crate::trips::Fee, actor: Actor<'_>) -> Result<$crate::trips::TripRecord> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let before = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("trip {id}")))?;
                        if let Some(f) = &before.fee {
                            return Err(StoreError::Conflict(format!("trip {id} already has fee receipt {}", f.receipt)));
                        }
                        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM trips WHERE fee_receipt = $1").bind(&fee.receipt)
                            .fetch_optional(&mut *tx).await.map_err(db_err)?;
                        if let Some(other) = taken {
                            return Err(StoreError::Conflict(format!("receipt {} is already recorded for trip {other}", fee.receipt)));
                        }
                        sqlx::query("UPDATE trips SET fee_amount = $1, fee_currency = $2, fee_receipt = $3, updated_at_us = $4 WHERE id = $5")
                            .bind(fee.amount).bind(&fee.currency).bind(&fee.receipt).bind(actor.at.as_micros()).bind(id)
                            .execute(&mut *tx).await.map_err(db_err)?;
                        audit(&mut tx, &actor, Some(before.gate_pair.as_str()), "trip.fee", format!("trip/{id}"), None,
                              Some($crate::serde_json::json!({"amount": fee.amount, "currency": fee.currency, "receipt": fee.receipt}).to_string())).await?;
                        let after = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::Backend("the trip vanished".into()))?;
                        tx.commit().await.map_err(db_err)?;
                        Ok(after)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn report_position(&self, id: i64, pos: $crate::trips::Position, eta: Option<Timestamp>, actor: Actor<'_>) -> Result<$crate::trips::TripRecord> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    let before = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("trip {id}")))?;
                    sqlx::query("UPDATE trips SET lat = $1, lon = $2, position_at_us = $3, eta_us = COALESCE($4, eta_us) WHERE id = $5")
                        .bind(pos.lat).bind(pos.lon).bind(pos.at.as_micros()).bind(eta.map(|e| e.as_micros())).bind(id)
                        .execute(&mut *tx).await.map_err(db_err)?;
                    // The ETA moves the truck in dispatch's eyes: who reported what is on record.
                    audit(&mut tx, &actor, Some(before.gate_pair.as_str()), "trip.position", format!("trip/{id}"),
                          Some($crate::serde_json::json!({"eta": before.eta.map(|e| e.to_rfc3339())}).to_string()),
                          Some($crate::serde_json::json!({"lat": pos.lat, "lon": pos.lon, "eta": eta.map(|e| e.to_rfc3339())}).to_string())).await?;
                    let after = read_trip(&mut *tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("trip {id}")))?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(after)
                }

                async fn release_no_shows(&self, gate_pair: &GatePairId, cutoff: Timestamp, actor: Actor<'_>) -> Result<Vec<$crate::goods::Booking>> {
                    // Run again while the engine reports contention (nothing of a failed attempt was kept).
                    let mut tries = 0;
                    loop {
                    let attempt: Result<_> = async {
                        let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BOOKING_COLS} FROM bookings b WHERE gate_pair_id = $2 AND status = 'booked' AND hour_us < $1
                                                AND NOT EXISTS (SELECT 1 FROM trips t WHERE t.declaration_id = b.declaration_id AND t.status <> 'virtual')
                                                ORDER BY id")))
                            .bind(cutoff.as_micros()).bind(gate_pair.as_str()).fetch_all(&mut *tx).await.map_err(db_err)?;
                        let mut out = Vec::new();
                        for r in &rows {
                            let b = booking_rec(r)?;
                            release_booking(&mut tx, &b).await?;
                            sqlx::query("UPDATE bookings SET status = 'no-show' WHERE id = $1").bind(b.id).execute(&mut *tx).await.map_err(db_err)?;
                            audit(&mut tx, &actor, Some(b.gate_pair.as_str()), "slot.no-show", format!("booking/{}", b.id), None,
                                  Some($crate::serde_json::json!({"declaration": b.declaration_id, "hour": b.hour.to_rfc3339()}).to_string())).await?;
                            out.push($crate::goods::Booking { status: "no-show".into(), ..b });
                        }
                        tx.commit().await.map_err(db_err)?;
                        Ok(out)
                    }.await;
                    match attempt {
                        Err(StoreError::Contention(_)) if tries < $crate::CONTENTION_RETRIES => tries += 1,
                        other => break other,
                    }
                    }
                }

                async fn due_notifications(&self, now: Timestamp, limit: u32) -> Result<Vec<$crate::trips::Notification>> {
                    let rows = sqlx::query("SELECT id, trip_id, kind, payload_json, attempts FROM notifications
                                            WHERE delivered_at_us IS NULL AND next_attempt_us <= $1 ORDER BY id LIMIT $2")
                        .bind(now.as_micros()).bind(limit as i64).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(|r| -> std::result::Result<_, sqlx::Error> {
                        Ok($crate::trips::Notification { id: r.try_get("id")?, trip_id: r.try_get("trip_id")?, kind: r.try_get("kind")?,
                            payload: r.try_get("payload_json")?, attempts: r.try_get::<i64, _>("attempts")? as u32 })
                    }).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
                }

                async fn notification_attempt(&self, id: i64, delivered: bool, error: Option<&str>, next_attempt: Timestamp, at: Timestamp) -> Result<()> {
                    sqlx::query("UPDATE notifications SET attempts = attempts + 1, delivered_at_us = $1, last_error = $2, next_attempt_us = $3 WHERE id = $4")
                        .bind(delivered.then_some(at.as_micros())).bind(error).bind(next_attempt.as_micros()).bind(id)
                        .execute(&self.pool).await.map_err(db_err)?;
                    Ok(())
                }

                async fn idempotency_claim(&self, scope: &str, request_hash: &str, now: Timestamp, stale_before: Timestamp)
                    -> Result<Option<(String, Option<(u16, String)>)>> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    sqlx::query("DELETE FROM idempotency WHERE scope = $1 AND status IS NULL AND created_at_us < $2")
                        .bind(scope).bind(stale_before.as_micros()).execute(&mut *tx).await.map_err(db_err)?;
                    let inserted = sqlx::query("INSERT INTO idempotency (scope, request_hash, created_at_us) VALUES ($1, $2, $3) ON CONFLICT (scope) DO NOTHING")
                        .bind(scope).bind(request_hash).bind(now.as_micros()).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                    let out = if inserted == 1 {
                        None
                    } else {
                        let row = sqlx::query("SELECT request_hash, status, body FROM idempotency WHERE scope = $1")
                            .bind(scope).fetch_one(&mut *tx).await.map_err(db_err)?;
                        let status: Option<i64> = row.try_get("status").map_err(db_err)?;
                        let body: Option<String> = row.try_get("body").map_err(db_err)?;
                        Some((row.try_get("request_hash").map_err(db_err)?, status.map(|s| (s as u16, body.unwrap_or_default()))))
                    };
                    tx.commit().await.map_err(db_err)?;
                    Ok(out)
                }

                async fn idempotency_finish(&self, scope: &str, answer: Option<(u16, &str)>) -> Result<()> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    match answer {
                        Some((status, body)) => sqlx::query("UPDATE idempotency SET status = $1, body = $2 WHERE scope = $3")
                            .bind(status as i64).bind(body).bind(scope).execute(&mut *tx).await.map_err(db_err)?,
                        None => sqlx::query("DELETE FROM idempotency WHERE scope = $1").bind(scope).execute(&mut *tx).await.map_err(db_err)?,
                    };
                    tx.commit().await.map_err(db_err)
                }

                async fn setting(&self, key: &str) -> Result<Option<String>> {
                    sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await.map_err(db_err)
                }

                async fn put_setting(&self, key: &str, value: &str, actor: Actor<'_>) -> Result<()> {
                    let (_gate, mut tx) = self.begin_write().await.map_err(db_err)?;
                    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                        .bind(key).bind(value).execute(&mut *tx).await.map_err(db_err)?;
                    audit(&mut tx, &actor, None, "setting.put", format!("setting/{key}"), None, Some(value.to_string())).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(())
                }

                async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
                    let rows = sqlx::query("SELECT seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash FROM audit_log
                                            WHERE seq > $1 ORDER BY seq LIMIT $2")
                        .bind(after).bind(limit as i64).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(audit_entry).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
                }

                async fn audit_page_scoped(&self, after: i64, limit: u32, gate_pairs: Option<&[GatePairId]>) -> Result<Vec<AuditEntry>> {
                    let pairs = gate_pairs.unwrap_or(&[]);
                    if gate_pairs.is_some() && pairs.is_empty() {
                        return Ok(Vec::new());
                    }
                    let filter = if gate_pairs.is_none() {
                        "gate_pair_id IS NOT NULL".to_string()
                    } else {
                        format!("gate_pair_id IN ({})", (0..pairs.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", "))
                    };
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash FROM audit_log
                                            WHERE seq > $1 AND {filter} ORDER BY seq LIMIT $2")))
                        .bind(after).bind(limit as i64);
                    for g in pairs {
                        q = q.bind(g.as_str());
                    }
                    let rows = q.fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(audit_entry).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
                }

                async fn business_rows(&self) -> Result<Vec<(String, $crate::serde_json::Value)>> {
                    let mut out = Vec::new();
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DECL_COLS} FROM declarations ORDER BY id"))).fetch_all(&self.pool).await.map_err(db_err)?;
                    for r in &rows {
                        let d = decl_rec(r)?;
                        let v = $crate::serde_json::from_str($crate::goods::snapshot(&d).as_str()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                        out.push((format!("declaration/{}", d.id), v));
                    }
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {BOOKING_COLS} FROM bookings ORDER BY id"))).fetch_all(&self.pool).await.map_err(db_err)?;
                    for r in &rows {
                        let b = booking_rec(r)?;
                        out.push((format!("booking/{}", b.id), $crate::ledger::booking_state(&b)));
                    }
                    Ok(out)
                }

                async fn audit_head(&self) -> Result<(i64, String)> {
                    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await.map_err(db_err)?;
                    Ok((r.try_get("seq").map_err(db_err)?, r.try_get("hash").map_err(db_err)?))
                }
            }
        }
    };
}
