//! Concurrent writers, as phones make them: each kind of write fired 50 at a
//! time (a few phones syncing six requests at once) through a client that
//! accepts gzip and br like a browser, on SQLite and PostgreSQL. No answer
//! may be a 5xx; a retry racing its own first send answers like the first.

use crate::common::{TestApp, TestDb};
use serde_json::{Value, json};

on_both_backends!(
    child_creates_and_updates,
    encounter_creates,
    referral_creates_and_state_changes,
    merges_and_undos,
    one_duplicate_merged_into_two_survivors_at_once,
    review_decisions,
    opposite_decisions_of_one_review_at_once,
    photo_uploads,
    iris_enrolments,
);

/// How many requests each test fires at once.
pub(crate) const N: usize = 50;

/// Sends every request at once (each on its own task, so the server sees
/// them in parallel) and returns each answer's status and body, in order.
pub(crate) async fn fire(requests: Vec<reqwest::RequestBuilder>) -> Vec<(u16, Value)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, request) in requests.into_iter().enumerate() {
        tasks.spawn(async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (i, status, response.json().await.unwrap_or(Value::Null))
        });
    }
    let mut out = vec![(0, Value::Null); tasks.len()];
    while let Some(done) = tasks.join_next().await {
        let (i, status, body) = done.unwrap();
        out[i] = (status, body);
    }
    out
}

/// Fails naming every answer outside `allowed` (and so every 5xx).
pub(crate) fn only(answers: &[(u16, Value)], allowed: &[u16], what: &str) {
    let wrong: Vec<&(u16, Value)> = answers
        .iter()
        .filter(|(s, _)| !allowed.contains(s))
        .collect();
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} answers not in {allowed:?}: {wrong:#?}",
        wrong.len(),
        answers.len()
    );
}

pub(crate) fn count(answers: &[(u16, Value)], status: u16) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

/// The `i`-th client id of a kind (`kind` is one hex digit).
fn id(kind: char, i: usize) -> String {
    format!("{kind}0000000-0000-4000-8000-{i:012}")
}

fn child(id: &str, i: usize) -> Value {
    json!({
        "id": id, "given_name": format!("کودک {i}"), "sex": "male", "nationality": "afghan",
        "home_province": "IR-23", "birth": {"precision": "estimated", "estimated_age": 10},
    })
}

async fn user(app: &TestApp, name: &str, role: &str) -> (String, String) {
    app.user_with_token(name, role, "IR-23").await
}

fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::RequestBuilder {
    app.client.post(app.url(path)).bearer_auth(token).json(body)
}

/// `n` children created one after the other; their ids.
async fn children(app: &TestApp, token: &str, kind: char, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = id(kind, i);
        let r = app.post(token, "/api/v1/children", &child(&id, i)).await;
        assert_eq!(r.status(), 201);
        ids.push(id);
    }
    ids
}

pub(crate) async fn child_creates_and_updates(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let distinct = fire(
        (0..N)
            .map(|i| post(&app, &w, "/api/v1/children", &child(&id('c', i), i)))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct creates");

    let same = child(&id('d', 0), 0);
    let identical = fire(
        (0..N)
            .map(|_| post(&app, &w, "/api/v1/children", &same))
            .collect(),
    )
    .await;
    only(&identical, &[200, 201], "identical creates");
    assert_eq!(count(&identical, 201), 1, "one create, the rest retries");

    let patch = |id: &str, body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/children/{id}")))
            .bearer_auth(&w)
            .json(&body)
    };
    let many = fire(
        (0..N)
            .map(|i| {
                patch(
                    &id('c', i),
                    json!({"base_version": 1, "changes": {"family_name": format!("خانواده {i}")}}),
                )
            })
            .collect(),
    )
    .await;
    only(&many, &[200], "updates of different children");

    // Every update of one child from version 1 changes the same field: the
    // first applies, the others are told of the conflict (or to retry).
    let one = id('c', 0);
    let racing = fire(
        (0..N)
            .map(|i| {
                patch(
                    &one,
                    json!({"base_version": 2, "changes": {"given_name": format!("نام {i}")}}),
                )
            })
            .collect(),
    )
    .await;
    only(&racing, &[200, 409], "updates of one child");
    assert_eq!(count(&racing, 200), 1, "{racing:#?}");
    let stored: Value = app.get_json(&w, &format!("/api/v1/children/{one}")).await;
    assert_eq!(stored["version"], 3, "one update, nothing lost or doubled");

    // One update re-sent by the outbox, the copies arriving together: each
    // answers like the first, and it is applied once.
    let resent = fire(
        (0..N)
            .map(|_| {
                patch(
                    &one,
                    json!({"base_version": 3, "changes": {"family_name": "یکی"}}),
                )
            })
            .collect(),
    )
    .await;
    only(&resent, &[200], "one update sent many times");
    for (_, body) in &resent {
        assert_eq!(body["version"], 4, "{body}");
    }
}

