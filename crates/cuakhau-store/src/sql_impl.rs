//! The SQL implementation of [`crate::Store`], written once and stamped out per engine.
//!
//! Both engines accept the same statements (`$n` placeholders, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`); what differs — the pool type, how a write transaction starts and how the audit
//! head is locked — is passed in by each backend crate. This crate does not depend on sqlx: the
//! macro expands inside the backend crates, which do.

/// Implements `Store` for `$store`, which must have a `pool: sqlx::Pool<$db>` field and an
/// inherent `async fn begin_write(&self) -> Result<sqlx::Transaction<'static, $db>, sqlx::Error>`.
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
                    if d.is_unique_violation() {
                        return StoreError::Conflict(d.message().to_string());
                    }
                    if d.is_foreign_key_violation() {
                        return StoreError::Conflict(format!("refers to a row that does not exist: {}", d.message()));
                    }
                }
                StoreError::Backend(e.to_string())
            }

            async fn audit(tx: &mut Tx, actor: &Actor<'_>, action: &str, entity: String, before: Option<String>, after: Option<String>) -> Result<()> {
                let head = sqlx::query($lock_head).fetch_one(&mut **tx).await.map_err(db_err)?;
                let seq: i64 = head.try_get("seq").map_err(db_err)?;
                let hash: String = head.try_get("hash").map_err(db_err)?;
                let rec = AuditRecord { actor: actor.name.to_string(), at: actor.at, action: action.to_string(), entity, before, after };
                let e = seal(seq + 1, &hash, rec);
                sqlx::query("INSERT INTO audit_log (seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(e.seq).bind(&e.record.actor).bind(e.record.at.as_micros()).bind(&e.record.action).bind(&e.record.entity)
                    .bind(&e.record.before).bind(&e.record.after).bind(&e.prev_hash).bind(&e.hash)
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

            fn user_rec(r: &<$db as sqlx::Database>::Row) -> std::result::Result<UserRec, sqlx::Error> {
                Ok(UserRec { id: r.try_get("id")?, username: r.try_get("username")?, display_name: r.try_get("display_name")?,
                    roles: r.try_get("roles")?, created_at_us: r.try_get("created_at_us")? })
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
                let row = sqlx::query("SELECT id, username, display_name, roles, created_at_us, password_hash FROM users WHERE username = $1")
                    .bind(username).fetch_optional(ex).await.map_err(db_err)?;
                let Some(r) = row else { return Ok(None) };
                let hash: String = r.try_get("password_hash").map_err(db_err)?;
                Ok(Some((user_rec(&r).map_err(db_err)?.into_domain()?, hash)))
            }

            #[async_trait::async_trait]
            impl $crate::Store for $store {
                fn engine(&self) -> &'static str { $engine }

                async fn is_empty(&self) -> Result<bool> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM gate_pairs").fetch_one(&self.pool).await.map_err(db_err)?;
                    Ok(n == 0)
                }

                async fn load_reference(&self, data: &ReferenceData, actor: Actor<'_>) -> Result<LoadReport> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
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
                        audit(&mut tx, &actor, if inserted { "reference.insert" } else { "reference.update" }, entity, before, Some(after)).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(report)
                }

                async fn reference(&self) -> Result<ReferenceData> {
                    read_reference(&mut *self.pool.acquire().await.map_err(db_err)?).await
                }

                async fn gate_pair(&self, id: &GatePairId) -> Result<Option<GatePair>> {
                    read_pair(&mut *self.pool.acquire().await.map_err(db_err)?, id.as_str()).await
                }

                async fn update_gate_hours(&self, id: &GatePairId, side: Side, change: GateHoursChange, actor: Actor<'_>) -> Result<GatePair> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let before = read_pair(&mut *tx, id.as_str()).await?.ok_or_else(|| StoreError::NotFound(format!("gate pair {}", id.as_str())))?;
                    let mut after = before.clone();
                    after.gate_mut(side).hours = change.hours;
                    if after != before {
                        write_gate_pair(&mut tx, &after).await?;
                        audit(&mut tx, &actor, "gate.hours", format!("gate-pair/{}/{}", id.as_str(), side.code()),
                              Some(snapshot::gate_pair(&before)), Some(snapshot::gate_pair(&after))).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(after)
                }

                async fn lane(&self, id: &LaneId) -> Result<Option<Lane>> {
                    read_lane(&self.pool, id.as_str()).await
                }

                async fn put_lane(&self, lane: &Lane, actor: Actor<'_>) -> Result<Lane> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    if read_pair(&mut *tx, lane.gate_pair.as_str()).await?.is_none() {
                        return Err(StoreError::NotFound(format!("gate pair {}", lane.gate_pair.as_str())));
                    }
                    let old = read_lane(&mut *tx, lane.id.as_str()).await?;
                    if old.as_ref() != Some(lane) {
                        write_lane(&mut tx, lane).await?;
                        audit(&mut tx, &actor, if old.is_some() { "lane.update" } else { "lane.create" }, format!("lane/{}", lane.id.as_str()),
                              old.as_ref().map(snapshot::lane), Some(snapshot::lane(lane))).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(lane.clone())
                }

                async fn create_user(&self, user: NewUser, actor: Actor<'_>) -> Result<User> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let row = sqlx::query("INSERT INTO users (username, display_name, password_hash, roles, created_at_us) VALUES ($1, $2, $3, $4, $5)
                                           RETURNING id, username, display_name, roles, created_at_us")
                        .bind(&user.username).bind(&user.display_name).bind(&user.password_hash).bind(records::roles_text(&user.roles)).bind(actor.at.as_micros())
                        .fetch_one(&mut *tx).await.map_err(|e| match db_err(e) {
                            StoreError::Conflict(_) => StoreError::Conflict(format!("user name '{}' is taken", user.username)),
                            other => other,
                        })?;
                    let created = user_rec(&row).map_err(db_err)?.into_domain()?;
                    audit(&mut tx, &actor, "user.create", format!("user/{}", created.username), None, Some(snapshot::user(&created))).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(created)
                }

                async fn list_users(&self) -> Result<Vec<User>> {
                    sqlx::query("SELECT id, username, display_name, roles, created_at_us FROM users ORDER BY username")
                        .fetch_all(&self.pool).await.map_err(db_err)?
                        .iter().map(|r| user_rec(r).map_err(db_err).and_then(UserRec::into_domain)).collect()
                }

                async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
                    read_user(&self.pool, username).await
                }

                async fn set_password(&self, username: &str, password_hash: &str, actor: Actor<'_>) -> Result<()> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
                        .bind(password_hash).bind(username).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                    if n == 0 { return Err(StoreError::NotFound(format!("user {username}"))); }
                    // A new password ends every session of that user.
                    sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)")
                        .bind(username).execute(&mut *tx).await.map_err(db_err)?;
                    audit(&mut tx, &actor, "user.password", format!("user/{username}"), None, None).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(())
                }

                async fn create_session(&self, token_hash: &str, user_id: i64, expires_at: Timestamp, actor: Actor<'_>) -> Result<()> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at_us, expires_at_us) VALUES ($1, $2, $3, $4)")
                        .bind(token_hash).bind(user_id).bind(actor.at.as_micros()).bind(expires_at.as_micros())
                        .execute(&mut *tx).await.map_err(db_err)?;
                    audit(&mut tx, &actor, "session.login", format!("user/{}", actor.name), None, None).await?;
                    tx.commit().await.map_err(db_err)?;
                    Ok(())
                }

                async fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>> {
                    let row = sqlx::query("SELECT u.id, u.username, u.display_name, u.roles, u.created_at_us FROM sessions s JOIN users u ON u.id = s.user_id
                                           WHERE s.token_hash = $1 AND s.expires_at_us > $2")
                        .bind(token_hash).bind(now.as_micros()).fetch_optional(&self.pool).await.map_err(db_err)?;
                    row.map(|r| user_rec(&r).map_err(db_err).and_then(UserRec::into_domain)).transpose()
                }

                async fn delete_session(&self, token_hash: &str, actor: Actor<'_>) -> Result<bool> {
                    let mut tx = self.begin_write().await.map_err(db_err)?;
                    let n = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await.map_err(db_err)?.rows_affected();
                    if n > 0 {
                        audit(&mut tx, &actor, "session.logout", format!("user/{}", actor.name), None, None).await?;
                    }
                    tx.commit().await.map_err(db_err)?;
                    Ok(n > 0)
                }

                async fn audit_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
                    let rows = sqlx::query("SELECT seq, actor, at_us, action, entity, before_json, after_json, prev_hash, hash FROM audit_log
                                            WHERE seq > $1 ORDER BY seq LIMIT $2")
                        .bind(after).bind(limit as i64).fetch_all(&self.pool).await.map_err(db_err)?;
                    rows.iter().map(|r| -> std::result::Result<AuditEntry, sqlx::Error> {
                        Ok(AuditEntry {
                            seq: r.try_get("seq")?,
                            record: AuditRecord { actor: r.try_get("actor")?, at: Timestamp(r.try_get("at_us")?), action: r.try_get("action")?,
                                entity: r.try_get("entity")?, before: r.try_get("before_json")?, after: r.try_get("after_json")? },
                            prev_hash: r.try_get("prev_hash")?, hash: r.try_get("hash")?,
                        })
                    }).collect::<std::result::Result<Vec<_>, _>>().map_err(db_err)
                }

                async fn audit_head(&self) -> Result<(i64, String)> {
                    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await.map_err(db_err)?;
                    Ok((r.try_get("seq").map_err(db_err)?, r.try_get("hash").map_err(db_err)?))
                }
            }
        }
    };
}
