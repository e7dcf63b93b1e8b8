//! The in-app inbox, on SQLite and PostgreSQL: a citizen's report reaches
//! the supervisors of its county (and the province-wide ones) and nobody
//! else, an assignment reaches the assignee, each user reads and marks only
//! their own notifications, the live stream delivers what arrives and
//! resumes after `Last-Event-ID` without a gap, and ends at shutdown; a row
//! committed after higher-numbered ones (as concurrent PostgreSQL
//! transactions may) still reaches its stream; bad input is named.

use std::time::Duration;

use kudakyar::db::Backend;
use serde_json::{Value, json};

use crate::common::scene::{ELSEWHERE, JUNCTION, Scene, scene, user};
use crate::common::{TestApp, TestDb, problem};

on_both_backends!(
    a_report_reaches_its_county_supervisors_and_an_assignment_the_worker,
    each_user_reads_and_marks_only_their_own,
    the_stream_delivers_new_ones_resumes_without_a_gap_and_ends_at_shutdown,
    a_stream_hears_a_row_that_lands_below_the_newest_id,
    the_inbox_pages_newest_first_and_filters_unread,
    bad_input_is_named,
);

/// The kinds and subjects in `token`'s inbox, newest first.
async fn inbox(s: &Scene, token: &str, query: &str) -> Vec<(String, String)> {
    let page = s
        .read(token, &format!("/api/v1/notifications{query}"), 200)
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_string(),
                n["subject_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn unread(s: &Scene, token: &str) -> i64 {
    s.read(token, "/api/v1/notifications/unread-count", 200)
        .await["unread"]
        .as_i64()
        .unwrap()
}

fn received(id: &str) -> (String, String) {
    ("sighting_received".to_string(), id.to_string())
}

async fn a_report_reaches_its_county_supervisors_and_an_assignment_the_worker(db: TestDb) {
    let s = scene(db).await;
    let (province_sup, _) = user(&s.app, "sup23", "supervisor", "IR-23", None).await;
    let (_, disabled_id) = user(&s.app, "sup2301b", "supervisor", "IR-23", Some("2301")).await;
    let admin = s.app.admin_token().await;
    let disable = format!("/api/v1/users/{disabled_id}/disable");
    s.app
        .post(&admin, &disable, &json!({}))
        .await
        .error_for_status()
        .unwrap();

    let report = s.citizen_reports(JUNCTION, 0).await;
    assert_eq!(inbox(&s, &s.sup, "").await, [received(&report)]);
    assert_eq!(inbox(&s, &province_sup, "").await, [received(&report)]);
    // Not the other county's supervisor, nor workers (rule 1 is for supervisors),
    // nor another province's staff, nor a disabled account.
    assert!(inbox(&s, &s.other_county_sup, "").await.is_empty());
    assert!(inbox(&s, &s.worker, "").await.is_empty());
    assert!(inbox(&s, &s.other_province, "").await.is_empty());
    let told = "SELECT COUNT(*) FROM notifications WHERE user_id = $1";
    assert_eq!(s.count(told, &disabled_id).await, 0);

    // The payload names the kind and the subject, never a child or a place.
    let page = s.read(&s.sup, "/api/v1/notifications", 200).await;
    let n = &page["items"][0];
    let mut keys: Vec<&str> = n.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "critical",
            "id",
            "kind",
            "read_at",
            "subject_id",
            "subject_type"
        ]
    );
    assert_eq!(n["subject_type"], "sighting");
    assert_eq!(n["critical"], false);
    assert_eq!(n["read_at"], Value::Null);

    // The other county's report goes to its own supervisor (and province-wide).
    let elsewhere = s.citizen_reports(ELSEWHERE, 0).await;
    assert_eq!(
        inbox(&s, &s.other_county_sup, "").await,
        [received(&elsewhere)]
    );
    assert_eq!(inbox(&s, &s.sup, "").await, [received(&report)]);
    assert_eq!(unread(&s, &province_sup).await, 2);

    // Assigned to the worker: the worker hears of it; the supervisor who
    // assigned it is not told of their own act.
    let assign = json!({"worker_id": s.worker_id});
    s.act(
        &s.sup,
        &format!("/api/v1/sightings/{report}/assign"),
        assign,
        200,
    )
    .await;
    assert_eq!(
        inbox(&s, &s.worker, "").await,
        [("sighting_assigned".to_string(), report.clone())]
    );
    assert_eq!(inbox(&s, &s.sup, "").await, [received(&report)]);

    // Each notification points at the domain event it came from, written in
    // the same transaction.
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications n
         JOIN domain_events e ON e.id = n.domain_event_id
         WHERE e.subject_id <> n.subject_id OR e.kind <> n.kind",
    )
    .fetch_one(s.app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(mismatched, 0);

    // Hotline operators reach their inbox (the policy lets them).
    assert!(inbox(&s, &s.hotline, "").await.is_empty());
}

