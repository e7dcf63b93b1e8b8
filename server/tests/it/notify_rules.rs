//! Notification rules 3 and 6, the SMS escalation and the daily digests,
//! on SQLite and PostgreSQL: follow-ups due and overdue told once each at
//! the scheduler's run; referral decisions told to the referrer and a
//! centre crossing 90 % told once to its province's staff; phones set and
//! refused; a critical notification left unread reaching a real HTTP SMS
//! sink after the delay, once, and nothing non-critical by SMS; an SMS
//! withdrawn unsent when its notification is read after the scan queued
//! it (before the worker's claim, or between claim and send); a bad SMS
//! setting leaving the server serving; the Kavenegar preset's request; and
//! a supervisor's digest collapsing pushes while the inbox keeps them all.
//! (Rule 5, iris duplicates, is asserted in `iris.rs` where reviews open.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use futures::future::BoxFuture;
use kudakyar::http::metrics::Metrics;
use kudakyar::notify::outbox::Claimed;
use kudakyar::notify::worker::{self, Channels, Outcome, Settings, Transport};
use kudakyar::notify::{preferences, schedule, sms, store};
use serde_json::{Value, json};

use crate::common::scene::{JUNCTION, Scene, new_id, scene_with, user};
use crate::common::{TestApp, TestDb, problem};

on_both_backends!(
    follow_ups_due_reach_the_worker_and_overdue_ones_the_supervisors_once,
    referral_decisions_reach_the_referrer_and_a_nearly_full_centre_its_staff_once,
    phones_are_validated_and_set_only_by_their_owner_or_manager,
    an_unread_critical_notification_goes_by_sms_once_after_the_delay,
    an_escalation_read_before_its_sms_goes_is_withdrawn_unsent,
    a_bad_sms_setting_leaves_the_server_serving_with_sms_off,
    the_kavenegar_preset_sends_its_form_and_reads_its_status,
    a_supervisors_digest_collapses_pushes_and_the_inbox_keeps_all,
);

const DAY: i64 = 24 * 3600 * 1000;

const SETTINGS: Settings = Settings {
    max_attempts: 3,
    retry_base_ms: 1000,
    retry_max_ms: 60_000,
    lease_ms: 30_000,
    batch: 50,
    poll: Duration::from_millis(50),
};

/// The scene with no delivery worker or scheduler of its own (the tests
/// run them by hand), and `configure` on top.
async fn hand_run_scene(
    db: TestDb,
    configure: impl FnOnce(&mut kudakyar::config::Config),
) -> Scene {
    scene_with(db, |c| {
        c.notify_workers = 0;
        c.notify_scheduler = false;
        c.push_allow_local_http = true;
        configure(c);
    })
    .await
}

/// `kind` notifications in `token`'s inbox: their subject ids, oldest first.
async fn told(s: &Scene, token: &str, kind: &str) -> Vec<String> {
    let inbox = s.read(token, "/api/v1/notifications?limit=200", 200).await;
    let mut ids: Vec<String> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| n["subject_id"].as_str().unwrap().to_string())
        .collect();
    ids.reverse();
    ids
}

fn rfc3339(ms: i64) -> String {
    kudakyar::ms_to_rfc3339(ms)
}

async fn encounter(s: &Scene, child: &str, at: i64, follow_up: Option<&str>) {
    let body = json!({
        "id": new_id(), "at": rfc3339(at), "lat": JUNCTION.0, "lng": JUNCTION.1,
        "next_follow_up": follow_up,
    });
    s.act(
        &s.worker,
        &format!("/api/v1/children/{child}/encounters"),
        body,
        201,
    )
    .await;
}

