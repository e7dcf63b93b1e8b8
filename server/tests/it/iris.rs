//! Iris in the registry over HTTP, on SQLite and PostgreSQL, with synthetic
//! eyes from the engine's generator: registration with deduplication, late
//! offline registrations, identification and scope, the review queue and
//! merges, key rotation and re-encoding, two instances sharing a gallery,
//! and bad input.

use std::io::Cursor;
use std::time::Duration;

use crate::common::{
    Part, TestApp, TestDb, UnfinishedUpload, audit_entries, json_of, post_form_at, problem, texts,
    with_action, worker,
};
use serde_json::{Value, json};

on_both_backends!(
    the_same_child_registered_twice_is_found_and_kept_as_one,
    a_late_offline_registration_of_a_known_child_waits_for_review,
    identify_stays_in_scope_and_reviews_reach_both_provinces,
    two_instances_share_one_gallery,
    key_rotation_and_reencoding_keep_every_template_matchable,
    bad_input_names_the_field_and_writes_nothing,
    a_retry_after_a_removal_writes_nothing,
    orphaned_captures_are_swept_after_a_grace_period,
    a_corrupted_template_is_left_out_and_counted,
    a_rotation_retires_the_old_key_only_when_no_row_uses_it,
    a_capture_out_of_scope_is_refused_before_its_body,
    iris_lists_matches_and_reviews_are_reads,
);

/// A synthetic eye image (PNG) of identity `id`: the first capture from
/// `from` on that the engine accepts (a few synthetic captures are, like
/// real ones, unusable).
pub(crate) fn eye(id: u64, from: u64) -> Vec<u8> {
    let cfg = iris::Config::default();
    for capture in from..from + 20 {
        let img = iris::synth::eye(7, id, capture, iris::synth::Resolution::Small);
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let png = png.into_inner();
        if iris::enrol(&png, &cfg).is_ok() {
            return png;
        }
    }
    panic!("no usable capture of identity {id}");
}

fn child(id: &str, name: &str, province: &str) -> String {
    json!({
        "id": id, "given_name": name, "sex": "male", "nationality": "afghan",
        "home_province": province, "birth": {"precision": "estimated", "estimated_age": 11},
    })
    .to_string()
}

async fn register(
    app: &TestApp,
    token: &str,
    record: &str,
    decision: Option<&str>,
    eyes: &[(&str, &[u8])],
) -> reqwest::Response {
    let mut parts: Vec<Part> = vec![("child", "", record.as_bytes())];
    if let Some(d) = decision {
        parts.push(("decision", "", d.as_bytes()));
    }
    for (name, bytes) in eyes {
        parts.push((name, "eye.png", bytes));
    }
    app.post_form(token, "/api/v1/registrations", &parts).await
}

/// Registers a record with the given eyes and no decision; expects 201.
async fn registered(app: &TestApp, token: &str, record: &str, eyes: &[(&str, &[u8])]) -> Value {
    json_of(register(app, token, record, None, eyes).await, 201).await
}

/// How many live children the caller's search lists (at most 100).
async fn count_children(app: &TestApp, token: &str) -> usize {
    let body = json_of(app.get(token, "/api/v1/children?limit=100").await, 200).await;
    body["items"].as_array().unwrap().len()
}

async fn supervisor(app: &TestApp, name: &str, province: &str) -> String {
    app.token_for(name, "supervisor", province).await
}

const A: &str = "0a000000-0000-4000-8000-00000000000a";
const B: &str = "0b000000-0000-4000-8000-00000000000b";
const C: &str = "0c000000-0000-4000-8000-00000000000c";

fn no_biometrics_in(body: &Value) {
    let text = body.to_string();
    for word in ["sealed", "template\"", "capture_key"] {
        assert!(!text.contains(word), "{word} in {text}");
    }
}

