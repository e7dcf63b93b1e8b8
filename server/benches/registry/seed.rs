//! Seeds the registry in bulk: children over the 31 provinces and their
//! encounters, written as the application writes them (same tables, trigrams
//! from the registry's own functions) in large multi-row statements.

use std::collections::BTreeSet;

use kudakyar::db::Db;
use kudakyar::registry::{codes, names as registry_names, store};
use kudakyar_api::children::{
    Birth, BirthPrecision, ChildFacts, Language, Nationality, NewEncounter, Service, Sex, WorkType,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::names::{ALIASES, FEMALE, MALE, family_names};

/// Rows per multi-row INSERT stay under this many bound values (SQLite's
/// default limit is 32 766, PostgreSQL's 65 535).
const MAX_PARAMS: usize = 30_000;
const PROVINCES: i64 = 31;

/// A UUIDv7 for a time in milliseconds, as `uuid::Uuid::now_v7` makes them.
pub fn time_uuid(rng: &mut StdRng, ms: i64) -> String {
    uuid::Builder::from_unix_timestamp_millis(ms as u64, &rng.r#gen())
        .into_uuid()
        .to_string()
}

pub const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// When the `i`th of `n` seeded children was registered: a second apart,
/// before any of the encounters.
pub fn created_at(now: i64, n: usize, i: usize) -> i64 {
    now - 2 * YEAR_MS - (n - i) as i64 * 1000
}

/// A value to bind.
#[derive(Clone)]
pub enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Float(f64),
}

pub struct Generated {
    pub id: String,
    pub province: i64,
    pub facts: ChildFacts,
}

pub fn child_facts(rng: &mut StdRng, families: &[String], province: i64) -> ChildFacts {
    let female = rng.gen_bool(0.35);
    let given = if female {
        FEMALE.choose(rng)
    } else {
        MALE.choose(rng)
    }
    .map(|s| s.to_string());
    let family = families.choose(rng).cloned();
    let mut aliases = Vec::new();
    for _ in 0..rng.gen_range(0..=2) {
        let pattern = ALIASES.choose(rng).unwrap();
        aliases.push(pattern.replace("{}", given.as_deref().unwrap_or("بچه")));
    }
    let nationality = if rng.gen_bool(0.4) {
        Nationality::Afghan
    } else {
        Nationality::Iranian
    };
    let work = [
        WorkType::StreetVending,
        WorkType::Begging,
        WorkType::WastePicking,
        WorkType::CarWindowWashing,
        WorkType::SellingFlowersOrPoems,
    ];
    let kinds = rng.gen_range(1..=2);
    ChildFacts {
        given_name: given,
        family_name: if rng.gen_bool(0.9) { family } else { None },
        father_name: rng
            .gen_bool(0.6)
            .then(|| MALE.choose(rng).unwrap().to_string()),
        aliases,
        sex: if female { Sex::Female } else { Sex::Male },
        birth: Some(Birth {
            precision: BirthPrecision::Estimated,
            date: None,
            year: None,
            estimated_age: Some(rng.gen_range(5..=17)),
        }),
        nationality,
        languages: if nationality == Nationality::Afghan {
            vec![Language::Dari, Language::Persian]
        } else {
            vec![Language::Persian]
        },
        national_code: None,
        foreign_id: None,
        work_types: work.choose_multiple(rng, kinds).copied().collect(),
        living_situation: None,
        school_status: None,
        risk_flags: Vec::new(),
        guardian: None,
        consent: None,
        home_province: format!("IR-{province:02}"),
        home_county: Some(format!("{province:02}{:02}", rng.gen_range(1..=12))),
        assigned_worker: None,
    }
}

/// Inserts `rows` (each a list of values) into `table` in multi-row
/// statements that stay under the parameter limit.
///
/// On SQLite the placeholders are anonymous `?`: SQLite looks numbered or
/// named ones up in a list, once per placeholder when the statement is
/// parsed and again when each value is bound, which makes a statement with
/// thousands of them cost quadratic time. Equal-sized chunks share one SQL
/// text, so sqlx prepares it once per connection.
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    table_and_columns: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    let per_statement = MAX_PARAMS / width;
    for chunk in rows.chunks(per_statement) {
        let mut sql = format!("INSERT INTO {table_and_columns} VALUES ");
        let mut n = 0;
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..width {
                if j > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${n}"));
                }
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for row in chunk {
            assert_eq!(row.len(), width);
            for value in row {
                query = match value {
                    Value::Text(v) => query.bind(v.as_str()),
                    Value::OptText(v) => query.bind(v.as_deref()),
                    Value::Int(v) => query.bind(*v),
                    Value::OptInt(v) => query.bind(*v),
                    Value::Float(v) => query.bind(*v),
                };
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn seed(db: &Db, n: usize, m: usize) -> anyhow::Result<(String, Vec<Generated>)> {
    let mut rng = StdRng::seed_from_u64(1405);
    let families = family_names();
    let now = kudakyar::now_ms();
    let year = codes::jalali_year_at(now);
    let user_id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, created_at)
         VALUES ($1, 'bench_admin', 'x', 'national_admin', $2)",
    )
    .bind(&user_id)
    .bind(now)
    .execute(db.pool())
    .await?;

    // Encounter times per child, drawn first so `last_seen_at` is known.
    // Uniformly spread, with a few children met far more often than most.
    let mut times: Vec<Vec<i64>> = vec![Vec::new(); n];
    let year_ms = YEAR_MS;
    for _ in 0..m {
        let i = if rng.gen_bool(0.1) {
            rng.gen_range(0..n.div_ceil(100))
        } else {
            rng.gen_range(0..n)
        };
        times[i].push(now - rng.gen_range(0..2 * year_ms));
    }

    let mut children = Vec::with_capacity(n);
    let mut sequences = vec![0_i64; PROVINCES as usize];
    for i in 0..n {
        let province = rng.gen_range(0..PROVINCES);
        let facts = child_facts(&mut rng, &families, province);
        // Ids as the server makes them (UUIDv7, in creation order), so the
        // seeding appends to the primary-key indexes.
        let id = time_uuid(&mut rng, created_at(now, n, i));
        sequences[province as usize] += 1;
        children.push(Generated {
            id,
            province,
            facts,
        });
    }

    // One connection for the whole seeding; on SQLite with a cache that holds
    // the database, so random-key index inserts do not thrash the disk.
    // Durability is relaxed for this connection while seeding (a crash would
    // only lose the benchmark's data) and restored before measuring.
    let mut conn = db.pool().acquire().await?;
    let sqlite = db.backend() == kudakyar::db::Backend::Sqlite;
    let (relax, restore): (&[&str], &[&str]) = if sqlite {
        (
            &["PRAGMA cache_size = -4000000", "PRAGMA synchronous = OFF"],
            &["PRAGMA cache_size = -2000", "PRAGMA synchronous = FULL"],
        )
    } else {
        (
            &["SET synchronous_commit = off"],
            &["SET synchronous_commit = on"],
        )
    };
    for pragma in relax {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    let batch = 5_000;
    let mut seq = vec![0_i64; PROVINCES as usize];
    for (b, chunk) in children.chunks(batch).enumerate() {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let (mut rows, mut versions, mut grams) = (Vec::new(), Vec::new(), Vec::new());
        for (k, c) in chunk.iter().enumerate() {
            let i = b * batch + k;
            seq[c.province as usize] += 1;
            let code = codes::registry_code(&c.facts.home_province, year, seq[c.province as usize]);
            let facts_json = serde_json::to_string(&c.facts)?;
            let created = created_at(now, n, i);
            let last_seen = times[i].iter().max().copied();
            rows.push(vec![
                Value::Text(c.id.clone()),
                Value::Text(code),
                Value::Text("active".into()),
                Value::Int(1),
                Value::Text(facts_json.clone()),
                Value::Text(store::digest(&c.facts)),
                Value::Text(c.facts.home_province.clone()),
                Value::OptText(c.facts.home_county.clone()),
                Value::Text(kudakyar::db::vocab::enum_str(&c.facts.sex)),
                Value::Text(kudakyar::db::vocab::enum_str(&c.facts.nationality)),
                Value::OptInt(store::birth_year(&c.facts, now)),
                Value::Text(store::work_types_column(&c.facts)),
                Value::Text(user_id.clone()),
                Value::Int(created),
                Value::Int(last_seen.unwrap_or(created)),
                Value::OptInt(last_seen),
            ]);
            versions.push(vec![
                Value::Text(c.id.clone()),
                Value::Int(1),
                Value::Text("active".into()),
                Value::Text(facts_json),
                Value::Text(user_id.clone()),
                Value::Int(created),
            ]);
            // Exactly as store::write_grams computes them.
            let mut set = BTreeSet::new();
            for name in store::all_names(&c.facts) {
                set.extend(registry_names::trigrams(&registry_names::normalise(&name)));
            }
            for gram in set {
                grams.push(vec![
                    Value::Text(gram),
                    Value::Text(c.id.clone()),
                    Value::Text(c.facts.home_province.clone()),
                    Value::OptText(c.facts.home_county.clone()),
                ]);
            }
        }
        insert_rows(
            &mut tx,
            sqlite,
            "children (id, registry_code, status, version, facts, create_digest, home_province,
                home_county, sex, nationality, birth_year, work_types, created_by, created_at,
                updated_at, last_seen_at)",
            16,
            rows,
        )
        .await?;
        insert_rows(
            &mut tx,
            sqlite,
            "child_versions (child_id, version, status, facts, changed_by, changed_at)",
            6,
            versions,
        )
        .await?;
        insert_rows(
            &mut tx,
            sqlite,
            "child_name_grams (gram, child_id, home_province, home_county)",
            4,
            grams,
        )
        .await?;
        tx.commit().await?;
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    for (p, last) in sequences.iter().enumerate() {
        sqlx::query(
            "INSERT INTO registry_sequences (province, jalali_year, last_value) VALUES ($1, $2, $3)",
        )
        .bind(format!("IR-{p:02}"))
        .bind(i64::from(year))
        .bind(*last)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    // Encounters in the order they happened, as a running registry gets them.
    eprintln!("children seeded; encounters next");
    let services = [Service::Food, Service::Clothing, Service::Counselling];
    let mut order: Vec<(i64, u32)> = times
        .iter()
        .enumerate()
        .flat_map(|(i, ts)| ts.iter().map(move |&t| (t, i as u32)))
        .collect();
    order.sort_unstable();
    for chunk in order.chunks(50_000) {
        let mut pending = Vec::with_capacity(chunk.len());
        for &(at, i) in chunk {
            let c = &children[i as usize];
            let id = time_uuid(&mut rng, at);
            let kinds = rng.gen_range(0..=2);
            let lat = 29.0 + rng.gen_range(0.0..8.0);
            let lng = 47.0 + rng.gen_range(0.0..12.0);
            let details = NewEncounter {
                id: Some(id.clone()),
                at: kudakyar::ms_to_rfc3339(at),
                lat,
                lng,
                accuracy_m: Some(15.0),
                activity: c.facts.work_types.first().copied(),
                accompanied_by_adult: Some(rng.gen_bool(0.3)),
                services: services.choose_multiple(&mut rng, kinds).copied().collect(),
                notes: rng
                    .gen_bool(0.3)
                    .then(|| "سر چهارراه، فال می‌فروخت".to_string()),
                next_follow_up: None,
                position_source: None,
                queued_at: None,
                iris_identification: None,
            };
            let json = serde_json::to_string(&details)?;
            pending.push(vec![
                Value::Text(id),
                Value::Text(c.id.clone()),
                Value::Text(user_id.clone()),
                Value::Int(at),
                Value::Float(lat),
                Value::Float(lng),
                Value::Text(store::digest(&(&c.id, &details))),
                Value::Text(json),
                Value::Int(at),
            ]);
        }
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        insert_rows(
            &mut tx,
            sqlite,
            "encounters (id, child_id, worker_id, at, lat, lng, create_digest, details, created_at)",
            9,
            pending,
        )
        .await?;
        tx.commit().await?;
    }
    for pragma in restore {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    // Fresh planner statistics (and on PostgreSQL the visibility map that
    // index-only scans rely on), as a long-running database would have.
    let analyze = if sqlite { "ANALYZE" } else { "VACUUM ANALYZE" };
    sqlx::query(analyze).execute(&mut *conn).await?;
    drop(conn);
    Ok((user_id, children))
}