async fn follow_ups_due_reach_the_worker_and_overdue_ones_the_supervisors_once(db: TestDb) {
    let s = hand_run_scene(db, |_| {}).await;
    let now = kudakyar::now_ms();
    let today = preferences::tehran_day(now);
    let date = |d: i64| schedule::date_of(today + d);
    let [due, overdue, later, answered] = [
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
    ];
    for child in [&due, &overdue, &later, &answered] {
        sqlx::query("UPDATE children SET assigned_worker = $1 WHERE id = $2")
            .bind(&s.worker_id)
            .bind(child)
            .execute(s.app.state.db.pool())
            .await
            .unwrap();
    }
    encounter(&s, &due, now - 7 * DAY, Some(&date(0))).await;
    encounter(&s, &overdue, now - 10 * DAY, Some(&date(-3))).await;
    encounter(&s, &later, now - DAY, Some(&date(1))).await;
    // Its follow-up happened: the newer visit ends the reminders.
    encounter(&s, &answered, now - 10 * DAY, Some(&date(-5))).await;
    encounter(&s, &answered, now - 4 * DAY, None).await;

    let db = &s.app.state.db;
    // Two instances at once: one runs today, the other finds it done.
    let (a, b) = tokio::join!(
        schedule::follow_ups(db, now, 3),
        schedule::follow_ups(db, now, 3)
    );
    let mut runs = [a.unwrap(), b.unwrap()];
    runs.sort_by_key(Option::is_some);
    assert_eq!(runs[0], None);
    assert_eq!(runs[1], Some(schedule::FollowUps { due: 2, overdue: 1 }));
    let mut worker_told = told(&s, &s.worker, "follow_up_due").await;
    worker_told.sort();
    let mut expected = vec![due.clone(), overdue.clone()];
    expected.sort();
    assert_eq!(worker_told, expected);
    assert_eq!(
        told(&s, &s.sup, "follow_up_overdue").await,
        [overdue.as_str()]
    );
    assert!(
        told(&s, &s.other_county_sup, "follow_up_overdue")
            .await
            .is_empty(),
        "another county's supervisor"
    );
    // Later today (a restart): nothing more.
    assert_eq!(
        schedule::follow_ups(db, now + 60_000, 3).await.unwrap(),
        None
    );
    // Tomorrow: the next one is due; nobody is told twice of the others.
    assert_eq!(
        schedule::follow_ups(db, now + DAY, 3).await.unwrap(),
        Some(schedule::FollowUps { due: 1, overdue: 0 })
    );
    // Three days on, the first is overdue: its supervisors hear of it.
    assert_eq!(
        schedule::follow_ups(db, now + 3 * DAY, 3).await.unwrap(),
        Some(schedule::FollowUps { due: 0, overdue: 1 })
    );
    assert_eq!(told(&s, &s.sup, "follow_up_overdue").await, [overdue, due]);
    assert_eq!(told(&s, &s.worker, "follow_up_due").await.len(), 3);
}

async fn referral_decisions_reach_the_referrer_and_a_nearly_full_centre_its_staff_once(db: TestDb) {
    let s = hand_run_scene(db, |_| {}).await;
    let admin = s.app.admin_token().await;
    let (staff, _) = user(&s.app, "staff23", "provincial_staff", "IR-23", None).await;
    // 11 places: over 90 % from the 10th open file.
    let centre = s
        .act(
            &admin,
            "/api/v1/centres",
            json!({"name": "مرکز کوچک", "lat": JUNCTION.0, "lng": JUNCTION.1,
                   "province": "IR-23", "county": "2301", "capacity": 11}),
            201,
        )
        .await;
    let centre = centre["id"].as_str().unwrap().to_string();
    let mut children = Vec::new();
    for _ in 0..12 {
        children.push(s.child("2301").await);
    }
    let refer = async |child: &String| {
        let body = json!({"id": new_id(), "child_id": child, "centre_id": centre});
        s.app.post(&s.worker, "/api/v1/referrals", &body).await
    };
    // Nine, then two at once: only the one that makes ten crosses 90 %.
    for child in &children[..9] {
        assert_eq!(refer(child).await.status(), 201);
    }
    assert!(told(&s, &staff, "centre_nearly_full").await.is_empty());
    let (a, b) = tokio::join!(refer(&children[9]), refer(&children[10]));
    let first: Value = a.json().await.unwrap();
    assert_eq!(b.status(), 201);
    assert_eq!(
        told(&s, &staff, "centre_nearly_full").await,
        [centre.as_str()]
    );
    assert!(
        told(&s, &s.other_province, "centre_nearly_full")
            .await
            .is_empty(),
        "staff of another province"
    );

    // The centre decides: the referring worker hears of it, once.
    let state = |id: &Value| format!("/api/v1/referrals/{}/state", id.as_str().unwrap());
    for _ in 0..2 {
        s.act(
            &s.sup,
            &state(&first["id"]),
            json!({"state": "rejected"}),
            200,
        )
        .await;
    }
    assert_eq!(
        told(&s, &s.worker, "referral_decided").await,
        [first["id"].as_str().unwrap()]
    );
    // Below 90 % again (9 open of 11), then over: a second crossing.
    let others: Value = s
        .read(
            &s.worker,
            &format!("/api/v1/referrals?child_id={}", children[0]),
            200,
        )
        .await;
    s.act(
        &s.sup,
        &state(&others[0]["id"]),
        json!({"state": "rejected"}),
        200,
    )
    .await;
    assert_eq!(told(&s, &staff, "centre_nearly_full").await.len(), 1);
    assert_eq!(refer(&children[11]).await.status(), 201);
    assert_eq!(told(&s, &staff, "centre_nearly_full").await.len(), 2);
    assert_eq!(told(&s, &s.worker, "referral_decided").await.len(), 2);
}

