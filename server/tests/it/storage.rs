//! Storage rules that hold on both backends, below the HTTP layer.

use crate::common::TestDb;
use kudakyar::audit::{self, Event, Who};
use kudakyar::auth::session;
use kudakyar::auth::throttle::{self, Limit};
use kudakyar::http::meta::RequestMeta;
use kudakyar::users;
use kudakyar_api::users::{NewUser, Role};

on_both_backends!(
    migrations_are_idempotent_and_ready,
    audit_log_is_append_only,
    throttle_counts_within_a_window,
    expired_sessions_are_refused,
    first_admin_is_created_once,
);

async fn migrations_are_idempotent_and_ready(t: TestDb) {
    t.db.migrate().await.unwrap();
    assert!(t.db.ready().await);
}

async fn audit_log_is_append_only(t: TestDb) {
    let meta = RequestMeta::default();
    audit::record(
        t.db.pool(),
        &Who::system(),
        &meta,
        Event::new("test.event", "test", Some("1")),
    )
    .await
    .unwrap();
    let update = sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(t.db.pool())
        .await;
    assert!(update.is_err(), "UPDATE must be refused");
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(t.db.pool())
        .await;
    assert!(delete.is_err(), "DELETE must be refused");
    let entries = audit::list(&t.db, &audit::Filter::default(), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "test.event");
}

async fn throttle_counts_within_a_window(t: TestDb) {
    let limits = [Limit::user("sara", 2)];
    let window = 60_000;
    assert_eq!(
        throttle::blocked_for(&t.db, &limits, window).await.unwrap(),
        None
    );
    throttle::record_failure(&t.db, &limits, window)
        .await
        .unwrap();
    assert_eq!(
        throttle::blocked_for(&t.db, &limits, window).await.unwrap(),
        None
    );
    throttle::record_failure(&t.db, &limits, window)
        .await
        .unwrap();
    let wait = throttle::blocked_for(&t.db, &limits, window).await.unwrap();
    assert!(matches!(wait, Some(s) if (1..=60).contains(&s)), "{wait:?}");
    // A window of zero length has always ended: the next failure starts afresh.
    throttle::record_failure(&t.db, &limits, 0).await.unwrap();
    assert_eq!(
        throttle::blocked_for(&t.db, &limits, window).await.unwrap(),
        None
    );
    throttle::clear(&t.db, &limits[0]).await.unwrap();
}

async fn expired_sessions_are_refused(t: TestDb) {
    let new = NewUser {
        username: "worker".into(),
        password: "a long enough password".into(),
        display_name: None,
        role: Role::OutreachWorker,
        province: Some("IR-01".into()),
        county: None,
    };
    let user = users::create(&t.db, new, &Who::system(), &RequestMeta::default())
        .await
        .unwrap();
    let (live, _) = session::create(&t.db, &user.id, 60_000, None)
        .await
        .unwrap();
    let (expired, _) = session::create(&t.db, &user.id, -1, None).await.unwrap();
    let actor = session::lookup(&t.db, &live)
        .await
        .unwrap()
        .expect("live session");
    assert_eq!(actor.role, Role::OutreachWorker);
    assert_eq!(actor.scope.province(), Some("IR-01"));
    assert!(session::lookup(&t.db, &expired).await.unwrap().is_none());
}

async fn first_admin_is_created_once(t: TestDb) {
    let written = users::bootstrap_admin(&t.db, t.dir.path(), None)
        .await
        .unwrap();
    let path = written.expect("a password file on first start");
    let password = std::fs::read_to_string(&path).unwrap();
    assert_eq!(password.trim().len(), 20);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let stored = users::store::find_by_username(&t.db, "admin")
        .await
        .unwrap()
        .unwrap();
    assert!(kudakyar::auth::password::verify(
        &stored.password_hash,
        password.trim()
    ));
    assert_eq!(
        users::bootstrap_admin(&t.db, t.dir.path(), None)
            .await
            .unwrap(),
        None
    );
}