async fn the_same_child_registered_twice_is_found_and_kept_as_one(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let (left1, right1) = (eye(1, 0), eye(2, 0));
    let first = register(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        None,
        &[("left", &left1), ("right", &right1)],
    )
    .await;
    let first = json_of(first, 201).await;
    no_biometrics_in(&first);
    assert_eq!(first["child"]["identity"], "confirmed");
    assert_eq!(first["enrolled"].as_array().unwrap().len(), 2);
    assert_eq!(first["matches"]["candidates"], json!([]));
    let encounter =
        json!({"at": "2026-11-01T10:00:00Z", "lat": 38.07, "lng": 46.29, "accuracy_m": 10});
    json_of(
        app.post(
            &token,
            &format!("/api/v1/children/{A}/encounters"),
            &encounter,
        )
        .await,
        201,
    )
    .await;

    // Weeks later, another capture of the same eyes, under another name:
    // "who is this child?" finds the record.
    let (left2, right2) = (eye(1, 5), eye(2, 5));
    assert_ne!(left1, left2);
    let found = app
        .post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "l.png", &left2), ("right", "r.png", &right2)],
        )
        .await;
    let found = json_of(found, 200).await;
    no_biometrics_in(&found);
    let candidates = found["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{found:#}");
    assert_eq!(candidates[0]["child_id"], A);
    assert!(candidates[0]["distance"].as_f64().unwrap() < 0.33);
    assert!(
        candidates[0]["left_distance"].is_number() && candidates[0]["right_distance"].is_number()
    );
    assert_eq!(found["match_elsewhere"], false);

    // "Same child": an encounter and the new captures go to that record.
    json_of(
        app.post(
            &token,
            &format!("/api/v1/children/{A}/encounters"),
            &encounter,
        )
        .await,
        201,
    )
    .await;
    let enrolled = app
        .post_form(
            &token,
            &format!("/api/v1/children/{A}/iris"),
            &[("left", "l.png", &left2)],
        )
        .await;
    let enrolled = json_of(enrolled, 201).await;
    assert_eq!(
        enrolled["reviews_opened"], 0,
        "its own templates are no duplicate"
    );
    // Sent again (the app retries): stored once.
    let again = app
        .post_form(
            &token,
            &format!("/api/v1/children/{A}/iris"),
            &[("left", "l.png", &left2)],
        )
        .await;
    json_of(again, 200).await;
    let list = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 3, "{list:#}");
    no_biometrics_in(&list);
    let encounters = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/encounters"))
            .await,
        200,
    )
    .await;
    assert_eq!(encounters.as_array().unwrap().len(), 2);
    assert_eq!(count_children(&app, &token).await, 1);

    // A different child does not match.
    let other = app
        .post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "x.png", &eye(40, 0))],
        )
        .await;
    assert_eq!(json_of(other, 200).await["candidates"], json!([]));
}

async fn a_late_offline_registration_of_a_known_child_waits_for_review(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let boss = supervisor(&app, "super1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(3, 0))],
    )
    .await;

    // Queued offline: the worker never saw candidates.
    let late = child(B, "علی", "IR-23");
    let capture = eye(3, 6);
    let sent = registered(&app, &token, &late, &[("left", &capture)]).await;
    assert_eq!(sent["child"]["id"], B);
    assert_eq!(sent["child"]["identity"], "pending_review");
    assert_eq!(sent["reviews_opened"], 1);
    assert_eq!(sent["matches"]["candidates"][0]["child_id"], A);
    // The app sends it again (no answer reached it): nothing doubles.
    let resent = json_of(
        register(&app, &token, &late, None, &[("left", &capture)]).await,
        200,
    )
    .await;
    assert_eq!(resent["reviews_opened"], 0);
    assert_eq!(resent["enrolled"][0]["id"], sent["enrolled"][0]["id"]);
    assert_eq!(count_children(&app, &token).await, 2);
    let templates = json_of(
        app.get(&token, &format!("/api/v1/children/{B}/iris")).await,
        200,
    )
    .await;
    assert_eq!(templates.as_array().unwrap().len(), 1);

    // Workers do not decide; the supervisor sees both records side by side.
    let forbidden = app.get(&token, "/api/v1/iris/reviews").await;
    problem(forbidden, 403).await;
    let queue = json_of(app.get(&boss, "/api/v1/iris/reviews").await, 200).await;
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["reason"], "offline_registration");
    let id = queue[0]["id"].as_str().unwrap();
    let review = json_of(
        app.get(&boss, &format!("/api/v1/iris/reviews/{id}")).await,
        200,
    )
    .await;
    assert_eq!(review["record"]["child"]["id"], B);
    assert_eq!(review["candidate"]["child"]["id"], A);
    assert!(review["left_distance"].as_f64().unwrap() < 0.33);
    no_biometrics_in(&review);

    // Same child: B merges into A, which keeps both templates.
    let decided = app
        .post(
            &boss,
            &format!("/api/v1/iris/reviews/{id}/decision"),
            &json!({"decision": "same_child"}),
        )
        .await;
    let decided = json_of(decided, 200).await;
    assert_eq!(decided["decision"], "same_child");
    assert!(decided["merge_id"].is_string());
    let merged = app.get(&token, &format!("/api/v1/children/{B}")).await;
    assert!(
        merged.status() == 308 || merged.url().path().ends_with(A),
        "{:?}",
        merged.status()
    );
    let templates = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    assert_eq!(templates.as_array().unwrap().len(), 2);
    // Undone within 30 days, the template goes back with its record.
    let merge = decided["merge_id"].as_str().unwrap();
    json_of(
        app.post(&boss, &format!("/api/v1/merges/{merge}/undo"), &json!({}))
            .await,
        200,
    )
    .await;
    for child in [A, B] {
        let t = json_of(
            app.get(&token, &format!("/api/v1/children/{child}/iris"))
                .await,
            200,
        )
        .await;
        assert_eq!(t.as_array().unwrap().len(), 1, "{child}");
    }
    json_of(
        app.post(
            &boss,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await,
        201,
    )
    .await;
    let again = app
        .post(
            &boss,
            &format!("/api/v1/iris/reviews/{id}/decision"),
            &json!({"decision": "same_child"}),
        )
        .await;
    problem(again, 409).await;
    assert_eq!(
        json_of(app.get(&boss, "/api/v1/iris/reviews").await, 200).await,
        json!([])
    );
    // Identification now names the surviving record only.
    let found = app
        .post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "l.png", &eye(3, 12))],
        )
        .await;
    let found = json_of(found, 200).await;
    let ids: Vec<&str> = texts(&found["candidates"], "child_id");
    assert_eq!(ids, vec![A]);
}