async fn put_phone(app: &TestApp, token: &str, user_id: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/users/{user_id}/phone")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn phone_of(s: &Scene, user_id: &str) -> Option<String> {
    sqlx::query_scalar("SELECT phone FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(s.app.state.db.pool())
        .await
        .unwrap()
}

async fn phones_are_validated_and_set_only_by_their_owner_or_manager(db: TestDb) {
    let s = hand_run_scene(db, |_| {}).await;
    for bad in [json!({"phone": "12"}), json!({"phone": "+98 912 abc 4567"})] {
        let p = problem(put_phone(&s.app, &s.sup, &s.sup_id, bad).await, 422).await;
        assert!(p["errors"]["phone"].is_array(), "{p}");
    }
    let p = problem(
        put_phone(&s.app, &s.sup, &s.sup_id, json!({"phone": 9121234567_i64})).await,
        422,
    )
    .await;
    assert!(p.to_string().contains("phone"), "{p}");
    problem(
        put_phone(&s.app, &s.sup, &s.sup_id, json!({"mobile": "09121234567"})).await,
        422,
    )
    .await;
    assert_eq!(phone_of(&s, &s.sup_id).await, None, "nothing stored");
    // Their own, as dialled at home: stored in E.164; again: the same.
    for _ in 0..2 {
        let r = put_phone(&s.app, &s.sup, &s.sup_id, json!({"phone": "0912 123 4567"})).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"phone": "+989121234567"}));
    }
    // A worker manages nobody: another's phone looks absent; so does a
    // user of another province to provincial staff, and an unknown id.
    problem(
        put_phone(&s.app, &s.worker, &s.sup_id, json!({"phone": null})).await,
        404,
    )
    .await;
    problem(
        put_phone(
            &s.app,
            &s.other_province,
            &s.worker_id,
            json!({"phone": null}),
        )
        .await,
        404,
    )
    .await;
    let admin = s.app.admin_token().await;
    problem(
        put_phone(&s.app, &admin, "no-such-user", json!({"phone": null})).await,
        404,
    )
    .await;
    assert_eq!(
        phone_of(&s, &s.sup_id).await.as_deref(),
        Some("+989121234567")
    );
    // An administrator sets a worker's; null removes it.
    let r = put_phone(
        &s.app,
        &admin,
        &s.worker_id,
        json!({"phone": "+44 7700 900123"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        phone_of(&s, &s.worker_id).await.as_deref(),
        Some("+447700900123")
    );
    let r = put_phone(&s.app, &admin, &s.worker_id, json!({"phone": null})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(phone_of(&s, &s.worker_id).await, None);
    // Never in the users list (nor so in exports built from it).
    let users = s.read(&admin, "/api/v1/users?limit=200", 200).await;
    assert!(!users.to_string().contains("9121234567"), "{users}");
}

/// One request an HTTP sink received.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// An SMS gateway on this machine: it records every request and answers
/// from a script (then 200 with Kavenegar's success body).
#[derive(Clone, Default)]
struct SmsSink {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
}

async fn sink_receive(
    State(sink): State<SmsSink>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    sink.received.lock().unwrap().push(Received {
        method,
        path: uri.path().to_string(),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let (status, body) = sink.script.lock().unwrap().pop_front().unwrap_or((
        200,
        r#"{"return":{"status":200,"message":"تایید شد"},"entries":[]}"#.into(),
    ));
    (StatusCode::from_u16(status).unwrap(), body)
}

async fn sms_sink() -> (SmsSink, String) {
    let sink = SmsSink::default();
    let app = axum::Router::new()
        .fallback(sink_receive)
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sink, format!("http://{addr}"))
}

/// The worker's channels with SMS through the app's configured gateway.
fn sms_channels(s: &Scene) -> Channels {
    let gateway = s.app.state.sms.active().expect("SMS is configured");
    let sms = sms::Sms::new(s.app.state.db.clone(), gateway, Duration::from_secs(5)).unwrap();
    Channels {
        sms: Some(Arc::new(sms)),
        ..Channels::default()
    }
}

async fn round(s: &Scene, transport: &dyn Transport, now: i64) -> worker::Round {
    worker::run_once(&s.app.state.db, &SETTINGS, transport, &Metrics::new(), now)
        .await
        .unwrap()
}

/// The hand-run scene with SMS through the generic HTTP gateway to a local
/// sink (JSON body: `to`, `text`, `ref` the idempotency key), and the
/// county supervisor's phone set.
async fn sms_scene(db: TestDb) -> (SmsSink, Scene) {
    let (sink, base) = sms_sink().await;
    let s = hand_run_scene(db, |c| {
        c.sms_gateway = "http".into();
        c.sms_url = Some(format!("{base}/send"));
        c.sms_body_template =
            Some(r#"{"to": "{{to}}", "text": "{{message}}", "ref": "{{id}}"}"#.into());
        c.sms_api_key = Some("secret-key".into());
        c.sms_api_key_header = "X-Api-Key".into();
    })
    .await;
    let ready = s.read(&s.sup, "/api/v1/ready", 200).await;
    assert_eq!(ready["sms"], "on");
    let r = put_phone(&s.app, &s.sup, &s.sup_id, json!({"phone": "09121234567"})).await;
    assert_eq!(r.status(), 200);
    (sink, s)
}

/// A new child record with `risk` (rule 7: critical for the county's
/// supervisors), made by the worker; the record.
async fn child_at_risk(s: &Scene, risk: &str) -> Value {
    let child = json!({
        "id": new_id(), "given_name": "رضا", "sex": "male", "nationality": "iranian",
        "home_province": "IR-23", "home_county": "2301", "risk_flags": [risk],
    });
    s.act(&s.worker, "/api/v1/children", child, 201).await
}

/// The id of the notification in `token`'s inbox about `child`.
async fn notification_about(s: &Scene, token: &str, child: &Value) -> i64 {
    let inbox = s.read(token, "/api/v1/notifications?limit=200", 200).await;
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["subject_id"] == child["id"])
        .unwrap_or_else(|| panic!("no notification about {}: {inbox:#}", child["id"]))["id"]
        .as_i64()
        .unwrap()
}

async fn an_unread_critical_notification_goes_by_sms_once_after_the_delay(db: TestDb) {
    let (sink, s) = sms_scene(db).await;
    // The supervisor is in quiet hours around the time the SMS goes (two
    // hours either side of half an hour from now): the critical SMS goes
    // anyway.
    let minute = preferences::tehran_minute(kudakyar::now_ms() + 30 * 60_000);
    let hhmm = |m: i64| {
        format!(
            "{:02}:{:02}",
            m.rem_euclid(1440) / 60,
            m.rem_euclid(1440) % 60
        )
    };
    let quiet = json!({"quiet_hours": {"start": hhmm(minute - 120), "end": hhmm(minute + 120)}});
    let r = s
        .app
        .client
        .put(s.app.url("/api/v1/notifications/preferences"))
        .bearer_auth(&s.sup)
        .json(&quiet)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Non-critical (a citizen's report) and critical (a child at risk).
    s.citizen_reports(JUNCTION, 0).await;
    let unread = child_at_risk(&s, "signs_of_abuse").await;
    let read_in_time = child_at_risk(&s, "needs_medical_care").await;
    let unread_id = notification_about(&s, &s.sup, &unread).await;
    let read_id = notification_about(&s, &s.sup, &read_in_time).await;
    s.act(
        &s.sup,
        &format!("/api/v1/notifications/{read_id}/read"),
        json!({}),
        200,
    )
    .await;

    let db = &s.app.state.db;
    let delay = 30 * 60_000;
    let now = kudakyar::now_ms();
    // Not before the delay.
    assert_eq!(
        sms::escalate(db, now + delay - 60_000, delay)
            .await
            .unwrap(),
        0
    );
    // After it, two instances at once: one SMS in all, for the unread
    // critical notification only.
    let later = now + delay + 1000;
    let (a, b) = tokio::join!(
        sms::escalate(db, later, delay),
        sms::escalate(db, later, delay)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(sms::escalate(db, later + DAY, delay).await.unwrap(), 0);
    let channels = sms_channels(&s);
    let done = round(&s, &channels, later).await;
    assert_eq!(
        (done.sent, done.deferred),
        (1, 0),
        "critical: quiet hours or not"
    );
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, Method::POST);
    assert_eq!(got[0].path, "/send");
    assert_eq!(got[0].headers["x-api-key"], "secret-key");
    assert_eq!(got[0].headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["to"], "+989121234567");
    assert_eq!(body["ref"], format!("n{unread_id}:sms:{}", s.sup_id));
    let text = body["text"].as_str().unwrap();
    assert!(text.contains(&format!("#{unread_id}")), "{text}");
    assert!(!text.contains("رضا"), "no child's name by SMS: {text}");

    // A non-critical SMS (were one ever queued) waits out quiet hours.
    let report_note: i64 = sqlx::query_scalar(
        "SELECT id FROM notifications WHERE user_id = $1 AND critical = 0 ORDER BY id LIMIT 1",
    )
    .bind(&s.sup_id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let mut conn = db.pool().acquire().await.unwrap();
    kudakyar::notify::outbox::enqueue(
        &mut conn,
        report_note,
        kudakyar::notify::outbox::Channel::Sms,
        &s.sup_id,
        later,
    )
    .await
    .unwrap();
    drop(conn);
    let done = round(&s, &channels, later).await;
    assert_eq!((done.sent, done.deferred), (0, 1));
    assert_eq!(sink.received.lock().unwrap().len(), 1);

    // The gateway failing: 503 is retried (after its Retry-After), 400 is
    // given up on, and the error names no phone.
    sink.script
        .lock()
        .unwrap()
        .extend([(503, "busy".to_string()), (400, "bad number".to_string())]);
    let fresh = child_at_risk(&s, "signs_of_abuse").await;
    let t = kudakyar::now_ms() + delay + 1000;
    assert_eq!(sms::escalate(db, t, delay).await.unwrap(), 1);
    assert_eq!(round(&s, &channels, t).await.retried, 1);
    assert_eq!(round(&s, &channels, t + 3_600_000).await.dead, 1);
    let error: String = sqlx::query_scalar(
        "SELECT d.last_error FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         WHERE n.subject_id = $1 AND d.channel = 'sms'",
    )
    .bind(fresh["id"].as_str().unwrap())
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(error.contains("400") && !error.contains("912"), "{error}");
}

/// The SMS channel through the app's gateway, but the recipient reads
/// notification `read` after the worker claimed its SMS and before it is
/// sent — the race a re-check at sending closes.
struct ReadWhileClaimed {
    sms: Channels,
    pool: sqlx::AnyPool,
    user_id: String,
    read: i64,
}

impl Transport for ReadWhileClaimed {
    fn send<'a>(&'a self, d: &'a Claimed) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            if d.notification_id == self.read {
                let marked = store::mark_read(&self.pool, &self.user_id, self.read).await;
                assert!(marked.unwrap().is_some());
            }
            self.sms.send(d).await
        })
    }
}

async fn an_escalation_read_before_its_sms_goes_is_withdrawn_unsent(db: TestDb) {
    let (sink, s) = sms_scene(db).await;
    let read_before_claim = child_at_risk(&s, "signs_of_abuse").await;
    let read_while_claimed = child_at_risk(&s, "needs_medical_care").await;
    let never_read = child_at_risk(&s, "signs_of_abuse").await;
    let before = notification_about(&s, &s.sup, &read_before_claim).await;
    let during = notification_about(&s, &s.sup, &read_while_claimed).await;
    let unread = notification_about(&s, &s.sup, &never_read).await;

    // The scan picks all three: unread, critical, past the delay.
    let db = &s.app.state.db;
    let delay = 30 * 60_000;
    let later = kudakyar::now_ms() + delay + 1000;
    assert_eq!(sms::escalate(db, later, delay).await.unwrap(), 3);
    // One is read between the scan and the worker's claim, in the app…
    s.act(
        &s.sup,
        &format!("/api/v1/notifications/{before}/read"),
        json!({}),
        200,
    )
    .await;
    // …and one between the claim and the send.
    let transport = ReadWhileClaimed {
        sms: sms_channels(&s),
        pool: db.pool().clone(),
        user_id: s.sup_id.clone(),
        read: during,
    };
    let done = round(&s, &transport, later).await;
    assert_eq!(
        (
            done.claimed,
            done.sent,
            done.withdrawn,
            done.retried,
            done.dead
        ),
        (3, 1, 2, 0, 0)
    );
    // Only the unread one reached the gateway.
    let got = sink.received.lock().unwrap().clone();
    let refs: Vec<String> = got
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["ref"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(refs, [format!("n{unread}:sms:{}", s.sup_id)]);
    // The withdrawn rows are gone, not dead letters; the sent one stays.
    let sms_rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT notification_id, state FROM deliveries WHERE channel = 'sms' ORDER BY id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(sms_rows, [(unread, "sent".to_string())]);
    // And a later scan does not queue them again: they are read.
    assert_eq!(sms::escalate(db, later + DAY, delay).await.unwrap(), 0);
    assert_eq!(round(&s, &transport, later + DAY).await.claimed, 0);
    assert_eq!(sink.received.lock().unwrap().len(), 1);
}

async fn a_bad_sms_setting_leaves_the_server_serving_with_sms_off(db: TestDb) {
    let app = TestApp::start_with(db, |c| {
        c.sms_gateway = "http".into();
        c.sms_url = Some("http://127.0.0.1:9/send".into());
        c.sms_body_template = Some("{{to}} {{text}}".into());
        c.sms_api_key = Some("secret-key".into());
    })
    .await;
    let ready = app.get_anonymous("/api/v1/ready").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["sms"], "error");
    let why = ready["sms_error"].as_str().unwrap();
    assert!(
        why.contains("sms_body_template") && why.contains("{{text}}"),
        "{why}"
    );
    assert!(!why.contains("secret-key"));
    assert!(app.state.sms.active().is_none());
    // The rest serves.
    let admin = app.admin_token().await;
    assert_eq!(app.get(&admin, "/api/v1/users").await.status(), 200);
    let off = TestApp::start(TestDb::sqlite().await).await;
    let ready: Value = off
        .get_anonymous("/api/v1/ready")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["sms"], "off");
    assert!(ready.get("sms_error").is_none());
}

