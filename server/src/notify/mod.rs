//! Notifications (issue 18, first slice): the in-app inbox, the ground truth
//! of who was told what, fed in the same transaction as the domain events
//! that cause it, and a live Server-Sent Events stream of it.
//!
//! A tour, in the order a notification travels:
//!
//! - [`rules`]: from a domain event to the users to tell — rule 1 (a new
//!   citizen or hotline report → the supervisors of its county and the
//!   province's supervisors without a county), rule 2 (assigned to me → me).
//!   The choice of audience is a pure function; reading the users is a query.
//! - [`fan_out`] (here): called by [`crate::events::record`] right after its
//!   insert, on the same connection, so a notification exists exactly when
//!   its event (and the change behind it) was committed — the transactional
//!   outbox. The row carries the kind and the subject id only.
//! - [`store`]: the inbox's reads and writes — keyset pages newest first,
//!   unread count, mark read (own only), read all, "newer than" for streams.
//! - [`stream`]: `GET /api/v1/notifications/stream`, each event's `id:` the
//!   notification id; resumes after `Last-Event-ID`; finds new rows by an
//!   indexed poll of the table (so it sees the writes of every instance) and
//!   ends when the server shuts down.
//! - [`routes`]: the endpoints (tag `notifications`).

pub mod routes;
pub mod rules;
pub mod store;
pub mod stream;

use crate::events::DomainEvent;

/// Writes the notifications `event` causes; pass the connection (the
/// transaction) the event was written on and its new `domain_events.id`.
pub async fn fan_out(
    conn: &mut sqlx::AnyConnection,
    event: &DomainEvent<'_>,
    domain_event_id: i64,
) -> sqlx::Result<()> {
    let Some(audience) = rules::audience(event) else {
        return Ok(());
    };
    let recipients = rules::recipients(&mut *conn, &audience).await?;
    let now = crate::now_ms();
    for user_id in recipients {
        // Nobody is told of what they did themselves.
        if Some(user_id.as_str()) == event.actor_id {
            continue;
        }
        store::insert(
            &mut *conn,
            store::New {
                user_id: &user_id,
                kind: event.kind.as_str(),
                critical: audience.critical,
                subject_type: event.subject_type,
                subject_id: event.subject_id,
                domain_event_id,
                created_at: now,
            },
        )
        .await?;
    }
    Ok(())
}
