//! Storage rules that hold on both backends, below the HTTP layer.

use crate::common::TestDb;
use kudakyar::audit::{self, Event, Origin, Who};
use kudakyar::auth::session;
use kudakyar::auth::throttle::{self, Limit, Verdict};
use kudakyar::error::{Error, ResultExt, is_unique_violation};
use kudakyar::users;
use kudakyar_api::users::{NewUser, Role};

on_both_backends!(
    migrations_are_idempotent_and_ready,
    audit_log_is_append_only,
    throttle_counts_within_a_window,
    throttle_reservations_hold_under_concurrency,
    expired_sessions_are_refused,
    first_admin_is_created_once,
    unique_violations_are_mapped_where_they_happen,
);

async fn migrations_are_idempotent_and_ready(t: TestDb) {
    t.db.migrate().await.unwrap();
    assert!(t.db.ready().await);
}

async fn audit_log_is_append_only(t: TestDb) {
    let origin = Origin::system();
    audit::record(
        t.db.pool(),
        &Who::system(),
        &origin,
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
        throttle::reserve(&t.db, &limits, window).await.unwrap(),
        Verdict::Go
    );
    assert_eq!(
        throttle::reserve(&t.db, &limits, window).await.unwrap(),
        Verdict::Go
    );
    let wait = throttle::reserve(&t.db, &limits, window).await.unwrap();
    assert!(
        matches!(wait, Verdict::Wait(s) if (1..=60).contains(&s)),
        "{wait:?}"
    );
    // A refunded attempt (a right password) frees its place.
    throttle::refund(&t.db, &limits).await.unwrap();
    assert_eq!(
        throttle::reserve(&t.db, &limits, window).await.unwrap(),
        Verdict::Go
    );
    // A window of zero length has always ended: the next attempt starts afresh.
    assert_eq!(
        throttle::reserve(&t.db, &limits, 0).await.unwrap(),
        Verdict::Go
    );
    assert_eq!(
        throttle::reserve(&t.db, &limits, window).await.unwrap(),
        Verdict::Go
    );
    throttle::clear(&t.db, &limits[0]).await.unwrap();
    assert_eq!(
        throttle::reserve(&t.db, &limits, window).await.unwrap(),
        Verdict::Go
    );
}

async fn throttle_reservations_hold_under_concurrency(t: TestDb) {
    // Two keys, as a login has: a blocked attempt must count against neither.
    let limits = [Limit::user("sara", 5), Limit::ip("192.0.2.1", 100)];
    let attempts = (0..30).map(|_| throttle::reserve(&t.db, &limits, 60_000));
    let verdicts = futures::future::join_all(attempts).await;
    let went = verdicts
        .iter()
        .filter(|v| matches!(v, Ok(Verdict::Go)))
        .count();
    assert_eq!(went, 5, "{verdicts:?}");
    let counted: i64 = sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = $1")
        .bind(&limits[1].key)
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(counted, 5, "refused attempts are not counted");
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
    let user = users::create(&t.db, new, &Who::system(), &Origin::system())
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

/// The data directory is the owner's alone: the SQLite file and its WAL, the
/// media written by the local object store and the generated secrets.
#[cfg(unix)]
#[tokio::test]
async fn data_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let config = kudakyar::config::Config {
        data_dir: data_dir.clone(),
        ..Default::default()
    };
    let state = kudakyar::app::AppState::open(config).await.unwrap();
    users::bootstrap_admin(&state.db, &data_dir, None)
        .await
        .unwrap();
    state
        .media
        .put("photos/child/1.jpg", bytes::Bytes::from_static(b"jpeg"))
        .await
        .unwrap();
    let mode = |name: &str| {
        std::fs::metadata(data_dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700, "data dir");
    for file in [
        "kudakyar.db",
        "kudakyar.db-wal",
        "kudakyar.db-shm",
        "media/photos/child/1.jpg",
        "biometric.key",
    ] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    state.db.close().await;
}

/// A taken username is the one unique constraint a client can break: the
/// call site names its field. Any other unique violation (here a registry
/// sequence's key) is recognised as one but, unmapped, is an internal
/// error — never a 422 blaming some field.
async fn unique_violations_are_mapped_where_they_happen(t: TestDb) {
    let new = NewUser {
        username: "taken".into(),
        password: "a long enough password".into(),
        display_name: None,
        role: Role::OutreachWorker,
        province: Some("IR-01".into()),
        county: None,
    };
    users::store::insert(t.db.pool(), &new, "hash", None)
        .await
        .unwrap();
    let again = users::store::insert(t.db.pool(), &new, "hash", None).await;
    let e = again
        .as_ref()
        .expect_err("a second insert of one username fails");
    assert!(is_unique_violation(e));
    assert!(users::store::USERNAME_TAKEN.violated_by(e));
    match again.on_unique(users::store::USERNAME_TAKEN, || {
        Error::field("username", "is already taken")
    }) {
        Err(Error::Validation(fields)) => {
            assert!(fields.contains_key("username"), "{fields:?}")
        }
        other => panic!("expected a field error, got {other:?}"),
    }

    let sequence = || {
        sqlx::query(
            "INSERT INTO registry_sequences (province, jalali_year, last_value) \
             VALUES ('IR-01', 1405, 1)",
        )
    };
    sequence().execute(t.db.pool()).await.unwrap();
    let clash = sequence().execute(t.db.pool()).await.unwrap_err();
    assert!(is_unique_violation(&clash));
    assert!(!users::store::USERNAME_TAKEN.violated_by(&clash));
    assert!(matches!(Error::from(clash), Error::Internal(_)));
}