async fn each_user_reads_and_marks_only_their_own(db: TestDb) {
    let s = scene(db).await;
    let first = s.citizen_reports(JUNCTION, 0).await;
    let second = s.citizen_reports(JUNCTION, 1).await;
    let page = s.read(&s.sup, "/api/v1/notifications", 200).await;
    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
    assert_eq!(unread(&s, &s.sup).await, 2);

    // Another user's notification, an unknown id and a non-id are all 404.
    for (token, id) in [
        (&s.other_county_sup, ids[0].to_string()),
        (&s.sup, "999999999".to_string()),
        (&s.sup, "abc".to_string()),
        (&s.sup, "-1".to_string()),
    ] {
        let path = format!("/api/v1/notifications/{id}/read");
        problem(s.app.post(token, &path, &json!({})).await, 404).await;
    }
    assert_eq!(unread(&s, &s.sup).await, 2);

    let path = format!("/api/v1/notifications/{}/read", ids[1]);
    let marked = s.act(&s.sup, &path, json!({}), 200).await;
    assert_eq!(marked["subject_id"], first.as_str());
    let read_at = marked["read_at"].as_str().unwrap().to_string();
    assert_eq!(unread(&s, &s.sup).await, 1);
    // Again: no change, the first time is kept.
    let again = s.act(&s.sup, &path, json!({}), 200).await;
    assert_eq!(again["read_at"], read_at.as_str());
    assert_eq!(inbox(&s, &s.sup, "?unread=true").await, [received(&second)]);

    let all = s
        .act(&s.sup, "/api/v1/notifications/read-all", json!({}), 200)
        .await;
    assert_eq!(all["marked"], 1);
    assert_eq!(unread(&s, &s.sup).await, 0);
    assert!(inbox(&s, &s.sup, "?unread=true").await.is_empty());
    // The other supervisors' inboxes are untouched.
    let other = s.citizen_reports(ELSEWHERE, 0).await;
    assert_eq!(unread(&s, &s.other_county_sup).await, 1);
    let all = s
        .act(&s.sup, "/api/v1/notifications/read-all", json!({}), 200)
        .await;
    assert_eq!(all["marked"], 0);
    assert_eq!(
        inbox(&s, &s.other_county_sup, "?unread=true").await,
        [received(&other)]
    );
}

/// One Server-Sent Events stream, read chunk by chunk.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

/// A guard against a hang, not a measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

impl Events {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Events {
        let mut request = app
            .client
            .get(app.url("/api/v1/notifications/stream"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Events {
            response,
            buffer: String::new(),
        }
    }

    /// The next event's `id:` and `data:`, skipping keep-alive comments;
    /// none when the stream ends.
    async fn next(&mut self) -> Option<(i64, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_string())
                };
                let (Some(id), Some(data)) = (field("id:"), field("data:")) else {
                    continue; // a keep-alive comment
                };
                assert_eq!(field("event:").as_deref(), Some("notification"));
                return Some((id.parse().unwrap(), serde_json::from_str(&data).unwrap()));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream sent nothing for 30 s")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

async fn the_stream_delivers_new_ones_resumes_without_a_gap_and_ends_at_shutdown(db: TestDb) {
    let s = scene(db).await;
    // Something already in the inbox is not sent to a stream opened afresh.
    let old = s.citizen_reports(JUNCTION, 0).await;
    let mut live = Events::open(&s.app, &s.sup, None).await;
    let report = s.citizen_reports(JUNCTION, 1).await;
    let (first_id, first) = live.next().await.unwrap();
    assert_eq!(first["subject_id"], report.as_str());
    assert_eq!(first["id"], first_id);
    drop(live);

    // While disconnected, two more reports and an assignment (for the worker).
    let later = [
        s.citizen_reports(JUNCTION, 2).await,
        s.citizen_reports(JUNCTION, 3).await,
    ];
    let assign = json!({"worker_id": s.worker_id});
    s.act(
        &s.sup,
        &format!("/api/v1/sightings/{old}/assign"),
        assign,
        200,
    )
    .await;
    let mut resumed = Events::open(&s.app, &s.sup, Some(first_id)).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let (id, n) = resumed.next().await.unwrap();
        assert!(id > first_id);
        got.push(n["subject_id"].as_str().unwrap().to_string());
    }
    assert_eq!(got, later);
    // And then the live ones, after the backlog.
    let newest = s.citizen_reports(JUNCTION, 4).await;
    assert_eq!(
        resumed.next().await.unwrap().1["subject_id"],
        newest.as_str()
    );

    // From 0: the whole inbox, oldest first, as the inbox has it.
    let mut everything = Events::open(&s.app, &s.sup, Some(0)).await;
    let mut all = Vec::new();
    for _ in 0..5 {
        all.push(everything.next().await.unwrap().1["subject_id"].clone());
    }
    let mut inbox_order: Vec<Value> = inbox(&s, &s.sup, "")
        .await
        .into_iter()
        .map(|(_, id)| Value::from(id))
        .collect();
    inbox_order.reverse();
    assert_eq!(all, inbox_order);

