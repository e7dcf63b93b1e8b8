//! `GET /api/v1/tasks` on SQLite and PostgreSQL: a worker's follow-ups due
//! within a week (the latest encounter's date only, active children only,
//! assigned to them or unassigned and last met by them), the reports
//! assigned to them still to visit, the referrals of their children a
//! centre has not settled; nobody else's.

use kudakyar::notify::{preferences, schedule};
use serde_json::{Value, json};

use crate::common::TestDb;
use crate::common::scene::{JUNCTION, Scene, new_id, scene};

on_both_backends!(a_workers_tasks_are_theirs_and_in_order);

const DAY: i64 = 24 * 3600 * 1000;

async fn encounter(s: &Scene, token: &str, child: &str, at: i64, follow_up: Option<&str>) {
    let body = json!({
        "id": new_id(), "at": kudakyar::ms_to_rfc3339(at), "lat": JUNCTION.0, "lng": JUNCTION.1,
        "next_follow_up": follow_up,
    });
    s.act(
        token,
        &format!("/api/v1/children/{child}/encounters"),
        body,
        201,
    )
    .await;
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t[field].as_str().unwrap().to_string())
        .collect()
}

async fn a_workers_tasks_are_theirs_and_in_order(db: TestDb) {
    let s = scene(db).await;
    let admin = s.app.admin_token().await;
    let pool = s.app.state.db.pool();
    let now = kudakyar::now_ms();
    let today = preferences::tehran_day(now);
    let date = |d: i64| schedule::date_of(today + d);
    let [
        overdue,
        due,
        soon,
        too_far,
        answered,
        closed,
        someone_elses,
        unassigned,
    ] = [
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
        s.child("2301").await,
    ];
    for child in [&overdue, &due, &soon, &too_far, &answered, &closed] {
        sqlx::query("UPDATE children SET assigned_worker = $1 WHERE id = $2")
            .bind(&s.worker_id)
            .bind(child)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE children SET assigned_worker = $1 WHERE id = $2")
        .bind(&s.other_county_worker_id)
        .bind(&someone_elses)
        .execute(pool)
        .await
        .unwrap();
    let w = s.worker.clone();
    encounter(&s, &w, &overdue, now - 10 * DAY, Some(&date(-4))).await;
    encounter(&s, &w, &due, now - 5 * DAY, Some(&date(0))).await;
    encounter(&s, &w, &soon, now - DAY, Some(&date(6))).await;
    encounter(&s, &w, &too_far, now - DAY, Some(&date(8))).await;
    // The next visit answered this one's follow-up.
    encounter(&s, &w, &answered, now - 9 * DAY, Some(&date(-2))).await;
    encounter(&s, &w, &answered, now - 2 * DAY, None).await;
    encounter(&s, &w, &closed, now - 3 * DAY, Some(&date(-1))).await;
    // Assigned to another worker: theirs, though this worker met the child.
    encounter(&s, &w, &someone_elses, now - 3 * DAY, Some(&date(-1))).await;
    // Unassigned: the follow-up belongs to whoever set it.
    encounter(&s, &w, &unassigned, now - 2 * DAY, Some(&date(2))).await;
    // The case closed: nothing to follow up.
    sqlx::query("UPDATE children SET status = 'closed' WHERE id = $1")
        .bind(&closed)
        .execute(pool)
        .await
        .unwrap();

    // Two reports assigned to the worker, one visited since; one to nobody.
    let mut reports = Vec::new();
    for step in 0..3 {
        reports.push(s.citizen_reports(JUNCTION, step * 50).await);
    }
    for report in &reports[..2] {
        let path = format!("/api/v1/sightings/{report}/assign");
        s.act(&s.sup, &path, json!({"worker_id": s.worker_id}), 200)
            .await;
    }
    let visit = format!("/api/v1/sightings/{}/visit", reports[1]);
    s.act(&s.worker, &visit, json!({"outcome": "not_found"}), 200)
        .await;

    // A referral of an assigned child still open; another settled.
    let centres = s.read(&admin, "/api/v1/centres", 200).await;
    let centre = centres
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "مرکز مولوی")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refer = |child: &str| json!({"id": new_id(), "child_id": child, "centre_id": centre});
    let open = s
        .act(&s.worker, "/api/v1/referrals", refer(&due), 201)
        .await;
    let settled = s
        .act(&s.worker, "/api/v1/referrals", refer(&soon), 201)
        .await;
    let settle = format!(
        "/api/v1/referrals/{}/state",
        settled["id"].as_str().unwrap()
    );
    s.act(
        &admin,
        &settle,
        json!({"state": "rejected", "note": "پر است"}),
        200,
    )
    .await;

    let tasks = s.read(&s.worker, "/api/v1/tasks", 200).await;
    assert_eq!(tasks["today"], date(0));
    assert_eq!(
        ids(&tasks["follow_ups"], "child_id"),
        [overdue, due, unassigned, soon],
        "{tasks:#}"
    );
    let first = &tasks["follow_ups"][0];
    assert_eq!(first["days_overdue"], 4);
    assert_eq!(first["due"], date(-4));
    assert_eq!(first["given_name"], "رضا");
    assert_eq!(tasks["follow_ups"][3]["days_overdue"], -6);
    assert_eq!(ids(&tasks["reports"], "id"), [reports[0].clone()]);
    assert_eq!(
        ids(&tasks["referrals"], "id"),
        [open["id"].as_str().unwrap()]
    );
    assert_eq!(tasks["referrals"][0]["state"], "sent");
    assert_eq!(tasks["referrals"][0]["centre_name"], "مرکز مولوی");

    // The supervisor has none of these; nor does anyone without a login.
    let theirs = s.read(&s.sup, "/api/v1/tasks", 200).await;
    for list in ["follow_ups", "reports", "referrals"] {
        assert_eq!(theirs[list], json!([]), "{list}");
    }
    let anonymous = s.app.get_anonymous("/api/v1/tasks").await;
    assert_eq!(anonymous.status(), 401);
}