pub(crate) async fn encounter_creates(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let kids = children(&app, &w, 'c', 5).await;
    let encounter = |i: usize| {
        json!({"id": id('e', i), "at": format!("2026-11-01T10:{:02}:00Z", i % 60),
               "lat": 35.7, "lng": 51.4})
    };
    let distinct = fire(
        (0..N)
            .map(|i| {
                let child = &kids[i % kids.len()];
                post(
                    &app,
                    &w,
                    &format!("/api/v1/children/{child}/encounters"),
                    &encounter(i),
                )
            })
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct encounters");

    // The outbox re-sends a request whose answer it did not see: the copies
    // may arrive together, and each must answer like the first.
    let retry = encounter(N);
    let identical = fire(
        (0..N)
            .map(|_| {
                post(
                    &app,
                    &w,
                    &format!("/api/v1/children/{}/encounters", kids[0]),
                    &retry,
                )
            })
            .collect(),
    )
    .await;
    only(&identical, &[200, 201], "identical encounters");
    assert_eq!(count(&identical, 201), 1);
    for (_, body) in &identical {
        assert_eq!(body["id"], retry["id"]);
    }
}

/// A centre of IR-23 with room for `capacity` open files; its id.
async fn centre(app: &TestApp, staff: &str, capacity: i64) -> String {
    let r = app
        .post(
            staff,
            "/api/v1/centres",
            &json!({"name": "مرکز", "lat": 35.7, "lng": 51.4, "province": "IR-23",
                    "capacity": capacity}),
        )
        .await;
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn referral_creates_and_state_changes(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let (_, s) = user(&app, "supervisor1", "supervisor").await;
    let (_, staff) = user(&app, "staff1", "provincial_staff").await;
    let kids = children(&app, &w, 'c', 5).await;
    let roomy = centre(&app, &staff, 450).await;
    let referral = |i: usize, centre: &str| json!({"id": id('f', i), "child_id": kids[i % kids.len()], "centre_id": centre});
    let distinct = fire(
        (0..N)
            .map(|i| post(&app, &w, "/api/v1/referrals", &referral(i, &roomy)))
            .collect(),
    )
    .await;
    only(&distinct, &[201], "distinct referrals");

    let retry = referral(N, &roomy);
    let identical = fire(
        (0..N)
            .map(|_| post(&app, &w, "/api/v1/referrals", &retry))
            .collect(),
    )
    .await;
    only(&identical, &[200, 201], "identical referrals");
    assert_eq!(count(&identical, 201), 1);

    let moves = fire(
        (0..N)
            .map(|i| {
                post(
                    &app,
                    &s,
                    &format!("/api/v1/referrals/{}/state", id('f', i)),
                    &json!({"state": "accepted"}),
                )
            })
            .collect(),
    )
    .await;
    only(&moves, &[200], "state changes of different referrals");
    let same_move = fire(
        (0..N)
            .map(|_| {
                post(
                    &app,
                    &s,
                    &format!("/api/v1/referrals/{}/state", id('f', N)),
                    &json!({"state": "accepted"}),
                )
            })
            .collect(),
    )
    .await;
    only(&same_move, &[200], "one state change sent many times");

    // A centre with room for 10 takes 10, however many arrive at once.
    let small = centre(&app, &staff, 10).await;
    let crowd = fire(
        (0..N)
            .map(|i| post(&app, &w, "/api/v1/referrals", &referral(100 + i, &small)))
            .collect(),
    )
    .await;
    only(&crowd, &[201, 422], "referrals to a full centre");
    assert_eq!(count(&crowd, 201), 10, "{crowd:#?}");
}

pub(crate) async fn merges_and_undos(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let (_, s) = user(&app, "supervisor1", "supervisor").await;
    let kids = children(&app, &w, 'c', 2 * N).await;
    let merges = fire(
        (0..N)
            .map(|i| {
                post(
                    &app,
                    &s,
                    &format!("/api/v1/children/{}/merge", kids[2 * i]),
                    &json!({"duplicate_id": kids[2 * i + 1]}),
                )
            })
            .collect(),
    )
    .await;
    only(&merges, &[201], "merges of different pairs");
    let undos = fire(
        merges
            .iter()
            .map(|(_, m)| {
                post(
                    &app,
                    &s,
                    &format!("/api/v1/merges/{}/undo", m["id"].as_str().unwrap()),
                    &json!({}),
                )
            })
            .collect(),
    )
    .await;
    only(&undos, &[200], "undos of different merges");
    // And one undo sent many times: one undoes, the others hear it is done.
    let again = fire(
        (0..N)
            .map(|_| {
                post(
                    &app,
                    &s,
                    &format!(
                        "/api/v1/merges/{}/undo",
                        merges[0].1["id"].as_str().unwrap()
                    ),
                    &json!({}),
                )
            })
            .collect(),
    )
    .await;
    only(&again, &[409], "an undo already done");
}

/// Two supervisors merge one duplicate, each into another survivor, at the
/// same moment: one merge wins, the other is refused, and the duplicate
/// points at the winner's survivor.
pub(crate) async fn one_duplicate_merged_into_two_survivors_at_once(db: TestDb) {
    let app = TestApp::start(db).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let (_, s) = user(&app, "supervisor1", "supervisor").await;
    let kids = children(&app, &w, 'c', N + 1).await;
    let duplicate = &kids[N];
    let merges = fire(
        (0..N)
            .map(|i| {
                post(
                    &app,
                    &s,
                    &format!("/api/v1/children/{}/merge", kids[i]),
                    &json!({"duplicate_id": duplicate}),
                )
            })
            .collect(),
    )
    .await;
    only(&merges, &[201, 409], "merges of one duplicate");
    assert_eq!(count(&merges, 201), 1, "{merges:#?}");
    let winner = &merges.iter().find(|(s, _)| *s == 201).unwrap().1;
    let into: Option<String> = sqlx::query_scalar("SELECT merged_into FROM children WHERE id = $1")
        .bind(duplicate)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(into.as_deref(), winner["survivor_id"].as_str());
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM child_merges")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(recorded, 1);
}

/// Opens a review of the pair straight in the database, as a registration
/// with matching irises does (synthetic eyes cost seconds each).
pub async fn open_review(app: &TestApp, id: &str, child: &str, candidate: &str, by: &str) {
    sqlx::query(
        "INSERT INTO identity_reviews (id, child_id, candidate_id, child_province,
            candidate_province, reason, distances, opened_by, opened_at)
         VALUES ($1, $2, $3, 'IR-23', 'IR-23', 'offline_registration', '{}', $4, $5)",
    )
    .bind(id)
    .bind(child)
    .bind(candidate)
    .bind(by)
    .bind(1_700_000_000_000_i64)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE children SET identity_review_since = 1 WHERE id = $1")
        .bind(child)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

pub(crate) async fn review_decisions(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, w) = user(&app, "worker1", "outreach_worker").await;
    let (_, s) = user(&app, "supervisor1", "supervisor").await;
    let kids = children(&app, &w, 'c', 2 * N).await;
    for i in 0..N {
        open_review(
            &app,
            &id('a', i),
            &kids[2 * i + 1],
            &kids[2 * i],
            &worker_id,
        )
        .await;
    }
    let decisions = fire(
        (0..N)
            .map(|i| {
                let decision = if i % 2 == 0 {
                    "same_child"
                } else {
                    "different_children"
                };
                post(
                    &app,
                    &s,
                    &format!("/api/v1/iris/reviews/{}/decision", id('a', i)),
                    &json!({"decision": decision}),
                )
            })
            .collect(),
    )
    .await;
    only(&decisions, &[200], "decisions of different reviews");
    for (i, (_, review)) in decisions.iter().enumerate() {
        assert_eq!(review["merge_id"].is_string(), i % 2 == 0, "{review}");
        if i % 2 == 1 {
            assert_eq!(review["record"]["child"]["identity"], "confirmed");
        }
    }
}

/// Two supervisors decide one review at the same moment, one "same child",
/// the other "different children": one decision stands, the other hears it
/// was decided, and the records are merged exactly when the standing
/// decision says "same child".
async fn opposite_decisions_of_one_review_at_once(db: TestDb) {
    let app = TestApp::start(db).await;
    let (worker_id, w) = user(&app, "worker1", "outreach_worker").await;
    let (_, s1) = user(&app, "supervisor1", "supervisor").await;
    let (_, s2) = user(&app, "supervisor2", "supervisor").await;
    let pairs = N / 2;
    let kids = children(&app, &w, 'c', 2 * pairs).await;
    for i in 0..pairs {
        open_review(
            &app,
            &id('a', i),
            &kids[2 * i + 1],
            &kids[2 * i],
            &worker_id,
        )
        .await;
    }
    let decide = |i: usize, token: &str, decision: &str| {
        post(
            &app,
            token,
            &format!("/api/v1/iris/reviews/{}/decision", id('a', i / 2)),
            &json!({"decision": decision}),
        )
    };
    let answers = fire(
        (0..2 * pairs)
            .map(|i| {
                if i % 2 == 0 {
                    decide(i, &s1, "same_child")
                } else {
                    decide(i, &s2, "different_children")
                }
            })
            .collect(),
    )
    .await;
    only(&answers, &[200, 409], "opposite decisions");
    for i in 0..pairs {
        let pair = &answers[2 * i..2 * i + 2];
        assert_eq!(count(pair, 200), 1, "one decision stands: {pair:#?}");
        let (decision, merged): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT r.decision, c.merged_into FROM identity_reviews r
             JOIN children c ON c.id = r.child_id WHERE r.id = $1",
        )
        .bind(id('a', i))
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(
            decision.as_deref() == Some("same_child"),
            merged.is_some(),
            "review {i}: decision {decision:?}, merged into {merged:?}"
        );
    }
}

