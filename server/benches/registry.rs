//! Registry benchmark: name search and profile reads at national scale.
//!
//! Seeds N children (default 100 000, `BENCH_CHILDREN`) and M encounters
//! (default 1 000 000, `BENCH_ENCOUNTERS`) over the 31 provinces with bulk SQL,
//! then times, over `BENCH_QUERIES` (default 300) random queries each:
//!
//! - name search as the API does it ([`records::search`], limit 50) with a
//!   misspelt, Arabic-lettered variant of a seeded name, in a provincial and
//!   in the national scope;
//! - a profile read: [`records::read`] (audited) plus [`encounters::list`].
//!
//! Runs on SQLite (a temporary file) and, when `KUDAKYAR_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL database that is dropped afterwards.
//! Targets (issue 4): search p95 ≤ 50 ms, profile read p95 ≤ 10 ms.
//!
//! `BENCH_ONLY=sqlite` (or `postgres`) runs one backend; `BENCH_VERIFY=1`
//! checks every measured search against the search as it was before the
//! scoped trigram index ([`reference_search`]); `BENCH_KEEP=1` keeps the
//! seeded databases (the SQLite file, the PostgreSQL database) to inspect.
//! Seeding writes the rows the application writes (same tables, trigrams
//! from the registry's own functions) in large multi-row statements, with
//! durability relaxed on the seeding connection only.
//!
//! ```text
//! cargo bench -p kudakyar --bench registry
//! KUDAKYAR_TEST_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench -p kudakyar --bench registry
//! ```

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kudakyar::auth::{Actor, Scope};
use kudakyar::db::Db;
use kudakyar::db::sql::Sql;
use kudakyar::http::meta::RequestMeta;
use kudakyar::registry::{codes, encounters, names, records, store};
use kudakyar_api::children::{
    Birth, BirthPrecision, ChildFacts, Language, Nationality, NewEncounter, Service, Sex, WorkType,
};
use kudakyar_api::users::Role;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const POSTGRES_URL_VAR: &str = "KUDAKYAR_TEST_POSTGRES_URL";
/// Rows per multi-row INSERT stay under this many bound values (SQLite's
/// default limit is 32 766, PostgreSQL's 65 535).
const MAX_PARAMS: usize = 30_000;
const PROVINCES: i64 = 31;

