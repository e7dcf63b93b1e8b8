//! The access matrix: every operation of the OpenAPI document, called by
//! every role and without a login, on a record in the caller's own area, in
//! another county of its province and in another province, on SQLite and
//! PostgreSQL.
//!
//! The expected answers are declared in one table, [`MATRIX`], a row per
//! operation. An operation of the document without a row (a new endpoint)
//! fails [`every_operation_has_a_row`] naming it, and so does a row whose
//! operation is gone. [`request`] says how each operation is called:
//! with what it needs made first in the area the cell is about (a child, a
//! report, an incident, a review…), afresh for a cell whose call changes it.
//!
//! The callers all sit in Tehran (`IR-23`): an outreach worker and a
//! supervisor of county 2301, a hotline operator and a provincial staff
//! member of the whole province, and the national admin. The policy the
//! table pins down (`auth::policy`): a role that may never do a thing hears
//! 403; a record outside the caller's area looks absent, 404, so nobody
//! probes for ids — except where a create names a place (403: "outside your
//! scope") or a body names a record (422 naming the field).

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::common::scene::{ELSEWHERE, JUNCTION};
use crate::common::{ADMIN_PASSWORD, TestApp, TestDb};

on_both_backends!(every_role_in_every_area);

/// The callers, in the order of a row's cells.
const ROLES: [&str; 5] = [
    "outreach_worker",
    "supervisor",
    "hotline_operator",
    "provincial_staff",
    "national_admin",
];

/// Where the record (or place) a call is about lies, seen from the callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Tehran, county 2301: the worker's and supervisor's own county.
    Own,
    /// Tehran, county 2302: the province of every caller but the admin.
    OtherCounty,
    /// Isfahan (`IR-10`): nobody's but the admin's.
    OtherProvince,
}

const PLACES: [Place; 3] = [Place::Own, Place::OtherCounty, Place::OtherProvince];

