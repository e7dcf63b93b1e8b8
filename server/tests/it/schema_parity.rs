//! The two migration folders describe one schema.
//!
//! The server reaches both databases through sqlx's `Any` driver with queries
//! checked only at run time, so nothing at compile time notices a migration
//! added to `migrations/sqlite` and forgotten in `migrations/postgres` (or a
//! column typed differently, an index missing on one side). This test migrates
//! a fresh database of each kind, reads back what each catalogue says — tables,
//! columns (name, nullability, type family, primary key), indexes (columns,
//! uniqueness, partial or not) — and fails naming every difference.

use std::collections::BTreeSet;

use crate::common::TestDb;
use sqlx::Row;

/// One fact about the schema, comparable across the two dialects.
type Facts = BTreeSet<String>;

/// What a declared column type means to the application, whatever its spelling.
fn type_family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") || t == "bigserial" || t == "serial" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t == "uuid" {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t == "numeric" {
        "real"
    } else if t.contains("blob") || t == "bytea" {
        "bytes"
    } else if t.contains("bool") {
        "boolean"
    } else {
        // An unknown spelling is kept as is: it shows up as a difference.
        "other"
    }
}

async fn sqlite_facts(db: &TestDb) -> Facts {
    let pool = db.db.pool();
    let mut facts = Facts::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for table in &tables {
        facts.insert(format!("table {table}"));
        let columns = sqlx::query(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap();
        for c in columns {
            let name: String = c.get(0);
            let declared: String = c.get(1);
            let not_null: i64 = c.get(2);
            let pk: i64 = c.get(3);
            // A primary key column can never hold NULL in practice (the
            // application always sets it); SQLite alone lets it be declared so.
            let nullable = if not_null == 1 || pk > 0 {
                "not null"
            } else {
                "null"
            };
            facts.insert(format!(
                "column {table}.{name} {} {nullable}",
                type_family(&declared)
            ));
            if pk > 0 {
                facts.insert(format!("primary key {table}.{name}"));
            }
        }
        let indexes = sqlx::query(
            "SELECT name, \"unique\", origin, partial FROM pragma_index_list($1) ORDER BY name",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap();
        for i in indexes {
            let name: String = i.get(0);
            let unique: i64 = i.get(1);
            let origin: String = i.get(2);
            let partial: i64 = i.get(3);
            if origin == "pk" {
                continue; // compared as `primary key` facts above
            }
            let columns: Vec<Option<String>> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            facts.insert(index_fact(table, &columns, unique == 1, partial == 1));
        }
    }
    facts
}

async fn postgres_facts(db: &TestDb) -> Facts {
    let pool = db.db.pool();
    let mut facts = Facts::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations' ORDER BY table_name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for table in &tables {
        facts.insert(format!("table {table}"));
        let columns = sqlx::query(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap();
        for c in columns {
            let name: String = c.get(0);
            let declared: String = c.get(1);
            let nullable: String = c.get(2);
            let nullable = if nullable == "NO" { "not null" } else { "null" };
            facts.insert(format!(
                "column {table}.{name} {} {nullable}",
                type_family(&declared)
            ));
        }
        // Every index with its key columns in order (an expression counts as
        // an unnamed column), whether unique, whether partial.
        let indexes = sqlx::query(
            "SELECT ix.indexrelid::regclass::text, ix.indisunique, ix.indisprimary, \
                    ix.indpred IS NOT NULL, \
                    COALESCE((SELECT string_agg(COALESCE(a.attname::text, '?'), ',' ORDER BY k.ord) \
                              FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                              LEFT JOIN pg_attribute a \
                                ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum > 0 \
                              WHERE k.ord <= ix.indnkeyatts), '') \
             FROM pg_index ix WHERE ix.indrelid = ('public.' || $1)::regclass",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .unwrap();
        for i in indexes {
            let unique: bool = i.get(1);
            let primary: bool = i.get(2);
            let partial: bool = i.get(3);
            let columns: String = i.get(4);
            let columns: Vec<Option<String>> = columns
                .split(',')
                .map(|c| (c != "?").then(|| c.to_string()))
                .collect();
            if primary {
                for c in columns.iter().flatten() {
                    facts.insert(format!("primary key {table}.{c}"));
                }
            } else {
                facts.insert(index_fact(table, &columns, unique, partial));
            }
        }
    }
    facts
}

fn index_fact(table: &str, columns: &[Option<String>], unique: bool, partial: bool) -> String {
    let columns: Vec<&str> = columns
        .iter()
        .map(|c| c.as_deref().unwrap_or("(expression)"))
        .collect();
    format!(
        "{}index on {table}({}){}",
        if unique { "unique " } else { "" },
        columns.join(", "),
        if partial { " partial" } else { "" }
    )
}

/// Lines only in `a`, prefixed with `side`.
fn only_in(a: &Facts, b: &Facts, side: &str) -> Vec<String> {
    a.difference(b)
        .map(|f| format!("only in {side}: {f}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_migrations_describe_the_same_schema() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let sqlite = TestDb::sqlite().await;
    let (s, p) = (sqlite_facts(&sqlite).await, postgres_facts(&pg).await);
    assert!(
        s.iter().any(|f| f.starts_with("unique index")) && s.len() > 50,
        "the SQLite catalogue read too little to compare: {s:#?}"
    );
    let mut differences = only_in(&s, &p, "migrations/sqlite");
    differences.extend(only_in(&p, &s, "migrations/postgres"));
    assert!(
        differences.is_empty(),
        "the migration folders disagree:\n{}",
        differences.join("\n")
    );
}
