//! Exports of children and encounters as CSV (UTF-8 with a byte-order mark,
//! so spreadsheet programs show Persian) or JSON Lines, within the caller's
//! scope, streamed row by row in constant memory.
//!
//! - [`format`](mod@format): one row → one CSV or JSON line.
//! - [`routes`]: `GET /api/v1/exports/{children,encounters}.{csv,jsonl}`.
//!
//! [`stream`] is shared by the HTTP endpoints and `kudakyar export`.

pub mod format;
pub mod routes;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};

use crate::auth::Scope;
use crate::db::Db;
use crate::db::sql::Sql;
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

impl Kind {
    fn query(self, scope: &Scope) -> Sql {
        let mut sql = match self {
            Kind::Children => Sql::new(&format!(
                "SELECT {} FROM children c WHERE c.merged_into IS NULL",
                store::CHILD_COLUMNS
            )),
            Kind::Encounters => Sql::new(
                "SELECT e.id, e.child_id, c.registry_code, e.worker_id, e.details, e.created_at
                 FROM encounters e JOIN children c ON c.id = e.child_id
                 WHERE c.merged_into IS NULL",
            ),
        };
        store::push_scope(&mut sql, scope);
        sql.push(match self {
            Kind::Children => " ORDER BY c.created_at, c.id",
            Kind::Encounters => " ORDER BY e.at, e.id",
        });
        sql
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
        use sqlx::Row;
        Ok(sql.query().fetch_one(db.pool()).await?.get::<i64, _>(0))
    }
}

/// The export as a stream of chunks: the header, then one chunk per row.
/// Rows are read from a database cursor by a task and passed on through a
/// small channel, so memory stays constant however large the registry is and
/// a slow client slows the reading down rather than filling memory.
pub fn stream(
    db: Db,
    scope: Scope,
    kind: Kind,
    format: Format,
) -> impl Stream<Item = std::io::Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(32);
    tokio::spawn(async move {
        if tx
            .send(Ok(Bytes::from(format::header(kind, format))))
            .await
            .is_err()
        {
            return;
        }
        let sql = kind.query(&scope);
        let mut rows = sql.query().fetch(db.pool()).map_err(std::io::Error::other);
        while let Some(row) = rows.next().await {
            let chunk =
                row.and_then(|r| format::line(kind, format, &r).map_err(std::io::Error::other));
            let failed = chunk.is_err();
            if tx.send(chunk.map(Bytes::from)).await.is_err() || failed {
                return;
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