/// One operation's expected answers.
struct Row {
    method: &'static str,
    path: &'static str,
    /// The status without a login.
    anonymous: u16,
    /// Per role of [`ROLES`]: one letter per [`PLACES`] entry (own, other
    /// county, other province), or one letter for an operation that is
    /// about no place. `2` any 2xx, `F` 403, `N` 404, `C` 409, `V` 422.
    cells: [&'static str; 5],
}

const fn row(
    method: &'static str,
    path: &'static str,
    anonymous: u16,
    cells: [&'static str; 5],
) -> Row {
    Row {
        method,
        path,
        anonymous,
        cells,
    }
}

/// A record the caller's area holds, seen by a county team and everyone
/// above it; hotline operators reach reports only.
const CHILD_RECORD: [&str; 5] = ["2NN", "2NN", "FFF", "22N", "222"];
/// A report: as a child's record, and hotline operators feed the queue.
const REPORT: [&str; 5] = ["2NN", "2NN", "22N", "22N", "222"];
/// Triage (assign, close, split, join): supervisors and above, in their area.
const TRIAGE: [&str; 5] = ["FFF", "2NN", "FFF", "22N", "222"];
/// Follow-up (visit, link): the report's assignee (the worker in their own
/// county), supervisors and above; hotline operators see the province's
/// reports but do not go out.
const FOLLOW_UP: [&str; 5] = ["2NN", "2NN", "FFN", "22N", "222"];
/// Deciding on records (merges, reviews, referral states, iris removal).
const DECIDE: [&str; 5] = ["FFF", "2NN", "FFF", "22N", "222"];
/// Everyone's own things (session, inbox, devices), hotline operators included.
const PERSONAL: [&str; 5] = ["2", "2", "2", "2", "2"];
/// Everything but the reports' world is closed to hotline operators.
const NOT_HOTLINE: [&str; 5] = ["2", "2", "F", "2", "2"];
/// Managing users of an area: provincial staff (their province) and admins.
const MANAGE_USERS: [&str; 5] = ["FFF", "FFF", "FFF", "22N", "222"];
/// Area-scoped figures (`area=` a county or province).
const FIGURES: [&str; 5] = ["2NN", "2NN", "FFF", "22N", "222"];
const ADMIN_ONLY: [&str; 5] = ["F", "F", "F", "F", "2"];

/// Every operation of the API and who may call it where.
const MATRIX: &[Row] = &[
    // Operations.
    row("GET", "/api/v1/health", 200, PERSONAL),
    row("GET", "/api/v1/ready", 200, PERSONAL),
    // Session.
    row("POST", "/api/v1/auth/login", 200, PERSONAL),
    row("POST", "/api/v1/auth/logout", 401, PERSONAL),
    row("GET", "/api/v1/auth/me", 401, PERSONAL),
    // Users.
    row("GET", "/api/v1/users", 401, ["F", "2", "F", "2", "2"]),
    // A create names its place: outside the caller's province it is refused.
    row(
        "POST",
        "/api/v1/users",
        401,
        ["FFF", "FFF", "FFF", "22F", "222"],
    ),
    row("POST", "/api/v1/users/{id}/disable", 401, MANAGE_USERS),
    // Someone else's phone: whoever manages them; the rest do not see them.
    row(
        "PUT",
        "/api/v1/users/{id}/phone",
        401,
        ["NNN", "NNN", "FFF", "22N", "222"],
    ),
    row("GET", "/api/v1/audit", 401, ADMIN_ONLY),
    // The registry.
    row("GET", "/api/v1/children", 401, NOT_HOTLINE),
    // A create names its place: outside the caller's area it is refused.
    row(
        "POST",
        "/api/v1/children",
        401,
        ["2FF", "2FF", "FFF", "22F", "222"],
    ),
    row("GET", "/api/v1/children/{id}", 401, CHILD_RECORD),
    row("PATCH", "/api/v1/children/{id}", 401, CHILD_RECORD),
    row("GET", "/api/v1/children/{id}/encounters", 401, CHILD_RECORD),
    row(
        "POST",
        "/api/v1/children/{id}/encounters",
        401,
        CHILD_RECORD,
    ),
    row("GET", "/api/v1/children/{id}/timeline", 401, CHILD_RECORD),
    row("GET", "/api/v1/children/{id}/photos", 401, CHILD_RECORD),
    row("POST", "/api/v1/children/{id}/photos", 401, CHILD_RECORD),
    row(
        "GET",
        "/api/v1/children/{id}/photos/{photo_id}",
        401,
        CHILD_RECORD,
    ),
    row(
        "GET",
        "/api/v1/children/{id}/photos/{photo_id}/thumbnail",
        401,
        CHILD_RECORD,
    ),
    // Iris: sent without captures (analysing an eye costs seconds), so a
    // caller let through hears 422 naming the missing capture.
    row("GET", "/api/v1/children/{id}/iris", 401, CHILD_RECORD),
    row(
        "POST",
        "/api/v1/children/{id}/iris",
        401,
        ["VNN", "VNN", "FFF", "VVN", "VVV"],
    ),
    row(
        "DELETE",
        "/api/v1/children/{id}/iris/{template_id}",
        401,
        DECIDE,
    ),
    row(
        "POST",
        "/api/v1/iris/identify",
        401,
        ["V", "V", "F", "V", "V"],
    ),
    row(
        "POST",
        "/api/v1/registrations",
        401,
        ["V", "V", "F", "V", "V"],
    ),
    row(
        "GET",
        "/api/v1/iris/reviews",
        401,
        ["F", "2", "F", "2", "2"],
    ),
    row(
        "GET",
        "/api/v1/iris/reviews/{id}",
        401,
        ["FFF", "2NN", "FFF", "22N", "222"],
    ),
    row("POST", "/api/v1/iris/reviews/{id}/decision", 401, DECIDE),
    // Cases.
    row("POST", "/api/v1/children/{id}/merge", 401, DECIDE),
    row("POST", "/api/v1/merges/{id}/undo", 401, DECIDE),
    row("GET", "/api/v1/centres", 401, NOT_HOTLINE),
    row(
        "POST",
        "/api/v1/centres",
        401,
        ["FFF", "FFF", "FFF", "22F", "222"],
    ),
    row(
        "GET",
        "/api/v1/children/{id}/centre-suggestions",
        401,
        CHILD_RECORD,
    ),
    row("GET", "/api/v1/referrals", 401, CHILD_RECORD),
    // The child is named in the body: outside the area, 422 naming `child_id`.
    row(
        "POST",
        "/api/v1/referrals",
        401,
        ["2VV", "2VV", "FFF", "22V", "222"],
    ),
    row("POST", "/api/v1/referrals/{id}/state", 401, DECIDE),
    // Reports: anyone may report a child anywhere, as citizens do.
    row(
        "POST",
        "/api/v1/sightings",
        201,
        ["222", "222", "222", "222", "222"],
    ),
    row("GET", "/api/v1/sightings/challenge", 200, PERSONAL),
    row("GET", "/api/v1/sightings/receipt/{code}", 200, PERSONAL),
    row("GET", "/api/v1/sightings", 401, PERSONAL),
    row("GET", "/api/v1/sightings/{id}", 401, REPORT),
    row("GET", "/api/v1/sightings/{id}/photo", 401, REPORT),
    row("POST", "/api/v1/sightings/{id}/assign", 401, TRIAGE),
    row("POST", "/api/v1/sightings/{id}/visit", 401, FOLLOW_UP),
    row("POST", "/api/v1/sightings/{id}/link", 401, FOLLOW_UP),
    row("POST", "/api/v1/sightings/{id}/close", 401, TRIAGE),
    row("GET", "/api/v1/incidents", 401, PERSONAL),
    row("GET", "/api/v1/incidents/{id}", 401, REPORT),
    row("POST", "/api/v1/incidents/{id}/split", 401, TRIAGE),
    row("POST", "/api/v1/incidents/{id}/join", 401, TRIAGE),
    // Tasks: one's own only; a hotline operator has no children or
    // assigned reports, and stays in the reports' world.
    row("GET", "/api/v1/tasks", 401, NOT_HOTLINE),
    // Notifications: one's own only, whoever asks.
    row("GET", "/api/v1/notifications", 401, PERSONAL),
    row("GET", "/api/v1/notifications/unread-count", 401, PERSONAL),
    row("GET", "/api/v1/notifications/stream", 401, PERSONAL),
    row("POST", "/api/v1/notifications/read-all", 401, PERSONAL),
    // Own: the caller's; the others: someone else's, there.
    row(
        "POST",
        "/api/v1/notifications/{id}/read",
        401,
        ["2NN", "2NN", "2NN", "2NN", "2NN"],
    ),
    row("GET", "/api/v1/notifications/preferences", 401, PERSONAL),
    row("PUT", "/api/v1/notifications/preferences", 401, PERSONAL),
    row("GET", "/api/v1/push/vapid-key", 401, PERSONAL),
    row("POST", "/api/v1/push/subscriptions", 401, PERSONAL),
    row("DELETE", "/api/v1/push/subscriptions", 401, PERSONAL),
    // FCM is off on this server: a registration is refused as such (409).
    row(
        "POST",
        "/api/v1/push/fcm-tokens",
        401,
        ["C", "C", "C", "C", "C"],
    ),
    row("DELETE", "/api/v1/push/fcm-tokens", 401, PERSONAL),
    row("GET", "/api/v1/admin/notifications/dead", 401, ADMIN_ONLY),
    row(
        "POST",
        "/api/v1/admin/notifications/dead/{id}/retry",
        401,
        ADMIN_ONLY,
    ),
    // Exports: supervisors and above (the default `export_min_role`).
    row(
        "GET",
        "/api/v1/exports/{file}",
        401,
        ["F", "2", "F", "2", "2"],
    ),
    // The atlas and the indicators.
    row("GET", "/api/v1/atlas/choropleth", 401, NOT_HOTLINE),
    row("GET", "/api/v1/atlas/hexes", 401, NOT_HOTLINE),
    // The series of the callers' province: not for a county team.
    row(
        "GET",
        "/api/v1/atlas/timeseries",
        401,
        ["N", "N", "F", "2", "2"],
    ),
    row("GET", "/api/v1/atlas/zones", 401, NOT_HOTLINE),
    // The printable map of the province the cell is about.
    row(
        "GET",
        "/api/v1/atlas/zones/map",
        401,
        ["22N", "22N", "FFF", "22N", "222"],
    ),
    // No weeks of figures in a fresh registry: 422 once let through.
    row(
        "GET",
        "/api/v1/atlas/hotspots",
        401,
        ["V", "V", "F", "V", "V"],
    ),
    // No figures to freeze in an empty registry: 422 once let through.
    row(
        "POST",
        "/api/v1/atlas/zones/freeze",
        401,
        ["F", "F", "F", "V", "V"],
    ),
    row("GET", "/api/v1/indicators", 401, FIGURES),
    row("GET", "/api/v1/indicators/workers", 401, FIGURES),
    // Cohorts are by province: a county team sees none of its province's.
    row(
        "GET",
        "/api/v1/indicators/cohorts",
        401,
        ["NNN", "NNN", "FFF", "22N", "222"],
    ),
    row("GET", "/api/v1/indicators/definitions", 401, NOT_HOTLINE),
    // A province's quarterly report: supervisors and above; a county team
    // sees no province's.
    row(
        "GET",
        "/api/v1/indicators/report",
        401,
        ["FFF", "NNN", "FFF", "22N", "222"],
    ),
];

/// The operations of the OpenAPI document, as (METHOD, path).
fn documented() -> Vec<(String, String)> {
    let spec = crate::openapi::spec();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_operation_has_a_row() {
    let documented = documented();
    let missing: Vec<String> = documented
        .iter()
        .filter(|(m, p)| !MATRIX.iter().any(|r| r.method == m && r.path == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a row in rbac::MATRIX (say who may call them, and where): {missing:#?}"
    );
    let stale: Vec<String> = MATRIX
        .iter()
        .filter(|r| !documented.iter().any(|(m, p)| r.method == m && r.path == p))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        stale.is_empty(),
        "rows of operations no longer documented: {stale:#?}"
    );
    for r in MATRIX {
        let width = r.cells[0].len();
        assert!(
            (width == 1 || width == 3) && r.cells.iter().all(|c| c.len() == width),
            "{} {}: every cell one letter, or three (own, other county, other province)",
            r.method,
            r.path
        );
        assert_eq!(
            MATRIX
                .iter()
                .filter(|o| o.method == r.method && o.path == r.path)
                .count(),
            1,
            "{} {} has one row",
            r.method,
            r.path
        );
    }
}

/// Whether a status is the one a cell's letter stands for.
fn matches(letter: char, status: u16) -> bool {
    match letter {
        '2' => (200..300).contains(&status),
        'F' => status == 403,
        'N' => status == 404,
        'C' => status == 409,
        'V' => status == 422,
        other => panic!("unknown letter {other} in rbac::MATRIX"),
    }
}

/// An area the callers' records are made in.
struct Area {
    province: &'static str,
    county: &'static str,
    at: (f64, f64),
    /// An outreach worker whose area it is; in the own area, the calling
    /// worker itself (the assignee of the area's report).
    assignee: (String, String),
    /// A user of the area other than any caller (the target of user
    /// management), and their password.
    member: String,
    /// A service centre of the area.
    centre: String,
    /// A child of the area with an encounter and a photo.
    child: String,
    photo: String,
    /// A report of the area with a photo, assigned to `assignee`.
    report: String,
    receipt: String,
    incident: String,
    /// An open identity review of two children of the area.
    review: String,
}

/// The app, the callers and the records of the three areas.
struct World {
    app: TestApp,
    admin: String,
    admin_id: String,
    /// Per role of [`ROLES`]: (user id, token, username, password).
    callers: Vec<(String, String, String, String)>,
    areas: Vec<Area>,
    serial: AtomicUsize,
}

fn place_of(place: Place) -> (&'static str, &'static str, (f64, f64)) {
    match place {
        Place::Own => ("IR-23", "2301", JUNCTION),
        Place::OtherCounty => ("IR-23", "2302", ELSEWHERE),
        Place::OtherProvince => ("IR-10", "1001", (32.6546, 51.6680)),
    }
}

impl World {
    async fn new(db: TestDb) -> World {
        let app = TestApp::start_with(db, |c| {
            // These tests post many reports from 127.0.0.1, and never deliver.
            c.sighting_max_per_hour = 100_000;
            c.sighting_soft_limit_per_hour = 100_000;
            c.notify_workers = 0;
            c.notify_scheduler = false;
            c.push_allow_local_http = true;
            c.max_concurrent_uploads = 64;
        })
        .await;
        let admin = app.admin_token().await;
        let admin_id = app.get_json(&admin, "/api/v1/auth/me").await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut callers = Vec::new();
        for role in ROLES {
            if role == "national_admin" {
                callers.push((
                    admin_id.clone(),
                    admin.clone(),
                    "admin".to_string(),
                    ADMIN_PASSWORD.to_string(),
                ));
                continue;
            }
            let county = matches!(role, "outreach_worker" | "supervisor").then_some("2301");
            let name = format!("caller-{role}");
            let (id, password) = app.add_user(&name, role, Some("IR-23"), county).await;
            let token = app.login(&name, &password).await;
            callers.push((id, token, name, password));
        }
        let mut world = World {
            app,
            admin,
            admin_id,
            callers,
            areas: Vec::new(),
            serial: AtomicUsize::new(0),
        };
        for place in PLACES {
            let area = world.area(place).await;
            world.areas.push(area);
        }
        world
    }

    fn next(&self) -> usize {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    fn area_of(&self, place: Place) -> &Area {
        &self.areas[PLACES.iter().position(|p| *p == place).unwrap()]
    }

    /// As the admin, expecting a 2xx; the JSON answer.
    async fn admin_posts(&self, path: &str, body: Value) -> Value {
        let response = self.app.post(&self.admin, path, &body).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "setup POST {path}: {status} {body:#}");
        body
    }

    async fn area(&self, place: Place) -> Area {
        let (province, county, at) = place_of(place);
        let centre = self
            .admin_posts(
                "/api/v1/centres",
                json!({"name": format!("مرکز {county}"), "lat": at.0, "lng": at.1,
                       "province": province, "county": county}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let member_name = format!("member-{county}");
        let member = self
            .add_user(&member_name, "outreach_worker", province, county)
            .await;
        let assignee = if place == Place::Own {
            (self.callers[0].0.clone(), self.callers[0].1.clone())
        } else {
            // The member serves as the area's assignee too.
            (member.clone(), String::new())
        };
        let child = self.child(place).await;
        let encounter = json!({"id": uuid::Uuid::now_v7().to_string(),
            "at": "2026-11-01T10:00:00Z", "lat": at.0, "lng": at.1});
        self.admin_posts(&format!("/api/v1/children/{child}/encounters"), encounter)
            .await;
        let photo = self.photo(&child).await;
        let (report, receipt) = self.report(place, true).await;
        self.admin_posts(
            &format!("/api/v1/sightings/{report}/assign"),
            json!({"worker_id": assignee.0}),
        )
        .await;
        let incident = self.incident_of(&report).await;
        let review = self.review(place).await;
        Area {
            province,
            county,
            at,
            assignee,
            member,
            centre,
            child,
            photo,
            report,
            receipt,
            incident,
            review,
        }
    }

    /// A new user made by the admin (without logging in again: logins at
    /// once from one address meet the throttle); their id.
    async fn add_user(&self, name: &str, role: &str, province: &str, county: &str) -> String {
        let body = json!({"username": name, "password": "a long enough password",
                          "role": role, "province": province, "county": county});
        self.admin_posts("/api/v1/users", body).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The body of a new child of `place`.
    fn child_body(&self, place: Place) -> Value {
        let (province, county, _) = place_of(place);
        json!({"id": uuid::Uuid::now_v7().to_string(), "given_name": "رضا", "sex": "male",
               "nationality": "iranian", "home_province": province, "home_county": county})
    }

    /// A new child of `place`, made by the admin; its id.
    async fn child(&self, place: Place) -> String {
        let body = self.child_body(place);
        self.admin_posts("/api/v1/children", body).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn photo(&self, child: &str) -> String {
        let file = crate::photos::jpeg(40, 30);
        let response = self
            .app
            .post_form(
                &self.admin,
                &format!("/api/v1/children/{child}/photos"),
                &[("photo", "p.jpg", &file)],
            )
            .await;
        let body = crate::common::json_of(response, 201).await;
        body["id"].as_str().unwrap().to_string()
    }

    /// A citizen's report at `place`, within 50 m of the area's point (so
    /// they make one incident); (id, receipt code).
    async fn report(&self, place: Place, with_photo: bool) -> (String, String) {
        let (_, _, at) = place_of(place);
        let id = uuid::Uuid::now_v7().to_string();
        let step = (self.next() % 5) as f64;
        let report = json!({
            "id": id, "lat": at.0 + 0.0001 * step, "lng": at.1,
            "children_count": 1, "activity": "selling_flowers_or_poems",
        });
        let url = self.app.url("/api/v1/sightings");
        let request = self.app.client.post(url);
        let request = if with_photo {
            let form = reqwest::multipart::Form::new()
                .text("report", report.to_string())
                .part(
                    "photo",
                    reqwest::multipart::Part::bytes(crate::photos::jpeg(40, 30))
                        .file_name("p.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                );
            request.multipart(form)
        } else {
            request.json(&report)
        };
        let body = crate::common::json_of(request.send().await.unwrap(), 201).await;
        (id, body["receipt_code"].as_str().unwrap().to_string())
    }

    async fn incident_of(&self, report: &str) -> String {
        let stored = self
            .app
            .get_json(&self.admin, &format!("/api/v1/sightings/{report}"))
            .await;
        stored["incident_id"].as_str().unwrap().to_string()
    }

    /// A report of `place` assigned to its area's assignee.
    async fn assigned_report(&self, place: Place) -> String {
        let (report, _) = self.report(place, false).await;
        let worker = &self.area_of(place).assignee.0;
        self.admin_posts(
            &format!("/api/v1/sightings/{report}/assign"),
            json!({"worker_id": worker}),
        )
        .await;
        report
    }

    /// An open identity review of two new children of `place`, as a
    /// registration whose irises matched opens it (synthetic eyes cost
    /// seconds each); its id.
    async fn review(&self, place: Place) -> String {
        let (province, _, _) = place_of(place);
        let child = self.child(place).await;
        let candidate = self.child(place).await;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO identity_reviews (id, child_id, candidate_id, child_province,
                candidate_province, reason, distances, opened_by, opened_at)
             VALUES ($1, $2, $3, $4, $4, 'offline_registration', '{}', $5, $6)",
        )
        .bind(&id)
        .bind(&child)
        .bind(&candidate)
        .bind(province)
        .bind(&self.admin_id)
        .bind(kudakyar::now_ms())
        .execute(self.app.state.db.pool())
        .await
        .unwrap();
        sqlx::query("UPDATE children SET identity_review_since = 1 WHERE id = $1")
            .bind(&child)
            .execute(self.app.state.db.pool())
            .await
            .unwrap();
        id
    }

    /// An iris template of `child`, stored straight in the database (a real
    /// enrolment analyses an eye for seconds); its id.
    async fn template(&self, child: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO iris_templates (id, child_id, eye, sealed_template, key_id,
                capture_sha256, quality, engine_version, created_by, created_at)
             VALUES ($1, $2, 'left', $3, 'test', $1, '{}', 'test', $4, $5)",
        )
        .bind(&id)
        .bind(child)
        .bind(vec![0_u8; 16])
        .bind(&self.admin_id)
        .bind(kudakyar::now_ms())
        .execute(self.app.state.db.pool())
        .await
        .unwrap();
        id
    }

    /// A notification of `user`, stored straight in the inbox; its id.
    async fn notification(&self, user: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO notifications (user_id, kind, critical, subject_type, subject_id,
                domain_event_id, created_at)
             VALUES ($1, 'sighting_assigned', 0, 'sighting', 'x',
                (SELECT MIN(id) FROM domain_events), $2)
             RETURNING id",
        )
        .bind(user)
        .bind(kudakyar::now_ms())
        .fetch_one(self.app.state.db.pool())
        .await
        .unwrap()
    }

    /// A delivery of a notification of the admin that failed for good; its id.
    async fn dead_delivery(&self) -> i64 {
        let notification = self.notification(&self.admin_id).await;
        sqlx::query_scalar(
            "INSERT INTO deliveries (notification_id, channel, target, state, attempts,
                next_attempt_at, idempotency_key, last_error, created_at)
             VALUES ($1, 'sms', $2, 'dead', 8, $3, $4, 'gone', $3)
             RETURNING id",
        )
        .bind(notification)
        .bind(&self.admin_id)
        .bind(kudakyar::now_ms())
        .bind(uuid::Uuid::now_v7().to_string())
        .fetch_one(self.app.state.db.pool())
        .await
        .unwrap()
    }
}

/// What a call sends.
enum Body {
    None,
    Json(Value),
    /// Multipart: (field, file name or empty for text, bytes).
    Form(Vec<(&'static str, &'static str, Vec<u8>)>),
}

/// One call of an operation: its path, body, and the token to send when
/// not the caller's own (a logout ends a session of its own).
struct Call {
    path: String,
    body: Body,
    token: Option<String>,
}

fn call(path: impl Into<String>, body: Body) -> Call {
    Call {
        path: path.into(),
        body,
        token: None,
    }
}

/// How `op` is called by `role` (index in [`ROLES`], `None` without a login)
/// about `place`; records a call changes are made afresh.
async fn request(w: &World, method: &str, path: &str, place: Place, role: Option<usize>) -> Call {
    use Body::{Form, Json, None as Empty};
    let area = w.area_of(place);
    let (province, county, at) = (area.province, area.county, area.at);
    let child = &area.child;
    let caller_id = role.map(|r| w.callers[r].0.clone()).unwrap_or_default();
    match (method, path) {
        ("GET", "/api/v1/health") => call("/api/v1/health", Empty),
        ("GET", "/api/v1/ready") => call("/api/v1/ready", Empty),
        ("POST", "/api/v1/auth/login") => {
            let (_, _, name, password) = &w.callers[role.unwrap_or(0)];
            call(path, Json(json!({"username": name, "password": password})))
        }
        ("POST", "/api/v1/auth/logout") => {
            let mut c = call(path, Json(json!({})));
            if let Some(r) = role {
                let (_, _, name, password) = &w.callers[r];
                c.token = Some(w.app.login(name, password).await);
            }
            c
        }
        ("GET", "/api/v1/auth/me") => call(path, Empty),
        ("GET", "/api/v1/users") => call(path, Empty),
        ("POST", "/api/v1/users") => call(
            path,
            Json(
                json!({"username": format!("new-{}", w.next()), "password": "a long enough password",
                        "role": "outreach_worker", "province": province, "county": county}),
            ),
        ),
        ("POST", "/api/v1/users/{id}/disable") => {
            let name = format!("leaving-{}", w.next());
            let id = w.add_user(&name, "outreach_worker", province, county).await;
            call(format!("/api/v1/users/{id}/disable"), Json(json!({})))
        }
        ("PUT", "/api/v1/users/{id}/phone") => call(
            format!("/api/v1/users/{}/phone", area.member),
            Json(json!({"phone": "09121234567"})),
        ),
        ("GET", "/api/v1/audit") => call(path, Empty),
        ("GET", "/api/v1/children") => call(path, Empty),
        ("POST", "/api/v1/children") => call(path, Json(w.child_body(place))),
        ("GET", "/api/v1/children/{id}") => call(format!("/api/v1/children/{child}"), Empty),
        ("PATCH", "/api/v1/children/{id}") => {
            let fresh = w.child(place).await;
            call(
                format!("/api/v1/children/{fresh}"),
                Json(json!({"base_version": 1, "changes": {"family_name": "احمدی"}})),
            )
        }
        ("GET", "/api/v1/children/{id}/encounters") => {
            call(format!("/api/v1/children/{child}/encounters"), Empty)
        }
        ("POST", "/api/v1/children/{id}/encounters") => call(
            format!("/api/v1/children/{child}/encounters"),
            Json(
                json!({"id": uuid::Uuid::now_v7().to_string(), "at": "2026-11-02T10:00:00Z",
                        "lat": at.0, "lng": at.1}),
            ),
        ),
        ("GET", "/api/v1/children/{id}/timeline") => {
            call(format!("/api/v1/children/{child}/timeline"), Empty)
        }
        ("GET", "/api/v1/children/{id}/photos") => {
            call(format!("/api/v1/children/{child}/photos"), Empty)
        }
        ("POST", "/api/v1/children/{id}/photos") => call(
            format!("/api/v1/children/{child}/photos"),
            Form(vec![("photo", "p.jpg", crate::photos::jpeg(40, 30))]),
        ),
        ("GET", "/api/v1/children/{id}/photos/{photo_id}") => call(
            format!("/api/v1/children/{child}/photos/{}", area.photo),
            Empty,
        ),
        ("GET", "/api/v1/children/{id}/photos/{photo_id}/thumbnail") => call(
            format!("/api/v1/children/{child}/photos/{}/thumbnail", area.photo),
            Empty,
        ),
        ("GET", "/api/v1/children/{id}/iris") => {
            call(format!("/api/v1/children/{child}/iris"), Empty)
        }
        ("POST", "/api/v1/children/{id}/iris") => call(
            format!("/api/v1/children/{child}/iris"),
            Form(vec![("note", "", b"no capture".to_vec())]),
        ),
        ("DELETE", "/api/v1/children/{id}/iris/{template_id}") => {
            let template = w.template(child).await;
            call(format!("/api/v1/children/{child}/iris/{template}"), Empty)
        }
        ("POST", "/api/v1/iris/identify") => {
            call(path, Form(vec![("note", "", b"no capture".to_vec())]))
        }
        ("POST", "/api/v1/registrations") => {
            let new = w.child_body(Place::Own).to_string().into_bytes();
            call(path, Form(vec![("child", "", new)]))
        }
        ("GET", "/api/v1/iris/reviews") => call(path, Empty),
        ("GET", "/api/v1/iris/reviews/{id}") => {
            call(format!("/api/v1/iris/reviews/{}", area.review), Empty)
        }
        ("POST", "/api/v1/iris/reviews/{id}/decision") => {
            let review = w.review(place).await;
            call(
                format!("/api/v1/iris/reviews/{review}/decision"),
                Json(json!({"decision": "different_children"})),
            )
        }
        ("POST", "/api/v1/children/{id}/merge") => {
            let survivor = w.child(place).await;
            let duplicate = w.child(place).await;
            call(
                format!("/api/v1/children/{survivor}/merge"),
                Json(json!({"duplicate_id": duplicate})),
            )
        }
        ("POST", "/api/v1/merges/{id}/undo") => {
            let survivor = w.child(place).await;
            let duplicate = w.child(place).await;
            let merge = w
                .admin_posts(
                    &format!("/api/v1/children/{survivor}/merge"),
                    json!({"duplicate_id": duplicate}),
                )
                .await;
            call(
                format!("/api/v1/merges/{}/undo", merge["id"].as_str().unwrap()),
                Json(json!({})),
            )
        }
        ("GET", "/api/v1/centres") => call(path, Empty),
        ("POST", "/api/v1/centres") => call(
            path,
            Json(
                json!({"name": format!("مرکز {}", w.next()), "lat": at.0, "lng": at.1,
                        "province": province, "county": county}),
            ),
        ),
        ("GET", "/api/v1/children/{id}/centre-suggestions") => call(
            format!("/api/v1/children/{child}/centre-suggestions"),
            Empty,
        ),
        ("GET", "/api/v1/referrals") => call(format!("/api/v1/referrals?child_id={child}"), Empty),
        ("POST", "/api/v1/referrals") => call(
            path,
            Json(
                json!({"id": uuid::Uuid::now_v7().to_string(), "child_id": child,
                        "centre_id": area.centre}),
            ),
        ),
        ("POST", "/api/v1/referrals/{id}/state") => {
            let referral = w
                .admin_posts(
                    "/api/v1/referrals",
                    json!({"id": uuid::Uuid::now_v7().to_string(), "child_id": child,
                           "centre_id": area.centre}),
                )
                .await;
            call(
                format!(
                    "/api/v1/referrals/{}/state",
                    referral["id"].as_str().unwrap()
                ),
                Json(json!({"state": "accepted"})),
            )
        }
        ("POST", "/api/v1/sightings") => {
            // Hotline operators take 123 calls; everyone else is in the field.
            let source = if role == Some(2) { "hotline" } else { "worker" };
            let mut body = json!({"id": uuid::Uuid::now_v7().to_string(), "lat": at.0,
                "lng": at.1, "children_count": 1, "activity": "selling_flowers_or_poems"});
            if role.is_some() {
                body["source"] = source.into();
            }
            call(path, Json(body))
        }
        ("GET", "/api/v1/sightings/challenge") => call(path, Empty),
        ("GET", "/api/v1/sightings/receipt/{code}") => {
            call(format!("/api/v1/sightings/receipt/{}", area.receipt), Empty)
        }
        ("GET", "/api/v1/sightings") => call(path, Empty),
        ("GET", "/api/v1/sightings/{id}") => {
            call(format!("/api/v1/sightings/{}", area.report), Empty)
        }
        ("GET", "/api/v1/sightings/{id}/photo") => {
            call(format!("/api/v1/sightings/{}/photo", area.report), Empty)
        }
        ("POST", "/api/v1/sightings/{id}/assign") => {
            let (report, _) = w.report(place, false).await;
            call(
                format!("/api/v1/sightings/{report}/assign"),
                Json(json!({"worker_id": area.assignee.0})),
            )
        }
        ("POST", "/api/v1/sightings/{id}/visit") => {
            let report = w.assigned_report(place).await;
            call(
                format!("/api/v1/sightings/{report}/visit"),
                Json(json!({"outcome": "found"})),
            )
        }
        ("POST", "/api/v1/sightings/{id}/link") => {
            let report = w.assigned_report(place).await;
            call(
                format!("/api/v1/sightings/{report}/link"),
                Json(json!({"child_ids": [child]})),
            )
        }
        ("POST", "/api/v1/sightings/{id}/close") => {
            let (report, _) = w.report(place, false).await;
            call(
                format!("/api/v1/sightings/{report}/close"),
                Json(json!({"reason": "false_report"})),
            )
        }
        ("GET", "/api/v1/incidents") => call(path, Empty),
        ("GET", "/api/v1/incidents/{id}") => {
            call(format!("/api/v1/incidents/{}", area.incident), Empty)
        }
        ("POST", "/api/v1/incidents/{id}/split") => {
            let (first, _) = w.report(place, false).await;
            let (second, _) = w.report(place, false).await;
            let incident = w.incident_of(&first).await;
            assert_eq!(incident, w.incident_of(&second).await, "one incident");
            call(
                format!("/api/v1/incidents/{incident}/split"),
                Json(json!({"sighting_ids": [second]})),
            )
        }
        ("POST", "/api/v1/incidents/{id}/join") => {
            let (first, _) = w.report(place, false).await;
            let (second, _) = w.report(place, false).await;
            let incident = w.incident_of(&first).await;
            let split = w
                .admin_posts(
                    &format!("/api/v1/incidents/{incident}/split"),
                    json!({"sighting_ids": [second]}),
                )
                .await;
            call(
                format!("/api/v1/incidents/{incident}/join"),
                Json(json!({"incident_ids": [split["id"]]})),
            )
        }
        ("GET", "/api/v1/tasks") => call(path, Empty),
        ("GET", "/api/v1/notifications") => call(path, Empty),
        ("GET", "/api/v1/notifications/unread-count") => call(path, Empty),
        ("GET", "/api/v1/notifications/stream") => call(path, Empty),
        ("POST", "/api/v1/notifications/read-all") => call(path, Json(json!({}))),
        ("POST", "/api/v1/notifications/{id}/read") => {
            let owner = match place {
                Place::Own if role.is_some() => caller_id.clone(),
                Place::Own => w.callers[0].0.clone(),
                _ => area.member.clone(),
            };
            let id = w.notification(&owner).await;
            call(format!("/api/v1/notifications/{id}/read"), Json(json!({})))
        }
        ("GET", "/api/v1/notifications/preferences") => call(path, Empty),
        ("PUT", "/api/v1/notifications/preferences") => call(
            path,
            Json(
                json!({"muted_kinds": [], "quiet_hours": null, "quiet_friday": true, "digest": false}),
            ),
        ),
        ("GET", "/api/v1/push/vapid-key") => call(path, Empty),
        ("POST", "/api/v1/push/subscriptions") => call(path, Json(subscription(w.next()))),
        ("DELETE", "/api/v1/push/subscriptions") => {
            let n = w.next();
            let body = subscription(n);
            if let Some(r) = role {
                let answer = w
                    .app
                    .post(&w.callers[r].1, "/api/v1/push/subscriptions", &body)
                    .await;
                assert_eq!(answer.status(), 201, "setup: a subscription");
            }
            call(path, Json(json!({"endpoint": body["endpoint"]})))
        }
        ("POST", "/api/v1/push/fcm-tokens") => {
            call(path, Json(json!({"token": fcm_token(w.next())})))
        }
        ("DELETE", "/api/v1/push/fcm-tokens") => {
            // FCM is off here, so the token is stored as a registration
            // made while it was on would have stored it.
            let token = fcm_token(w.next());
            if role.is_some() {
                sqlx::query(
                    "INSERT INTO fcm_tokens (id, user_id, token, created_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(&caller_id)
                .bind(&token)
                .bind(kudakyar::now_ms())
                .execute(w.app.state.db.pool())
                .await
                .unwrap();
            }
            call(path, Json(json!({"token": token})))
        }
        ("GET", "/api/v1/admin/notifications/dead") => call(path, Empty),
        ("POST", "/api/v1/admin/notifications/dead/{id}/retry") => {
            let id = w.dead_delivery().await;
            call(
                format!("/api/v1/admin/notifications/dead/{id}/retry"),
                Json(json!({})),
            )
        }
        ("GET", "/api/v1/exports/{file}") => call("/api/v1/exports/children.csv", Empty),
        ("GET", "/api/v1/atlas/choropleth") => call(path, Empty),
        ("GET", "/api/v1/atlas/hexes") => {
            call(format!("{path}?bbox=51.0,35.5,51.8,36.1&res=7"), Empty)
        }
        ("GET", "/api/v1/atlas/timeseries") => call(format!("{path}?area={province}"), Empty),
        ("GET", "/api/v1/atlas/zones") => call(path, Empty),
        ("GET", "/api/v1/atlas/zones/map") => call(format!("{path}?province={province}"), Empty),
        ("GET", "/api/v1/atlas/hotspots") => call(path, Empty),
        ("POST", "/api/v1/atlas/zones/freeze") => call(
            path,
            Json(json!({"jalali_year": 1405, "level": "province", "method": "quantiles"})),
        ),
        ("GET", "/api/v1/indicators") => call(
            format!("{path}?indicator=caseload&area={province}/{county}"),
            Empty,
        ),
        ("GET", "/api/v1/indicators/workers") => {
            call(format!("{path}?area={province}/{county}"), Empty)
        }
        ("GET", "/api/v1/indicators/cohorts") => call(format!("{path}?area={province}"), Empty),
        ("GET", "/api/v1/indicators/definitions") => call(path, Empty),
        ("GET", "/api/v1/indicators/report") => {
            call(format!("{path}?quarter=1405-Q2&area={province}"), Empty)
        }
        _ => panic!("rbac::request has no recipe for {method} {path}: add one beside its row"),
    }
}

fn subscription(n: usize) -> Value {
    // A real P-256 point and 16 bytes, as a browser sends them.
    json!({"endpoint": format!("http://127.0.0.1:9/push/{n}"),
           "keys": {"p256dh": crate::notify_delivery::browser().p256dh, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}})
}

fn fcm_token(n: usize) -> String {
    format!("dev{n}:APA91b{}", "Xy_-9".repeat(30))
}

/// Sends a call as `token` (none: anonymous); its status and the start of
/// its body, for the failure message.
async fn send(w: &World, method: &str, token: Option<&str>, c: &Call) -> (u16, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = w.app.client.request(method, w.app.url(&c.path));
    if let Some(token) = c.token.as_deref().or(token) {
        request = request.bearer_auth(token);
    }
    request = match &c.body {
        Body::None => request,
        Body::Json(body) => request.json(body),
        Body::Form(parts) => {
            let mut form = reqwest::multipart::Form::new();
            for (name, file, bytes) in parts {
                let part = reqwest::multipart::Part::bytes(bytes.clone());
                let part = if file.is_empty() {
                    part
                } else {
                    part.file_name(*file).mime_str("image/jpeg").unwrap()
                };
                form = form.part(*name, part);
            }
            request.multipart(form)
        }
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let streamed = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    // A stream never ends: its status is the answer.
    let text = if streamed {
        String::new()
    } else {
        response.text().await.unwrap_or_default()
    };
    (status, text.chars().take(300).collect())
}

async fn every_role_in_every_area(db: TestDb) {
    let w = World::new(db).await;
    let documented = documented();
    // Every cell of the table, as (row, role or anonymous, place).
    let mut cells = Vec::new();
    for r in MATRIX {
        if !documented.iter().any(|(m, p)| r.method == m && r.path == p) {
            continue; // `every_operation_has_a_row` names it
        }
        cells.push((r, None, Place::Own));
        for role in 0..ROLES.len() {
            let places: &[Place] = if r.cells[role].len() == 3 {
                &PLACES
            } else {
                &[Place::Own]
            };
            for place in places {
                cells.push((r, Some(role), *place));
            }
        }
    }
    // A few cells at a time: the calls are independent, and the server
    // answers many callers at once anyway.
    let wrong: Vec<String> = futures::stream::iter(cells)
        .map(|(r, role, place)| {
            let w = &w;
            async move {
                let c = request(w, r.method, r.path, place, role).await;
                let token = role.map(|i| w.callers[i].1.as_str());
                let (status, body) = send(w, r.method, token, &c).await;
                let (who, ok) = match role {
                    None => ("anonymous", status == r.anonymous),
                    Some(i) => {
                        let letters = r.cells[i];
                        let at = if letters.len() == 3 {
                            PLACES.iter().position(|p| *p == place).unwrap()
                        } else {
                            0
                        };
                        let letter = char::from(letters.as_bytes()[at]);
                        (ROLES[i], matches(letter, status))
                    }
                };
                (!ok || status >= 500).then(|| {
                    format!(
                        "{} {} as {who} in {place:?}: {status} {body}",
                        r.method, c.path
                    )
                })
            }
        })
        .buffer_unordered(6)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    assert!(
        wrong.is_empty(),
        "{} cells answered otherwise than rbac::MATRIX says:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
