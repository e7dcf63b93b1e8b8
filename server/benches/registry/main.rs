//! Registry benchmark: name search and profile reads at national scale.
//!
//! Seeds N children (default 100 000, `BENCH_CHILDREN`) and M encounters
//! (default 1 000 000, `BENCH_ENCOUNTERS`) over the 31 provinces with bulk SQL,
//! then times, over `BENCH_QUERIES` (default 300) random queries each:
//!
//! - name search as the API does it ([`search::search`], limit 50) with a
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
//! Seeding ([`seed`]) writes the rows the application writes (same tables, trigrams
//! from the registry's own functions) in large multi-row statements, with
//! durability relaxed on the seeding connection only; the names come from
//! [`names`].
//!
//! ```text
//! cargo bench -p kudakyar --bench registry
//! KUDAKYAR_TEST_POSTGRES_URL=postgres://root@127.0.0.1:5432/test cargo bench -p kudakyar --bench registry
//! ```

use std::time::{Duration, Instant};

use kudakyar::audit::Origin;
use kudakyar::auth::{Actor, Scope};
use kudakyar::db::Db;
use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar::db::sql::Sql;
use kudakyar::registry::{encounters, names as registry_names, records, search, store};
use kudakyar_api::users::Role;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

mod names;
mod seed;

use names::misspelt;
use seed::{Generated, seed};

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
    let query = registry_names::normalise(name);
    let grams: Vec<String> = registry_names::trigrams(&query).into_iter().collect();
    if grams.is_empty() {
        return Vec::new();
    }
    let droppable = (search::NAME_THRESHOLD * grams.len() as f64 - 1e-9).ceil() as usize;
    let droppable = droppable.saturating_sub(1);
    let grams = if droppable == 0 {
        grams
    } else {
        let mut counted = Vec::new();
        for gram in grams {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM child_name_grams WHERE gram = $1 LIMIT {})
                 f",
                search::COMMON_GRAM
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
            .take_while(|(n, _)| *n >= search::COMMON_GRAM)
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
        .map(|c| {
            (
                registry_names::best_match(&query, &store::all_names(&c.facts)),
                c.id,
            )
        })
        .filter(|(score, _)| *score >= search::NAME_THRESHOLD)
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
    let origin = Origin::system();
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
        records::read(db, &national, &origin, &c.id).await?;
    }
    for _ in 0..queries {
        let c = children.choose(&mut rng).unwrap();
        let names = store::all_names(&c.facts);
        let name = names.choose(&mut rng).unwrap();
        let filters = search::Search {
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
            let found = search::search(db, who, &origin, &filters, 50).await?;
            stats.samples.push(start.elapsed());
            if verify {
                let ids: Vec<String> = found.iter().map(|f| f.id.clone()).collect();
                let name = filters.name.as_deref().unwrap_or_default();
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
        let child = records::read(db, &local, &origin, &c.id).await?;
        let list = encounters::list(db, &local, &origin, &c.id).await?;
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

    let Some(admin_url) = scratch::test_postgres_url("the registry bench") else {
        return Ok(());
    };
    let scratch = ScratchDatabase::create(&admin_url, "kudakyar_bench").await?;
    let result = async {
        let db = Db::connect(&scratch.url()).await?;
        let r = run("PostgreSQL", &db, n, m, queries).await;
        db.close().await;
        r
    }
    .await;
    if keep {
        println!("kept PostgreSQL database {}", scratch.name());
    } else {
        scratch.drop().await?;
    }
    result
}