const MALE: &[&str] = &[
    "محمد",
    "علی",
    "حسین",
    "حسن",
    "رضا",
    "مهدی",
    "امیر",
    "ابوالفضل",
    "امیرحسین",
    "امیرعلی",
    "محمدرضا",
    "محمدحسین",
    "علیرضا",
    "حمید",
    "سعید",
    "مجید",
    "جواد",
    "احمد",
    "محمود",
    "مصطفی",
    "مرتضی",
    "مجتبی",
    "عباس",
    "قاسم",
    "کاظم",
    "یوسف",
    "یعقوب",
    "اسماعیل",
    "ابراهیم",
    "موسی",
    "عیسی",
    "هادی",
    "سجاد",
    "صادق",
    "باقر",
    "جعفر",
    "نادر",
    "کریم",
    "رحیم",
    "رحمان",
    "ستار",
    "غلام",
    "نعمت",
    "عزیز",
    "داوود",
    "سلیمان",
    "یونس",
    "ایوب",
    "بهروز",
    "بهزاد",
    "فرهاد",
    "فرشید",
    "کامران",
    "کیوان",
    "آرش",
    "آرمان",
    "پویا",
    "پارسا",
    "سینا",
    "سامان",
    "عرفان",
    "ماهان",
    "آریا",
    "محسن",
    "میلاد",
    "نوید",
    "وحید",
    "یاسین",
    "طاها",
    "امید",
    "شهاب",
    "شایان",
    "دانیال",
    "بنیامین",
    "متین",
    "مهران",
    "کیان",
    "رامین",
    "روزبه",
    "سهیل",
    "بابک",
    "حامد",
    "ناصر",
    "منصور",
    "اکبر",
    "اصغر",
    "نبی",
    "نصرالله",
    "ذبیح‌الله",
    "عبدالله",
    "عبدالرحمن",
    "خلیل",
    "شریف",
    "ظاهر",
    "نجیب",
    "جمشید",
    "فرید",
    "وکیل",
    "حبیب",
    "رسول",
    "صابر",
    "یاسر",
];
const FEMALE: &[&str] = &[
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "معصومه",
    "سکینه",
    "خدیجه",
    "رقیه",
    "کلثوم",
    "طاهره",
    "نرگس",
    "نازنین",
    "ریحانه",
    "ستاره",
    "سارا",
    "سمیرا",
    "سمیه",
    "مهسا",
    "مینا",
    "نیلوفر",
    "یاسمن",
    "یسنا",
    "فاطیما",
    "حلما",
    "هستی",
    "آیدا",
    "الهام",
    "الناز",
    "پریسا",
    "پروانه",
    "شیرین",
    "لیلا",
    "مهتاب",
    "مهناز",
    "نسرین",
    "نگین",
    "هانیه",
    "کوثر",
    "محدثه",
    "حدیث",
    "حنانه",
    "ملیکا",
    "آتنا",
    "باران",
    "بهار",
    "ترانه",
    "تینا",
    "دریا",
    "رها",
    "رویا",
    "ساناز",
    "سحر",
    "سوگند",
    "شبنم",
    "شیما",
    "صبا",
    "طناز",
    "عسل",
    "غزل",
    "فرشته",
    "فریبا",
    "کیمیا",
    "گلناز",
    "گلاره",
    "لادن",
    "ماهرخ",
    "مرضیه",
    "منیژه",
    "نازیلا",
    "نسیم",
    "هاجر",
    "هدیه",
    "یگانه",
    "آمنه",
    "اعظم",
    "بتول",
    "جمیله",
    "حوا",
    "راضیه",
    "زلیخا",
    "شکریه",
    "صغری",
    "عایشه",
    "فرزانه",
    "ملالی",
    "نفیسه",
    "وجیهه",
    "پری‌گل",
    "گل‌افروز",
    "شکیلا",
    "ثریا",
    "مرسل",
    "فریده",
    "حمیده",
    "سعیده",
    "ناهید",
    "ژیلا",
    "مهری",
    "پروین",
    "شهلا",
];
/// Family names are built the way most are: a root and a suffix.
const FAMILY_ROOTS: &[&str] = &[
    "احمد",
    "رضا",
    "حسین",
    "محمد",
    "کریم",
    "رحیم",
    "قاسم",
    "جعفر",
    "عباس",
    "موسو",
    "صادق",
    "نور",
    "امین",
    "حیدر",
    "یوسف",
    "اکبر",
    "ابراهیم",
    "هاشم",
    "کاظم",
    "باقر",
    "نظر",
    "قربان",
    "رستم",
    "جهان",
    "شیر",
    "خدا",
    "الله",
    "ملک",
    "سلطان",
    "میر",
    "اسد",
    "غفار",
    "نصیر",
    "بهرام",
    "فرخ",
    "کیان",
    "طاهر",
    "شاکر",
    "صفر",
    "رجب",
];
const FAMILY_SUFFIXES: &[&str] = &["ی", "زاده", "پور", "نژاد", "یان"];
const ALIASES: &[&str] = &[
    "{} کوچولو",
    "{} کوچیک",
    "{} فال‌فروش",
    "{} گل‌فروش",
    "داداش {}",
    "{} جان",
    "{} افغانی",
    "{} چهارراهی",
];

fn family_names() -> Vec<String> {
    let mut out = BTreeSet::new();
    for root in FAMILY_ROOTS {
        for suffix in FAMILY_SUFFIXES {
            // رضا + ی → رضایی, as it is written.
            let name = if root.ends_with('ا') && *suffix == "ی" {
                format!("{root}یی")
            } else {
                format!("{root}{suffix}")
            };
            out.insert(name);
        }
    }
    out.into_iter().collect()
}