    // The worker's own stream holds only the assignment.
    let mut worker = Events::open(&s.app, &s.worker, Some(0)).await;
    let (_, n) = worker.next().await.unwrap();
    assert_eq!(n["kind"], "sighting_assigned");
    assert_eq!(n["subject_id"], old.as_str());

    // Shutdown ends every open stream (else graceful shutdown would wait forever).
    s.app.state.stopping.cancel();
    assert!(resumed.next().await.is_none());
    assert!(worker.next().await.is_none());
}

/// Writes a notification for `user_id` with the given `id`, as a
/// transaction that took its id early and committed late would leave it.
async fn insert_with_id(s: &Scene, id: i64, user_id: &str, domain_event_id: i64) {
    let overriding = match s.app.state.db.backend() {
        Backend::Postgres => "OVERRIDING SYSTEM VALUE",
        Backend::Sqlite => "",
    };
    sqlx::query(&format!(
        "INSERT INTO notifications (id, user_id, kind, critical, subject_type, subject_id,
                                    domain_event_id, created_at)
         {overriding} VALUES ($1, $2, 'sighting_received', 0, 'sighting', $3, $4, $5)"
    ))
    .bind(id)
    .bind(user_id)
    .bind(format!("late-{id}"))
    .bind(domain_event_id)
    .bind(kudakyar::now_ms())
    .execute(s.app.state.db.pool())
    .await
    .unwrap();
}

async fn a_stream_hears_a_row_that_lands_below_the_newest_id(db: TestDb) {
    let s = scene(db).await;
    s.citizen_reports(JUNCTION, 0).await;
    let (first, event): (i64, i64) =
        sqlx::query_as("SELECT MAX(id), MAX(domain_event_id) FROM notifications")
            .fetch_one(s.app.state.db.pool())
            .await
            .unwrap();
    let mut supervisor = Events::open(&s.app, &s.sup, None).await;
    let mut worker = Events::open(&s.app, &s.worker, None).await;
    // The supervisor's rows take ids far ahead; once their stream has the
    // last, the instance's poll has seen it as the newest.
    for id in first + 300..=first + 310 {
        insert_with_id(&s, id, &s.sup_id, event).await;
    }
    let mut heard = 0;
    while heard < first + 310 {
        heard = supervisor.next().await.unwrap().0;
    }
    // Then a row numbered below them commits, for the worker.
    insert_with_id(&s, first + 100, &s.worker_id, event).await;
    let (id, n) = tokio::time::timeout(PATIENCE, worker.next())
        .await
        .expect("the worker's stream never heard of the late row")
        .unwrap();
    assert_eq!(id, first + 100);
    assert_eq!(n["subject_id"], format!("late-{}", first + 100));
}

async fn the_inbox_pages_newest_first_and_filters_unread(db: TestDb) {
    let s = scene(db).await;
    let mut reports = Vec::new();
    for step in 0..5 {
        reports.push(s.citizen_reports(JUNCTION, step).await);
    }
    reports.reverse();
    let path = "/api/v1/notifications?limit=2";
    assert_eq!(s.every_page(&s.sup, path, "subject_id").await, reports);

    // Read the newest; the unread pages skip it.
    let newest = s.read(&s.sup, "/api/v1/notifications?limit=1", 200).await;
    let id = newest["items"][0]["id"].as_i64().unwrap();
    s.act(
        &s.sup,
        &format!("/api/v1/notifications/{id}/read"),
        json!({}),
        200,
    )
    .await;
    let unread_ids: Vec<String> = inbox(&s, &s.sup, "?unread=true&limit=10")
        .await
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(unread_ids, reports[1..]);
    assert_eq!(inbox(&s, &s.sup, "?unread=false").await.len(), 5);
}

async fn bad_input_is_named(db: TestDb) {
    let s = scene(db).await;
    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=YWJj", "cursor"), // base64 of "abc"
        ("unread=maybe", "unread"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("colour=red", "colour"),
    ] {
        let body = problem(
            s.app
                .get(&s.sup, &format!("/api/v1/notifications?{query}"))
                .await,
            422,
        )
        .await;
        assert!(body["errors"][field].is_array(), "{query}: {body:#}");
    }
    for bad in ["abc", "-3", "1.5"] {
        let response = s
            .app
            .client
            .get(s.app.url("/api/v1/notifications/stream"))
            .bearer_auth(&s.sup)
            .header("Last-Event-ID", bad)
            .send()
            .await
            .unwrap();
        let body = problem(response, 422).await;
        assert!(
            body["errors"]["Last-Event-ID"].is_array(),
            "{bad}: {body:#}"
        );
    }
    // Without a session: 401 everywhere, the stream included.
    for path in [
        "/api/v1/notifications",
        "/api/v1/notifications/unread-count",
        "/api/v1/notifications/stream",
    ] {
        problem(s.app.get_anonymous(path).await, 401).await;
    }
    for path in [
        "/api/v1/notifications/1/read",
        "/api/v1/notifications/read-all",
    ] {
        let response = s
            .app
            .client
            .post(s.app.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(response, 401).await;
    }
}
