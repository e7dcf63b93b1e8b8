//! Group commit for public intake: the reports arriving at the same moment
//! are written in one transaction, so that they share one commit.
//!
//! Why: every report is durable before it is answered, and on SQLite
//! (`synchronous = FULL`) a commit waits for the disk to flush — about 5 ms
//! on a plain disk, so at most ~200 commits a second, far below a city's
//! evening of reports. Writing each waiting report inside a savepoint of one
//! shared transaction keeps each report's outcome its own (a report refused
//! by the limits or a bad proof rolls back only itself) while the flush is
//! paid once per batch. A report alone is written at once, as before; under
//! load the batches grow by themselves.
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

use kudakyar_api::sightings::SightingReceipt;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::intake::{self, Pending};
use crate::config::Config;
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// The most reports written in one transaction.
pub const MAX_BATCH: usize = 64;
/// Reports that may wait for a worker before senders wait too.
const QUEUE: usize = 1024;

/// What a report written through the writer gets: its receipt, and whether
/// it was stored now (`false`: a retry of one stored before).
pub type Answer = Result<(SightingReceipt, bool)>;
type Job = (Pending, oneshot::Sender<Answer>);

/// The handle handlers write through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
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
        for _ in 0..workers {
            tokio::spawn(work(db.clone(), config.clone(), jobs.clone()));
        }
        Writer { queue }
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
async fn work(db: Db, config: Arc<Config>, jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
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
        let answers = write_batch(&db, &config, &pending).await;
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The client may have gone; its report is written all the same.
            let _ = reply.send(answer);
        }
    }
}

/// Writes a batch of reports in one transaction, each new one in its own
/// savepoint (a report refused by the limits or a bad proof rolls back only
/// itself), and answers each. What `kudakyar demo seed` calls too.
///
/// One lookup finds the batch's reports already stored (retries answer
/// from it); the rows each new report adds beside its own (its
/// [`intake::Trail`]) are written for the whole batch before the commit.
///
/// On PostgreSQL, batches written side by side lock rows and places in
/// whatever order their reports come (a counter of one address, a county's
/// incidents, then another's), so two of them can deadlock. PostgreSQL then
/// fails one; nothing of it was committed, so it is written again, up to
/// [`ATTEMPTS`] times, before its reports get the error.
pub async fn write_batch(db: &Db, config: &Config, batch: &[Pending]) -> Vec<Answer> {
    let mut attempt = 1;
    loop {
        match try_write_batch(db, config, batch).await {
            Ok(answers) => return answers,
            Err(e) if attempt < ATTEMPTS && is_deadlock(&e) => {
                tracing::info!(attempt, "a batch of reports deadlocked; writing it again");
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

/// How many times a batch is written before its reports get a deadlock.
/// Batches that take a counter's row and a county's lock in opposite
/// orders deadlock more often the busier PostgreSQL is (under a loaded CI
/// run, 3 attempts ran out: 500s); each retry waits only for the other
/// batch to commit, so a few more cost little.
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
    let stored = intake::stored_all(&mut tx, batch).await?;
    let mut trail = intake::Trail::default();
    let mut answers = Vec::with_capacity(batch.len());
    for pending in batch {
        if let Some(stored) = stored.get(pending.id()) {
            answers.push(
                stored
                    .answer(pending.digest())
                    .map(|receipt| (receipt, false)),
            );
            continue;
        }
        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
        let mut own = intake::Trail::default();
        let answer = intake::write_new(db, config, &mut savepoint, pending, &mut own).await;
        match answer {
            // The whole batch is written again.
            Err(e) if is_deadlock(&e) => return Err(e),
            Ok((receipt, true)) => {
                savepoint.commit().await?;
                trail.extend(own);
                answers.push(Ok((receipt, true)));
            }
            // A refusal, and a copy found stored meanwhile, count and change
            // nothing.
            other => {
                savepoint.rollback().await?;
                answers.push(other);
            }
        }
    }
    trail.write(&mut tx).await?;
    tx.commit().await?;
    Ok(answers)
}