/// A UUIDv7 for a time in milliseconds, as `uuid::Uuid::now_v7` makes them.
fn time_uuid(rng: &mut StdRng, ms: i64) -> String {
    uuid::Builder::from_unix_timestamp_millis(ms as u64, &rng.r#gen())
        .into_uuid()
        .to_string()
}

const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// When the `i`th of `n` seeded children was registered: a second apart,
/// before any of the encounters.
fn created_at(now: i64, n: usize, i: usize) -> i64 {
    now - 2 * YEAR_MS - (n - i) as i64 * 1000
}

/// A value to bind.
#[derive(Clone)]
enum Value {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Float(f64),
}

struct Generated {
    id: String,
    province: i64,
    facts: ChildFacts,
}

fn child_facts(rng: &mut StdRng, families: &[String], province: i64) -> ChildFacts {
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
async fn insert_rows(
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

async fn seed(db: &Db, n: usize, m: usize) -> anyhow::Result<(String, Vec<Generated>)> {
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
                Value::Text(store::enum_str(&c.facts.sex)),
                Value::Text(store::enum_str(&c.facts.nationality)),
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
                set.extend(names::trigrams(&names::normalise(&name)));
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

/// A query someone might type for a seeded name: one letter dropped from a
/// longer word, Persian yeh and kaf typed as Arabic ي and ك.
fn misspelt(rng: &mut StdRng, name: &str) -> String {
    let mut words: Vec<Vec<char>> = name.split(' ').map(|w| w.chars().collect()).collect();
    let longest = (0..words.len())
        .max_by_key(|&i| words[i].len())
        .unwrap_or(0);
    if words[longest].len() >= 4 {
        let at = rng.gen_range(1..words[longest].len() - 1);
        words[longest].remove(at);
    }
    words
        .iter()
        .map(|w| w.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
        .replace('ی', "ي")
        .replace('ک', "ك")
}

fn actor(user_id: &str, scope: Scope) -> Actor {
    Actor {
        user_id: user_id.into(),
        username: "bench_admin".into(),
        role: match scope {
            Scope::National => Role::NationalAdmin,
            Scope::Province { .. } => Role::ProvincialStaff,
        },
        scope,
        token_hash: String::new(),
    }
}

/// The name search as it was before the scoped trigram index (commit
/// e05e52f): every candidate joined to its record before the cut. With
/// `BENCH_VERIFY=1` each measured search is checked against it.
async fn reference_search(db: &Db, scope: &Scope, name: &str, limit: usize) -> Vec<String> {
    let query = names::normalise(name);
    let grams: Vec<String> = names::trigrams(&query).into_iter().collect();
    if grams.is_empty() {
        return Vec::new();
    }
    let droppable = (records::NAME_THRESHOLD * grams.len() as f64 - 1e-9).ceil() as usize;
    let droppable = droppable.saturating_sub(1);
    let grams = if droppable == 0 {
        grams
    } else {
        let mut counted = Vec::new();
        for gram in grams {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM child_name_grams WHERE gram = $1 LIMIT {})
                 f",
                records::COMMON_GRAM
            ))
            .bind(&gram)
            .fetch_one(db.pool())
            .await
            .unwrap();
            counted.push((n, gram));
        }
        counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let common = counted
            .iter()
            .take_while(|(n, _)| *n >= records::COMMON_GRAM)
            .count();
        counted
            .into_iter()
            .skip(common.min(droppable))
            .map(|(_, g)| g)
            .collect()
    };
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM children c JOIN (SELECT g.child_id, COUNT(*) AS shared
         FROM child_name_grams g WHERE g.gram IN ",
        store::CHILD_COLUMNS
    ));
    sql.bind_list(grams)
        .push(" GROUP BY g.child_id) m ON m.child_id = c.id WHERE c.merged_into IS NULL");
    store::push_scope(&mut sql, scope);
    sql.push(" ORDER BY m.shared DESC, c.id LIMIT 500");
    let rows = sql.query().fetch_all(db.pool()).await.unwrap();
    let mut scored: Vec<(f64, String)> = rows
        .iter()
        .map(|r| store::child_from_row(r).unwrap())
        .map(|c| (names::best_match(&query, &store::all_names(&c.facts)), c.id))
        .filter(|(score, _)| *score >= records::NAME_THRESHOLD)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, id)| id).collect()
}