async fn identify_stays_in_scope_and_reviews_reach_both_provinces(db: TestDb) {
    let app = TestApp::start(db).await;
    let tabriz = worker(&app, "worker23", "IR-23").await;
    let tehran = worker(&app, "worker07", "IR-07").await;
    let boss23 = supervisor(&app, "super23", "IR-23").await;
    let boss07 = supervisor(&app, "super07", "IR-07").await;
    registered(
        &app,
        &tehran,
        &child(A, "رضا", "IR-07"),
        &[("right", &eye(5, 0))],
    )
    .await;

    // Seen in Tabriz: the match is outside the worker's scope.
    let probe = eye(5, 4);
    let found = json_of(
        app.post_form(
            &tabriz,
            "/api/v1/iris/identify",
            &[("right", "r.png", &probe)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(found["candidates"], json!([]));
    assert_eq!(found["match_elsewhere"], true);
    assert!(
        !found.to_string().contains(A),
        "nothing about that child leaks"
    );
    let found = json_of(
        app.post_form(
            &tehran,
            "/api/v1/iris/identify",
            &[("right", "r.png", &probe)],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(found["candidates"][0]["child_id"], A);

    // Registered in Tabriz anyway, after seeing "a match elsewhere".
    let reg = register(
        &app,
        &tabriz,
        &child(B, "علی", "IR-23"),
        Some("new_child"),
        &[("right", &probe)],
    )
    .await;
    let reg = json_of(reg, 201).await;
    assert_eq!(reg["child"]["identity"], "confirmed");
    assert_eq!(reg["reviews_opened"], 1);
    assert_eq!(reg["matches"]["match_elsewhere"], true);
    assert!(!reg.to_string().contains(A));
    // Supervisors of both provinces see the task, each only their own side.
    let q23 = json_of(app.get(&boss23, "/api/v1/iris/reviews").await, 200).await;
    let q07 = json_of(app.get(&boss07, "/api/v1/iris/reviews").await, 200).await;
    assert_eq!(q23[0]["reason"], "declared_new_child");
    assert_eq!(q23[0]["record"]["child_id"], B);
    assert_eq!(q23[0]["candidate"]["child_id"], Value::Null);
    assert_eq!(q23[0]["candidate"]["province"], "IR-07");
    assert_eq!(q07[0]["candidate"]["child_id"], A);
    assert_eq!(q07[0]["record"]["child_id"], Value::Null);
    // Rule 5: the supervisors of both provinces were told of the task.
    for boss in [&boss23, &boss07] {
        let inbox = json_of(app.get(boss, "/api/v1/notifications").await, 200).await;
        assert_eq!(inbox["items"].as_array().unwrap().len(), 1, "{inbox:#}");
        assert_eq!(inbox["items"][0]["kind"], "iris_review_opened");
        assert_eq!(inbox["items"][0]["subject_type"], "identity_review");
        assert_eq!(inbox["items"][0]["subject_id"], q23[0]["id"]);
    }
    // Neither can decide alone; a national administrator can.
    let id = q23[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/iris/reviews/{id}/decision");
    problem(
        app.post(&boss23, &path, &json!({"decision": "different_children"}))
            .await,
        403,
    )
    .await;
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            &path,
            &json!({"decision": "different_children", "survivor_id": A}),
        )
        .await;
    assert!(problem(bad, 422).await["errors"]["survivor_id"].is_array());
    let done = json_of(
        app.post(&admin, &path, &json!({"decision": "different_children"}))
            .await,
        200,
    )
    .await;
    assert_eq!(done["decision"], "different_children");
    assert_eq!(done["merge_id"], Value::Null);
    // Identification is audited.
    let audit = json_of(
        app.get(&admin, "/api/v1/audit?resource_type=child&limit=200")
            .await,
        200,
    )
    .await;
    let identified = with_action(&audit["items"], "iris.identify").len();
    assert_eq!(identified, 2, "{audit:#}");
}

async fn two_instances_share_one_gallery(db: TestDb) {
    // Two application instances on one database, each with its own gallery
    // (the binary end-to-end test does the same with two processes).
    let second_db = db.db.clone();
    let dir = db.dir.path().to_path_buf();
    let app = TestApp::start_with(db, |c| c.iris_sync_interval_ms = 200).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let mut config = app.state.config.as_ref().clone();
    config.data_dir = dir;
    let other = kudakyar::app::AppState::with_db(config, second_db)
        .await
        .unwrap();
    assert_eq!(other.biometrics.gallery.len(), 0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(kudakyar::app::serve(
        other.clone(),
        listener,
        std::future::pending(),
    ));

    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(8, 0))],
    )
    .await;
    let probe = eye(8, 3);
    let mut found = Value::Null;
    for _ in 0..50 {
        let response = post_form_at(
            &app.client,
            &format!("http://{addr}/api/v1/iris/identify"),
            &token,
            &[("left", "l.png", &probe)],
        )
        .await;
        found = json_of(response, 200).await;
        if !found["candidates"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        found["candidates"][0]["child_id"], A,
        "the other instance never saw the enrolment"
    );
    assert_eq!(other.biometrics.gallery.len(), 1);

    // A removal reaches the other instance too; workers may not remove.
    let list = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    let template = list[0]["id"].as_str().unwrap();
    let path = format!("/api/v1/children/{A}/iris/{template}");
    let by_worker = app.delete(&token, &path).await;
    problem(by_worker, 403).await;
    let admin = app.admin_token().await;
    let removed = app.delete(&admin, &path).await;
    assert_eq!(removed.status(), 204);
    let again = app.delete(&admin, &path).await;
    problem(again, 404).await;
    for _ in 0..50 {
        if other.biometrics.gallery.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        other.biometrics.gallery.is_empty(),
        "the other instance kept a removed template"
    );
    let response = post_form_at(
        &app.client,
        &format!("http://{addr}/api/v1/iris/identify"),
        &token,
        &[("left", "l.png", &probe)],
    )
    .await;
    assert_eq!(json_of(response, 200).await["candidates"], json!([]));
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT sealed_template FROM iris_templates WHERE id = $1")
            .bind(template)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert!(sealed.is_empty(), "no biometric data left in a removed row");
}

async fn key_rotation_and_reencoding_keep_every_template_matchable(db: TestDb) {
    let second_db = db.db.clone();
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(9, 0)), ("right", &eye(10, 0))],
    )
    .await;
    let config = app.state.config.as_ref().clone();
    let key_file = config.data_dir.join("biometric.key");
    let old_key = std::fs::read_to_string(&key_file).unwrap();
    let stored_before: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed_template FROM iris_templates ORDER BY id")
            .fetch_all(second_db.pool())
            .await
            .unwrap();

    let mut fast = config.clone();
    fast.iris_sync_interval_ms = 10;
    let rotated = kudakyar::biometrics::maintenance::rotate(&fast, &second_db, &app.state.media)
        .await
        .unwrap();
    assert_eq!((rotated.templates, rotated.captures), (2, 2));
    let new_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(old_key, new_key);
    assert!(!config.data_dir.join("biometric.key.next").exists());
    let stored_after: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed_template FROM iris_templates ORDER BY id")
            .fetch_all(second_db.pool())
            .await
            .unwrap();
    assert_ne!(stored_before, stored_after);
    // Run again: nothing left under the old key.
    let again = kudakyar::biometrics::maintenance::rotate(&fast, &second_db, &app.state.media)
        .await
        .unwrap();
    assert_eq!(
        again.templates, 2,
        "a second rotation re-seals with yet another key"
    );

    // A server started now loads every template with the new key, and finds the child.
    let restarted = kudakyar::app::AppState::with_db(config.clone(), second_db.clone())
        .await
        .unwrap();
    assert_eq!(restarted.biometrics.gallery.len(), 2);
    // Templates an older engine made (another release, format or encoder
    // settings: their bits would not compare with this engine's) are
    // re-encoded from the sealed raw captures, under the new key; ones this
    // engine made are left alone unless all are asked for.
    sqlx::query("UPDATE iris_templates SET engine_version = 'iris-0.1.0-t1-p1'")
        .execute(second_db.pool())
        .await
        .unwrap();
    let re =
        kudakyar::biometrics::maintenance::reencode(&config, &second_db, &app.state.media, false)
            .await
            .unwrap();
    assert_eq!((re.templates, re.kept), (2, 0));
    let versions: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT engine_version FROM iris_templates")
            .fetch_all(second_db.pool())
            .await
            .unwrap();
    assert_eq!(versions, [kudakyar::biometrics::store::engine_version()]);
    let current =
        kudakyar::biometrics::maintenance::reencode(&config, &second_db, &app.state.media, false)
            .await
            .unwrap();
    assert_eq!((current.templates, current.kept), (0, 0));
    let re =
        kudakyar::biometrics::maintenance::reencode(&config, &second_db, &app.state.media, true)
            .await
            .unwrap();
    assert_eq!((re.templates, re.kept), (2, 0));
    app.state.biometrics.reload_keys(&config);
    app.state.biometrics.sync(&second_db).await.unwrap();
    let found = json_of(
        app.post_form(
            &token,
            "/api/v1/iris/identify",
            &[("right", "r.png", &eye(10, 4))],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(found["candidates"][0]["child_id"], A);

    // Retention: old raw captures go; templates stay and are kept by re-encoding.
    let far = kudakyar::now_ms() + 800 * 86_400_000;
    let purged = kudakyar::biometrics::maintenance::purge_captures(
        &config,
        &second_db,
        &app.state.media,
        far,
    )
    .await
    .unwrap();
    assert_eq!(purged, 2);
    let re =
        kudakyar::biometrics::maintenance::reencode(&config, &second_db, &app.state.media, true)
            .await
            .unwrap();
    assert_eq!((re.templates, re.kept), (0, 2));

    // Without its key file, a registry with templates refuses to start.
    std::fs::remove_file(&key_file).unwrap();
    let err = match kudakyar::app::AppState::with_db(config.clone(), second_db.clone()).await {
        Ok(_) => panic!("started without the biometric key"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("biometric.key"), "{err}");
    assert!(!key_file.exists(), "no new key was made in its place");
}

async fn bad_input_names_the_field_and_writes_nothing(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let good = eye(11, 0);
    let field = |p: &Value, name: &str| p["errors"][name].is_array();

    let garbage = app
        .post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "x.png", b"not an image at all")],
        )
        .await;
    let p = problem(garbage, 422).await;
    assert!(field(&p, "left"), "{p:#}");
    let black = {
        let img = image::GrayImage::new(320, 240);
        let mut png = Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        png.into_inner()
    };
    let p = problem(
        app.post_form(
            &token,
            "/api/v1/iris/identify",
            &[("right", "x.png", &black)],
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "right"), "{p:#}");
    let huge = vec![0u8; 9 * 1024 * 1024];
    problem(
        app.post_form(&token, "/api/v1/iris/identify", &[("left", "x.png", &huge)])
            .await,
        413,
    )
    .await;
    let p = problem(
        app.post_form(&token, "/api/v1/iris/identify", &[("Left", "x.png", &good)])
            .await,
        422,
    )
    .await;
    assert!(field(&p, "Left"), "a wrong eye label is named: {p:#}");
    let p = problem(
        app.post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "a.png", &good), ("left", "b.png", &good)],
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "left"));
    let p = problem(
        app.post_form(&token, "/api/v1/iris/identify", &[]).await,
        422,
    )
    .await;
    assert!(field(&p, "left"));
    let not_form = app
        .post(&token, "/api/v1/iris/identify", &json!({"left": "x"}))
        .await;
    problem(not_form, 415).await;

    // Registrations: the record, its id and the decision are checked, and an
    // unusable capture stops the registration before anything is written.
    let p = problem(
        register(&app, &token, "{not json", None, &[("left", &good)]).await,
        422,
    )
    .await;
    assert!(field(&p, "child"));
    let no_id =
        json!({"sex": "male", "nationality": "afghan", "home_province": "IR-23"}).to_string();
    let p = problem(
        register(&app, &token, &no_id, None, &[("left", &good)]).await,
        422,
    )
    .await;
    assert!(field(&p, "id"));
    let p = problem(
        register(
            &app,
            &token,
            &child(A, "رضا", "IR-23"),
            Some("maybe"),
            &[("left", &good)],
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "decision"));
    let p = problem(
        register(
            &app,
            &token,
            &child(A, "رضا", "IR-23"),
            None,
            &[("left", b"garbage")],
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "left"));
    let p = problem(
        register(&app, &token, &child(A, "رضا", "IR-23"), None, &[]).await,
        422,
    )
    .await;
    assert!(field(&p, "left"));
    let p = problem(
        register(
            &app,
            &token,
            &child(A, "رضا", "IR-99"),
            None,
            &[("left", &good)],
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "home_province"), "{p:#}");
    let out_of_scope = register(
        &app,
        &token,
        &child(A, "رضا", "IR-07"),
        None,
        &[("left", &good)],
    )
    .await;
    problem(out_of_scope, 403).await;
    assert_eq!(
        count_children(&app, &token).await,
        0,
        "nothing half-written"
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM iris_templates")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // The same id with another body is a conflict, not a second record.
    registered(&app, &token, &child(A, "رضا", "IR-23"), &[("left", &good)]).await;
    let p = problem(
        register(
            &app,
            &token,
            &child(A, "حسن", "IR-23"),
            None,
            &[("left", &good)],
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("different record"));

    // Captures for a missing record, and for a merged-away one.
    let missing = app
        .post_form(
            &token,
            &format!("/api/v1/children/{C}/iris"),
            &[("left", "l.png", &good)],
        )
        .await;
    problem(missing, 404).await;
    json_of(
        register(
            &app,
            &token,
            &child(B, "علی", "IR-23"),
            Some("new_child"),
            &[("left", &eye(12, 0))],
        )
        .await,
        201,
    )
    .await;
    let admin = app.admin_token().await;
    json_of(
        app.post(
            &admin,
            &format!("/api/v1/children/{A}/merge"),
            &json!({"duplicate_id": B}),
        )
        .await,
        201,
    )
    .await;
    let p = problem(
        app.post_form(
            &token,
            &format!("/api/v1/children/{B}/iris"),
            &[("left", "l.png", &good)],
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains(A));
    let p = problem(
        app.post(
            &admin,
            "/api/v1/iris/reviews/nope/decision",
            &json!({"decision": "same"}),
        )
        .await,
        422,
    )
    .await;
    assert!(field(&p, "decision"), "{p:#}");
}

/// Files under the local object store's `iris/` folder.
fn iris_objects(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.state.config.media_dir().join("iris"), &mut out);
    out
}

async fn a_retry_after_a_removal_writes_nothing(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let boss = supervisor(&app, "boss1", "IR-23").await;
    let left = eye(12, 0);
    let record = child(A, "رضا", "IR-23");
    registered(&app, &token, &record, &[("left", &left)]).await;
    let list = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    let template = list[0]["id"].as_str().unwrap().to_string();
    assert_eq!(iris_objects(&app).len(), 1, "the sealed raw capture");
    let removed = app
        .delete(&boss, &format!("/api/v1/children/{A}/iris/{template}"))
        .await;
    assert_eq!(removed.status(), 204);
    assert_eq!(iris_objects(&app), Vec::<std::path::PathBuf>::new());

    // The phone's outbox sends the same capture again, then the registration.
    let again = app
        .post_form(
            &token,
            &format!("/api/v1/children/{A}/iris"),
            &[("left", "l.png", &left)],
        )
        .await;
    assert_eq!(
        iris_objects(&app),
        Vec::<std::path::PathBuf>::new(),
        "the erased capture was written back"
    );
    let p = problem(again, 409).await;
    assert!(p["detail"].as_str().unwrap().contains("removed"), "{p:#}");
    let resent = json_of(
        register(&app, &token, &record, None, &[("left", &left)]).await,
        200,
    )
    .await;
    assert_eq!(resent["child"]["id"], A);
    assert_eq!(resent["enrolled"], json!([]));
    assert_eq!(iris_objects(&app), Vec::<std::path::PathBuf>::new());
    let list = json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    assert_eq!(list, json!([]));
}

async fn orphaned_captures_are_swept_after_a_grace_period(db: TestDb) {
    use kudakyar::biometrics::maintenance::{ORPHAN_GRACE_MS, sweep_orphans};
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(13, 0))],
    )
    .await;
    // As a crash between the object and its row leaves it.
    app.state
        .media
        .put(
            &format!("iris/{B}/0f000000-0000-4000-8000-00000000000f.sealed"),
            bytes::Bytes::from_static(b"sealed capture"),
        )
        .await
        .unwrap();
    assert_eq!(iris_objects(&app).len(), 2);
    let (db, media) = (&app.state.db, &app.state.media);
    let now = kudakyar::now_ms();
    assert_eq!(
        sweep_orphans(db, media, now).await.unwrap(),
        0,
        "within the grace period an orphan may still be getting its row"
    );
    let later = now + ORPHAN_GRACE_MS + 60_000;
    assert_eq!(sweep_orphans(db, media, later).await.unwrap(), 1);
    let left = iris_objects(&app);
    assert_eq!(left.len(), 1);
    assert!(
        left[0].to_string_lossy().contains(A),
        "the capture a row points to stays: {left:?}"
    );
}

