//! Exports of children and encounters as CSV (UTF-8 with a byte-order mark,
//! so spreadsheet programs show Persian) or JSON Lines, within the caller's
//! scope, in constant memory.
//!
//! - [`format`](mod@format): one row → one CSV or JSON line.
//! - [`routes`]: `GET /api/v1/exports/{children,encounters}.{csv,jsonl}`, for
//!   supervisors and above (`export_min_role`), capped per user and overall
//!   ([`Slots`]), audited with the row count when the export ends.
//!
//! [`stream`] is shared by the HTTP endpoints and `kudakyar export`. It reads
//! in batches (keyset pagination on the sort key) with a connection taken for
//! each query and given back before the batch is written out, so a client
//! that reads slowly, or not at all, never holds a database connection.
//! The batches are not one snapshot: a record changed during a long export
//! shows as it was when its batch was read.

pub mod format;
pub mod routes;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::Stream;
use sqlx::Row;

use crate::auth::Scope;
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::registry::store;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Children,
    Encounters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

/// Where the previous batch ended: the sort key of its last row.
type Key = (i64, String);

impl Kind {
    /// The next `limit` rows after `after`, in sort-key order. The key is
    /// unique (a time, then the id), so no row is skipped or read twice at a
    /// batch boundary, even among rows of the same millisecond.
    fn batch_query(self, scope: &Scope, after: Option<&Key>, limit: u32) -> Sql {
        let (mut sql, key) = match self {
            Kind::Children => (
                Sql::new(&format!(
                    "SELECT {} FROM children c WHERE c.merged_into IS NULL",
                    store::CHILD_COLUMNS
                )),
                ("c.created_at", "c.id"),
            ),
            Kind::Encounters => (
                Sql::new(&format!(
                    "SELECT {}, c.registry_code, e.at AS sort_at
                     FROM encounters e JOIN children c ON c.id = e.child_id
                     WHERE c.merged_into IS NULL",
                    crate::registry::encounters::ENCOUNTER_COLUMNS
                )),
                ("e.at", "e.id"),
            ),
        };
        store::push_scope(&mut sql, scope);
        if let Some((at, id)) = after {
            sql.push(&format!(" AND ({}, {}) > (", key.0, key.1))
                .bind(Arg::Int(*at))
                .push(", ")
                .bind(Arg::Text(id.clone()))
                .push(")");
        }
        sql.push(&format!(" ORDER BY {}, {} LIMIT {limit}", key.0, key.1));
        sql
    }

    /// The sort key of a row read by [`Kind::batch_query`].
    fn key(self, row: &sqlx::any::AnyRow) -> sqlx::Result<Key> {
        let at = match self {
            Kind::Children => "created_at",
            Kind::Encounters => "sort_at",
        };
        Ok((row.try_get(at)?, row.try_get("id")?))
    }

    /// How many rows an export of this kind will have (for progress bars).
    pub async fn count(self, db: &Db, scope: &Scope) -> sqlx::Result<i64> {
        let mut sql = Sql::new(match self {
            Kind::Children => "SELECT COUNT(*) FROM children c WHERE c.merged_into IS NULL",
            Kind::Encounters => {
                "SELECT COUNT(*) FROM encounters e JOIN children c ON c.id = e.child_id
                 WHERE c.merged_into IS NULL"
            }
        });
        store::push_scope(&mut sql, scope);
        Ok(sql.query().fetch_one(db.pool()).await?.get::<i64, _>(0))
    }
}

/// One export: what, in which format, within which scope.
#[derive(Debug, Clone)]
pub struct Export {
    pub kind: Kind,
    pub format: Format,
    pub scope: Scope,
    /// Rows per database query (`export_batch_rows`).
    pub batch_rows: u32,
}

/// A piece of the export: the header (no rows) or one batch of rows.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub bytes: Bytes,
    pub rows: u64,
}

/// How an export ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Rows handed to the client (the last batch may still be on its way).
    pub rows: u64,
    /// False when the client went away or the database failed midway.
    pub complete: bool,
}