pub(crate) async fn photo_uploads(db: TestDb) {
    // The upload cap (429 beyond it, `photos::uploads_beyond_the_cap_are_told_to_come_back`)
    // is lifted here: this is about the write path under concurrent writers.
    let app = TestApp::start_with(db, |c| c.max_concurrent_uploads = N).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let kids = children(&app, &w, 'c', 5).await;
    let file = crate::photos::jpeg(40, 30);
    let uploads = fire(
        (0..N)
            .map(|i| {
                let form = reqwest::multipart::Form::new().text("id", id('b', i)).part(
                    "photo",
                    reqwest::multipart::Part::bytes(file.clone())
                        .file_name("p.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                );
                app.client
                    .post(app.url(&format!("/api/v1/children/{}/photos", kids[i % kids.len()])))
                    .bearer_auth(&w)
                    .multipart(form)
            })
            .collect(),
    )
    .await;
    only(&uploads, &[201], "photo uploads");
}

/// One eye enrolled into many records at once (a child registered again and
/// again): every enrolment is stored, and each pair of records that match
/// gets one review, whichever side enrolled first.
pub(crate) async fn iris_enrolments(db: TestDb) {
    // Captures are analysed two at a time (`biometrics::capture`), seconds
    // each in a debug build: two phones' worth of enrolments, and no request
    // timeout to turn a slow machine into a failure (speed is for benches).
    let app = TestApp::start_with(db, |c| c.request_timeout_secs = 3600).await;
    let (_, w) = user(&app, "worker1", "outreach_worker").await;
    let kids = children(&app, &w, 'c', 12).await;
    let left = crate::iris::eye(1, 0);
    let enrolments = fire(
        kids.iter()
            .map(|child| {
                let form = reqwest::multipart::Form::new().part(
                    "left",
                    reqwest::multipart::Part::bytes(left.clone())
                        .file_name("eye.png")
                        .mime_str("image/png")
                        .unwrap(),
                );
                app.client
                    .post(app.url(&format!("/api/v1/children/{child}/iris")))
                    .bearer_auth(&w)
                    .multipart(form)
            })
            .collect(),
    )
    .await;
    only(&enrolments, &[201], "iris enrolments");
    let (reviews, pairs): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT CASE WHEN child_id < candidate_id
                THEN child_id || candidate_id ELSE candidate_id || child_id END)
         FROM identity_reviews",
    )
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(reviews, pairs, "one review per pair");
}