async fn the_kavenegar_preset_sends_its_form_and_reads_its_status(db: TestDb) {
    let (sink, base) = sms_sink().await;
    let s = hand_run_scene(db, |c| {
        c.sms_gateway = "kavenegar".into();
        c.sms_url = Some(base.clone());
        c.sms_api_key = Some("KEY-123".into());
        c.sms_sender = Some("10004346".into());
    })
    .await;
    put_phone(&s.app, &s.sup, &s.sup_id, json!({"phone": "+989121234567"})).await;
    child_at_risk(&s, "signs_of_abuse").await;
    let db = &s.app.state.db;
    let t = kudakyar::now_ms() + 31 * 60_000;
    assert_eq!(sms::escalate(db, t, 30 * 60_000).await.unwrap(), 1);
    // 200 with a failure status in the body (e.g. 418, no credit): retried.
    sink.script.lock().unwrap().push_back((
        200,
        r#"{"return":{"status":418,"message":"اعتبار کافی نیست"},"entries":null}"#.into(),
    ));
    let channels = sms_channels(&s);
    assert_eq!(round(&s, &channels, t).await.retried, 1);
    assert_eq!(round(&s, &channels, t + 3_600_000).await.sent, 1);
    let got = sink.received.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].path, "/v1/KEY-123/sms/send.json");
    assert_eq!(
        got[1].headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = url_form(&got[1].body);
    let get = |k: &str| form.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("receptor"), Some("+989121234567"));
    assert_eq!(get("sender"), Some("10004346"));
    assert!(get("message").unwrap().starts_with("کودک‌یار"));
    assert!(
        get("localid")
            .unwrap()
            .ends_with(&format!(":sms:{}", s.sup_id))
    );
}