/// Replaces the sealed template of `child_id`'s templates by bytes no key opens,
/// with an event so every gallery looks at the row again.
async fn corrupt_templates_of(db: &kudakyar::db::Db, child_id: &str) {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM iris_templates WHERE child_id = $1")
        .bind(child_id)
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert!(!ids.is_empty());
    for id in ids {
        sqlx::query("UPDATE iris_templates SET sealed_template = $1 WHERE id = $2")
            .bind(vec![7u8; 64])
            .bind(&id)
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO iris_events (template_id, kind, at) VALUES ($1, 'update', $2)")
            .bind(&id)
            .bind(kudakyar::now_ms())
            .execute(db.pool())
            .await
            .unwrap();
    }
}

async fn a_corrupted_template_is_left_out_and_counted(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(14, 0))],
    )
    .await;
    corrupt_templates_of(&app.state.db, A).await;

    // The enrolment after it succeeds (its sync meets the bad row) …
    let b = registered(
        &app,
        &token,
        &child(B, "علی", "IR-23"),
        &[("left", &eye(15, 0))],
    )
    .await;
    assert_eq!(b["enrolled"].as_array().unwrap().len(), 1, "{b:#}");
    // … and the gallery goes on following: B is found again.
    let found = json_of(
        app.post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "l.png", &eye(15, 5))],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(found["candidates"][0]["child_id"], B, "{found:#}");

    let ready = json_of(app.get(&token, "/api/v1/ready").await, 200).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["unreadable_templates"], 1, "{ready:#}");
    let metrics = app.get(&token, "/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "kudakyar_iris_unreadable_templates 1"),
        "{metrics}"
    );
    // A server starting now leaves it out the same way.
    let restarted =
        kudakyar::app::AppState::with_db(app.state.config.as_ref().clone(), app.state.db.clone())
            .await
            .unwrap();
    assert_eq!(restarted.biometrics.gallery.len(), 1);
    assert_eq!(restarted.biometrics.gallery.unreadable(), 1);
}

