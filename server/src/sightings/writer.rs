//! Group commit for public intake: the reports arriving at the same moment
//! are written in one transaction, so that they share one commit.
//!
//! Why: every report is durable before it is answered, and on SQLite
//! (`synchronous = FULL`) a commit waits for the disk to flush — about 5 ms
//! on a plain disk, so at most ~200 commits a second, far below a city's
//! evening of reports. The waiting reports are written in one shared
//! transaction ([`intake::write_new`] decides them together: a report
//! refused by the limits or a bad proof writes nothing, the others are
//! written with one statement per table), and the flush is paid once per
//! batch. A report alone is written at once; under load the batches grow by
//! themselves.
//!
//! [`Writer`] is a queue with a fixed number of worker tasks: one on SQLite
//! (it has one writer anyway), several on PostgreSQL (whose row locks let
//! transactions run side by side). A worker takes the first waiting report,
//! then whatever else is waiting, up to [`MAX_BATCH`], writes them
//! ([`write_batch`]) and answers each once the commit is done. If the
//! commit fails, every report of the batch gets the error (and, being
//! idempotent by id, can be sent again).
//!
//! The workers end when the last [`Writer`] handle is dropped (the
//! application state), after the reports already queued: `serve` drops the
//! router, and with it every handle, before it closes the pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, mpsc, oneshot};

use super::intake::{self, Pending};
use super::place;
use crate::config::Config;
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// The most reports written in one transaction.
pub const MAX_BATCH: usize = 64;
/// Reports that may wait for a worker before senders wait too.
const QUEUE: usize = 1024;

/// What a report written through the writer gets (see [`intake::Answer`]).
pub use super::intake::Answer;
type Job = (Pending, oneshot::Sender<Answer>);

/// The handle handlers write through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    /// Batches this writer had to write again after a deadlock.
    deadlocks: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the workers (on the current tokio runtime).
    pub fn start(db: Db, config: Arc<Config>) -> Writer {
        let (queue, jobs) = mpsc::channel::<Job>(QUEUE);
        let jobs = Arc::new(Mutex::new(jobs));
        let workers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 8,
        };
        let deadlocks = Arc::new(AtomicU64::new(0));
        for _ in 0..workers {
            tokio::spawn(work(
                db.clone(),
                config.clone(),
                jobs.clone(),
                deadlocks.clone(),
            ));
        }
        Writer { queue, deadlocks }
    }

    /// How many batches deadlocked (and were written again) so far: none,
    /// while every batch takes its locks in the one order.
    pub fn deadlocks(&self) -> u64 {
        self.deadlocks.load(Ordering::Relaxed)
    }

    /// Writes one report; answers once it is committed.
    pub async fn write(&self, pending: Pending) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((pending, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the sightings writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the sightings writer dropped a report"))?
    }
}

/// One worker: batches until the queue is closed and empty.
async fn work(
    db: Db,
    config: Arc<Config>,
    jobs: Arc<Mutex<mpsc::Receiver<Job>>>,
    deadlocks: Arc<AtomicU64>,
) {
    loop {
        let batch = {
            let mut jobs = jobs.lock().await;
            let Some(first) = jobs.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        let (pending, replies): (Vec<Pending>, Vec<_>) = batch.into_iter().unzip();
        let answers = write_counting(&db, &config, &pending, &deadlocks).await;
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The client may have gone; its report is written all the same.
            let _ = reply.send(answer);
        }
    }
}

/// Writes a batch of reports in one transaction and answers each (a report
/// refused by the limits or a bad proof is refused alone). What `kudakyar
/// demo seed` calls too.
///
/// One lookup finds the batch's reports already stored (retries answer
/// from it); [`intake::write_new`] writes the others, and the rows they add
/// beside their own (the [`intake::Trail`]) are written for the whole batch
/// before the commit.
///
/// On PostgreSQL, batches are written side by side, and each report locks
/// rows and places (its address's counter, its county's incidents, its id
/// against a copy in another batch). Taken report by report, two batches
/// would take them in different orders and deadlock; so a batch first
/// takes every key its reports will need, in the one order
/// [`Db::lock_keys`] gives, and only then writes. A deadlock with some
/// other writer (or a serialization failure) still fails the batch with
/// nothing committed: it is written again, up to [`ATTEMPTS`] times,
/// before its reports get the error.
pub async fn write_batch(db: &Db, config: &Config, batch: &[Pending]) -> Vec<Answer> {
    write_counting(db, config, batch, &AtomicU64::new(0)).await
}

/// [`write_batch`], adding each deadlocked attempt to `deadlocks`.
async fn write_counting(
    db: &Db,
    config: &Config,
    batch: &[Pending],
    deadlocks: &AtomicU64,
) -> Vec<Answer> {
    let mut attempt = 1;
    loop {
        match try_write_batch(db, config, batch).await {
            Ok(answers) => return answers,
            Err(e) if attempt < ATTEMPTS && is_deadlock(&e) => {
                tracing::warn!(attempt, "a batch of reports deadlocked; writing it again");
                deadlocks.fetch_add(1, Ordering::Relaxed);
                attempt += 1;
            }
            Err(e) => {
                return batch
                    .iter()
                    .map(|_| Err(Error::Internal(anyhow::anyhow!("writing reports: {e}"))))
                    .collect();
            }
        }
    }
}

/// How many times a batch is written before its reports get a deadlock:
/// each retry waits only for the other transaction to commit, so a few
/// cost little.
const ATTEMPTS: u32 = 10;

/// True for PostgreSQL's "deadlock detected" and "could not serialize".
fn is_deadlock(e: &Error) -> bool {
    let Error::Internal(e) = e else { return false };
    matches!(
        e.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40P01" | "40001"))
    )
}

/// [`write_batch`]; an error here is the whole batch's.
async fn try_write_batch(db: &Db, config: &Config, batch: &[Pending]) -> Result<Vec<Answer>> {
    let mut tx = db.begin_write().await?;
    let mut places = Vec::with_capacity(batch.len());
    for pending in batch {
        places.push(pending.place(&mut tx).await?);
    }
    let keys: Vec<String> = batch
        .iter()
        .zip(&places)
        .flat_map(|(pending, place)| pending.lock_keys(place))
        .collect();
    db.lock_keys(&mut tx, keys.iter().map(String::as_str))
        .await?;
    // After the locks: a copy of a report that another batch was writing
    // is found stored.
    let stored = intake::stored_all(&mut tx, batch).await?;
    let fresh: Vec<(&Pending, &place::Place)> = batch
        .iter()
        .zip(&places)
        .filter(|(pending, _)| !stored.contains_key(pending.id()))
        .collect();
    let mut trail = intake::Trail::default();
    let mut written = intake::write_new(config, &mut tx, &fresh, &mut trail)
        .await?
        .into_iter();
    let answers = batch
        .iter()
        .map(|pending| match stored.get(pending.id()) {
            Some(stored) => stored
                .answer(pending.digest())
                .map(|receipt| (receipt, false)),
            None => written.next().unwrap_or_else(|| {
                Err(anyhow::anyhow!("a report of the batch was left unanswered").into())
            }),
        })
        .collect();
    trail.write(&mut tx).await?;
    tx.commit().await?;
    Ok(answers)
}