/// A form body's pairs, percent-decoded.
fn url_form(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }
    body.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (decode(k), decode(v))
        })
        .collect()
}

/// Records what it is given to send.
#[derive(Default)]
struct Recorder {
    sent: Mutex<Vec<Claimed>>,
}

impl Transport for Recorder {
    fn send<'a>(&'a self, d: &'a Claimed) -> BoxFuture<'a, Outcome> {
        self.sent.lock().unwrap().push(d.clone());
        Box::pin(async { Outcome::Sent })
    }
}

async fn a_supervisors_digest_collapses_pushes_and_the_inbox_keeps_all(db: TestDb) {
    let s = hand_run_scene(db, |_| {}).await;
    let put = |token: &str, body: Value| {
        s.app
            .client
            .put(s.app.url("/api/v1/notifications/preferences"))
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    // A worker's own pushes are their tasks: no digest for them.
    let p = problem(put(&s.worker, json!({"digest": true})).await.unwrap(), 422).await;
    assert!(p["errors"]["digest"].is_array(), "{p}");
    let saved: Value = put(
        &s.sup,
        json!({"digest": true, "muted_kinds": ["follow_up_due"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(saved["digest"], true);
    let subscription = json!({
        "endpoint": "https://push.example/sup-phone",
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg"
        }
    });
    s.act(&s.sup, "/api/v1/push/subscriptions", subscription, 201)
        .await;
    for step in 0..3 {
        s.citizen_reports(JUNCTION, step).await;
    }
    let inbox = s.read(&s.sup, "/api/v1/notifications", 200).await;
    assert_eq!(
        inbox["items"].as_array().unwrap().len(),
        3,
        "the inbox keeps all"
    );
    let deliveries = "SELECT COUNT(*) FROM deliveries WHERE target <> $1";
    assert_eq!(s.count(deliveries, "").await, 0, "no push each");
    // Critical still goes at once.
    let child = json!({
        "id": new_id(), "given_name": "رضا", "sex": "male", "nationality": "iranian",
        "home_province": "IR-23", "home_county": "2301", "risk_flags": ["signs_of_abuse"],
    });
    s.act(&s.worker, "/api/v1/children", child, 201).await;
    assert_eq!(s.count(deliveries, "").await, 1);

    let db = &s.app.state.db;
    let now = kudakyar::now_ms();
    let (a, b) = tokio::join!(schedule::digests(db, now), schedule::digests(db, now));
    let mut runs = [a.unwrap(), b.unwrap()];
    runs.sort();
    assert_eq!(runs, [None, Some(1)]);
    let recorder = Recorder::default();
    let done = round(&s, &recorder, now).await;
    assert_eq!(done.sent, 2);
    let sent = recorder.sent.lock().unwrap().clone();
    let digest: Vec<&Claimed> = sent.iter().filter(|d| d.digest_count.is_some()).collect();
    assert_eq!(digest.len(), 1);
    assert_eq!(digest[0].digest_count, Some(3));
    assert!(!digest[0].critical);
    assert_eq!(
        digest[0].notification_id,
        inbox["items"][0]["id"].as_i64().unwrap(),
        "it opens the newest"
    );
    // Tomorrow, nothing new: no digest.
    assert_eq!(schedule::digests(db, now + DAY).await.unwrap(), Some(0));
    assert_eq!(s.count(deliveries, "").await, 2);
}