/// Makes the database undo the re-sealing of template `undone` (back to its
/// old key) when the rotation re-seals template `trigger`: what a server
/// still sealing with the old key does behind the rotation's pass.
async fn reseal_behind_the_rotation(db: &kudakyar::db::Db, trigger: &str, undone: &str) {
    let statements = match db.backend() {
        kudakyar::db::Backend::Sqlite => vec![format!(
            "CREATE TRIGGER behind_rotation AFTER UPDATE OF key_id ON iris_templates
             WHEN NEW.id = '{trigger}'
             BEGIN
               UPDATE iris_templates SET key_id = OLD.key_id,
                 sealed_template = (SELECT sealed_template FROM behind_rotation_old)
               WHERE id = '{undone}';
             END"
        )],
        kudakyar::db::Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION behind_rotation() RETURNS trigger AS $$
                 BEGIN
                   UPDATE iris_templates SET key_id = OLD.key_id,
                     sealed_template = (SELECT sealed_template FROM behind_rotation_old)
                   WHERE id = '{undone}';
                   RETURN NEW;
                 END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER behind_rotation AFTER UPDATE OF key_id ON iris_templates
                 FOR EACH ROW WHEN (NEW.id = '{trigger}') EXECUTE FUNCTION behind_rotation()"
            ),
        ],
    };
    // The undone row's bytes under the old key, as the server sealed them.
    sqlx::query(
        "CREATE TABLE behind_rotation_old AS SELECT sealed_template FROM iris_templates WHERE id = $1",
    )
    .bind(undone)
    .execute(db.pool())
    .await
    .unwrap_or_else(|_| panic!("copying {undone}"));
    for sql in statements {
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
}