struct Stats {
    name: &'static str,
    samples: Vec<Duration>,
    found: usize,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        let mut s = self.samples.clone();
        s.sort();
        let i = ((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1;
        s[i].as_secs_f64() * 1000.0
    }
}

async fn measure(
    db: &Db,
    user_id: &str,
    children: &[Generated],
    queries: usize,
) -> anyhow::Result<Vec<Stats>> {
    let mut rng = StdRng::seed_from_u64(7);
    let meta = RequestMeta::default();
    let verify = std::env::var("BENCH_VERIFY").is_ok_and(|v| v == "1");
    let national = actor(user_id, Scope::National);
    let mut provincial = Stats {
        name: "search, provincial scope",
        samples: Vec::new(),
        found: 0,
    };
    let mut country = Stats {
        name: "search, national scope",
        samples: Vec::new(),
        found: 0,
    };
    let mut profile = Stats {
        name: "profile read + encounters",
        samples: Vec::new(),
        found: 0,
    };
    // Warm up the pool and caches a little, as a running server would be.
    for c in children.iter().take(20) {
        records::read(db, &national, &meta, &c.id).await?;
    }
    for _ in 0..queries {
        let c = children.choose(&mut rng).unwrap();
        let names = store::all_names(&c.facts);
        let name = names.choose(&mut rng).unwrap();
        let search = records::Search {
            name: Some(misspelt(&mut rng, name)),
            ..Default::default()
        };
        let local = actor(
            user_id,
            Scope::Province {
                province: c.facts.home_province.clone(),
                county: None,
            },
        );
        for (stats, who) in [(&mut provincial, &local), (&mut country, &national)] {
            let start = Instant::now();
            let found = records::search(db, who, &meta, &search, 50).await?;
            stats.samples.push(start.elapsed());
            if verify {
                let ids: Vec<String> = found.iter().map(|f| f.id.clone()).collect();
                let name = search.name.as_deref().unwrap_or_default();
                let expected = reference_search(db, &who.scope, name, 50).await;
                assert_eq!(
                    ids, expected,
                    "search for {name} differs from the reference"
                );
            }
            assert!(found.len() <= 50);
            stats.found += usize::from(found.iter().any(|f| f.id == c.id));
        }
        let start = Instant::now();
        let child = records::read(db, &local, &meta, &c.id).await?;
        let list = encounters::list(db, &local, &meta, &c.id).await?;
        profile.samples.push(start.elapsed());
        assert_eq!(child.id, c.id);
        profile.found += usize::from(list.len() == c_encounters(db, &c.id).await?);
    }
    Ok(vec![provincial, country, profile])
}

async fn c_encounters(db: &Db, id: &str) -> anyhow::Result<usize> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM encounters WHERE child_id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    Ok(n.min(1000) as usize)
}

async fn run(label: &str, db: &Db, n: usize, m: usize, queries: usize) -> anyhow::Result<()> {
    db.migrate().await?;
    let start = Instant::now();
    let (user_id, children) = seed(db, n, m).await?;
    let seeding = start.elapsed();
    eprintln!(
        "{label}: seeded in {:.1} s, measuring",
        seeding.as_secs_f64()
    );
    let stats = measure(db, &user_id, &children, queries).await?;
    println!();
    println!(
        "{label}: {n} children, {m} encounters, seeded in {:.1} s; {queries} queries each",
        seeding.as_secs_f64()
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9}  {:>7}",
        "measurement", "p50 ms", "p95 ms", "p99 ms", "hits"
    );
    for s in &stats {
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>9.2}  {:>3}/{}",
            s.name,
            s.pct(0.50),
            s.pct(0.95),
            s.pct(0.99),
            s.found,
            s.samples.len()
        );
    }
    println!("(hits: searches returning the seeded child; reads returning all its encounters)");
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average after measuring: {}", load.trim());
    }
    Ok(())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host = base[scheme_end..].split('/').next().unwrap_or_default();
    let mut out = format!("{}{}/{}", &base[..scheme_end], host, name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn env_usize(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let n = env_usize("BENCH_CHILDREN", 100_000);
    let m = env_usize("BENCH_ENCOUNTERS", 1_000_000);
    let queries = env_usize("BENCH_QUERIES", 300);

    // BENCH_ONLY=sqlite or postgres runs one backend; BENCH_KEEP=1 keeps the
    // seeded databases for a look with sqlite3 or psql afterwards.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");

    if only != "postgres" {
        let dir = tempfile::tempdir()?;
        let db = Db::open(None, dir.path()).await?;
        let sqlite = run("SQLite", &db, n, m, queries).await;
        db.close().await;
        if keep {
            println!("kept {}", dir.keep().join("kudakyar.db").display());
        }
        sqlite?;
    }
    if only == "sqlite" {
        return Ok(());
    }

    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        println!("\nPostgreSQL skipped: set {POSTGRES_URL_VAR} to run there too");
        return Ok(());
    };
    let name = format!("kudakyar_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Db::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await?;
    let result = async {
        let db = Db::connect(&with_database(&admin_url, &name)).await?;
        let r = run("PostgreSQL", &db, n, m, queries).await;
        db.close().await;
        r
    }
    .await;
    if keep {
        println!("kept PostgreSQL database {name}");
    } else {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(admin.pool())
            .await?;
    }
    admin.close().await;
    result
}