/// The export as a stream of chunks: the header, then one chunk per batch.
///
/// A task reads a batch, formats it and passes it on through a channel of
/// two chunks: memory stays at a few batches however large the registry is,
/// and a slow client slows the reading down. `finish` runs when the export
/// ends, before the stream does, so whatever it records (the audit entry) is
/// in place when the client has the last byte.
pub fn stream<F, Fut>(
    db: Db,
    export: Export,
    finish: F,
) -> impl Stream<Item = std::io::Result<Chunk>>
where
    F: FnOnce(Outcome) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Chunk>>(2);
    tokio::spawn(async move {
        let rows = produce(&db, &export, &tx).await;
        let complete = rows.is_ok();
        let rows = rows.unwrap_or_else(|sent| sent);
        finish(Outcome { rows, complete }).await;
        // `tx` is dropped here, which ends the stream.
    });
    // Not `stream::unfold`: the compression layer polls a body once more after
    // its end, and unfold panics then; a closed receiver answers `None` again.
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Sends the header and every batch; the rows sent, as `Err` when the export
/// stopped early.
async fn produce(
    db: &Db,
    export: &Export,
    tx: &tokio::sync::mpsc::Sender<std::io::Result<Chunk>>,
) -> Result<u64, u64> {
    let header = Chunk {
        bytes: Bytes::from(format::header(export.kind, export.format)),
        rows: 0,
    };
    if tx.send(Ok(header)).await.is_err() {
        return Err(0);
    }
    let mut sent = 0;
    let mut after: Option<Key> = None;
    loop {
        let batch = read_batch(db, export, after.as_ref()).await;
        let (chunk, last) = match batch {
            Ok(Some(batch)) => batch,
            Ok(None) => return Ok(sent),
            Err(e) => {
                tracing::error!(error = %e, kind = ?export.kind, "export failed");
                let _ = tx.send(Err(std::io::Error::other(e))).await;
                return Err(sent);
            }
        };
        let rows = chunk.rows;
        if tx.send(Ok(chunk)).await.is_err() {
            return Err(sent);
        }
        sent += rows;
        after = Some(last);
    }
}

/// One batch, formatted, with the key of its last row; `None` after the end.
/// The connection is the pool's again when this returns.
async fn read_batch(
    db: &Db,
    export: &Export,
    after: Option<&Key>,
) -> anyhow::Result<Option<(Chunk, Key)>> {
    let sql = export
        .kind
        .batch_query(&export.scope, after, export.batch_rows.max(1));
    let rows = sql.query().fetch_all(db.pool()).await?;
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let last = export.kind.key(last)?;
    let mut text = String::new();
    for row in &rows {
        text.push_str(&format::line(export.kind, export.format, row).map_err(anyhow::Error::msg)?);
    }
    let chunk = Chunk {
        bytes: Bytes::from(text),
        rows: rows.len() as u64,
    };
    Ok(Some((chunk, last)))
}

/// The export slots: how many exports run, per user and in all, against
/// `export_max_per_user` and `export_max_concurrent`. An export holds a
/// [`Slot`] until it ends; over either cap the caller is answered 429.
#[derive(Debug, Clone)]
pub struct Slots {
    max_per_user: usize,
    max_total: usize,
    running: Arc<Mutex<Running>>,
}

#[derive(Debug, Default)]
struct Running {
    total: usize,
    per_user: HashMap<String, usize>,
}

/// Why no slot was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    User,
    Everyone,
}

impl Slots {
    pub fn new(max_per_user: usize, max_total: usize) -> Slots {
        Slots {
            max_per_user,
            max_total,
            running: Arc::default(),
        }
    }

    /// A slot for `user_id`, if both caps allow one more export.
    pub fn take(&self, user_id: &str) -> Result<Slot, Full> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mine = running.per_user.get(user_id).copied().unwrap_or(0);
        if mine >= self.max_per_user {
            return Err(Full::User);
        }
        if running.total >= self.max_total {
            return Err(Full::Everyone);
        }
        running.total += 1;
        *running.per_user.entry(user_id.to_string()).or_default() += 1;
        Ok(Slot {
            running: self.running.clone(),
            user_id: user_id.to_string(),
        })
    }
}

/// One running export; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    running: Arc<Mutex<Running>>,
    user_id: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.total -= 1;
        if let Some(n) = running.per_user.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                running.per_user.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_user_and_in_all_and_come_back() {
        let slots = Slots::new(1, 2);
        let a = slots.take("a").unwrap();
        assert_eq!(slots.take("a").unwrap_err(), Full::User);
        let _b = slots.take("b").unwrap();
        assert_eq!(slots.take("c").unwrap_err(), Full::Everyone);
        drop(a);
        assert!(slots.take("c").is_ok());
    }
}