async fn a_rotation_retires_the_old_key_only_when_no_row_uses_it(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(16, 0)), ("right", &eye(17, 0))],
    )
    .await;
    let db = app.state.db.clone();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM iris_templates ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    // The pass goes by id: the first row is done when the second's re-sealing
    // puts it back under the old key.
    reseal_behind_the_rotation(&db, &ids[1], &ids[0]).await;

    let mut config = app.state.config.as_ref().clone();
    config.iris_sync_interval_ms = 10;
    let rotated = kudakyar::biometrics::maintenance::rotate(&config, &db, &app.state.media)
        .await
        .unwrap();
    let under_old: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM iris_templates WHERE key_id <> $1")
            .bind(&rotated.new_key)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(under_old, 0, "a row still needs the retired key");
    // Every template opens with the key now installed.
    let restarted = kudakyar::app::AppState::with_db(config, db.clone())
        .await
        .unwrap();
    assert_eq!(restarted.biometrics.gallery.len(), 2);
    assert_eq!(restarted.biometrics.gallery.unreadable(), 0);
}

async fn a_capture_out_of_scope_is_refused_before_its_body(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let created = app
        .post(
            &token,
            "/api/v1/children",
            &serde_json::from_str(&child(A, "رضا", "IR-23")).unwrap(),
        )
        .await;
    assert_eq!(created.status(), 201);
    let elsewhere = worker(&app, "tabriz", "IR-03").await;
    let path = format!("/api/v1/children/{A}/iris");
    let mut upload = UnfinishedUpload::start(&app, &elsewhere, &path, "left").await;
    // The answer comes while the body is still being sent.
    assert_eq!(upload.status().await, 404);
}

/// Each iris answer that shows a child's record is audited as a read of it.
async fn iris_lists_matches_and_reviews_are_reads(db: TestDb) {
    let app = TestApp::start(db).await;
    let token = worker(&app, "worker1", "IR-23").await;
    let boss = supervisor(&app, "super1", "IR-23").await;
    registered(
        &app,
        &token,
        &child(A, "رضا", "IR-23"),
        &[("left", &eye(18, 0))],
    )
    .await;
    json_of(
        app.get(&token, &format!("/api/v1/children/{A}/iris")).await,
        200,
    )
    .await;
    assert_eq!(audit_entries(&app, "iris.list", A).await, 1);

    let found = json_of(
        app.post_form(
            &token,
            "/api/v1/iris/identify",
            &[("left", "l.png", &eye(18, 5))],
        )
        .await,
        200,
    )
    .await;
    assert_eq!(found["candidates"][0]["child_id"], A);
    assert_eq!(audit_entries(&app, "iris.identify", A).await, 1);

    // A late offline registration of the same eye: its answer shows A.
    let sent = registered(
        &app,
        &token,
        &child(B, "علی", "IR-23"),
        &[("left", &eye(18, 6))],
    )
    .await;
    assert_eq!(sent["matches"]["candidates"][0]["child_id"], A);
    assert_eq!(audit_entries(&app, "iris.match", A).await, 1);

    let list = json_of(app.get(&boss, "/api/v1/iris/reviews").await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    for shown in [A, B] {
        assert_eq!(
            audit_entries(&app, "iris.review_read", shown).await,
            1,
            "{shown}"
        );
    }
    let review = list[0]["id"].as_str().unwrap();
    let decided = json_of(
        app.post(
            &boss,
            &format!("/api/v1/iris/reviews/{review}/decision"),
            &json!({"decision": "different_children"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(decided["record"]["child"]["id"], B, "{decided:#}");
    for shown in [A, B] {
        assert_eq!(
            audit_entries(&app, "iris.review_read", shown).await,
            2,
            "the decision's answer shows {shown}"
        );
    }
}
