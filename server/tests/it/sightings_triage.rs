//! The staff side of sightings over HTTP, on SQLite and PostgreSQL: the
//! triage queue and its scope, the steps a report takes (assign, visit,
//! link, close) with their history, events and audit, retries and
//! concurrent copies of a step, incidents split and joined, a child's
//! timeline, the relocation after a new centre, and bad input at every
//! endpoint.

use serde_json::{Value, json};

use crate::common::scene::{ELSEWHERE, JUNCTION, new_id, scene};
use crate::common::{TestDb, problem};

on_both_backends!(
    a_junction_is_one_incident_its_county_alone_sees_and_follows_up,
    retries_and_concurrent_copies_of_a_step_write_one_history_row,
    supervisors_split_and_join_incidents,
    the_queue_pages_by_keyset_and_filters,
    relocation_moves_reports_to_a_new_centres_county,
    bad_input_at_every_endpoint_is_named,
);

async fn a_junction_is_one_incident_its_county_alone_sees_and_follows_up(db: TestDb) {
    let s = scene(db).await;
    let mut reports = Vec::new();
    for step in 0..10 {
        reports.push(s.citizen_reports(JUNCTION, step).await);
    }
    // One incident of ten reports, in the queue of the county's supervisor.
    let incidents = s.read(&s.sup, "/api/v1/incidents", 200).await;
    let items = incidents["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{incidents:#}");
    let incident = &items[0];
    assert_eq!(incident["report_count"], 10);
    assert_eq!(incident["open_count"], 10);
    assert_eq!(incident["county"], "2301");
    let incident_id = incident["id"].as_str().unwrap().to_string();
    let queue = s.ids(&s.sup, "/api/v1/sightings?limit=200").await;
    let mut expected: Vec<String> = reports.iter().rev().cloned().collect();
    assert_eq!(queue, expected, "newest first");
    let report = &reports[0];
    let detail = s
        .read(&s.sup, &format!("/api/v1/sightings/{report}"), 200)
        .await;
    assert_eq!(detail["state"], "new");
    assert_eq!(detail["incident_id"], incident_id.as_str());
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);
    s.read(&s.sup, &format!("/api/v1/incidents/{incident_id}"), 200)
        .await;

    // No one else: another county's supervisor, another province's staff.
    for outsider in [&s.other_county_sup, &s.other_province] {
        assert!(s.ids(outsider, "/api/v1/sightings").await.is_empty());
        assert!(s.ids(outsider, "/api/v1/incidents").await.is_empty());
        problem(
            s.app
                .get(outsider, &format!("/api/v1/sightings/{report}"))
                .await,
            404,
        )
        .await;
        problem(
            s.app
                .get(outsider, &format!("/api/v1/incidents/{incident_id}"))
                .await,
            404,
        )
        .await;
    }
    // The worker sees nothing until a report is assigned to them, and may not assign.
    assert!(s.ids(&s.worker, "/api/v1/sightings").await.is_empty());
    let assign = json!({"worker_id": s.worker_id, "note": "ساعت ۱۸ سر بزنید"});
    let path = format!("/api/v1/sightings/{report}/assign");
    problem(s.app.post(&s.worker, &path, &assign).await, 403).await;
    problem(s.app.post(&s.hotline, &path, &assign).await, 403).await;

    let assigned = s.act(&s.sup, &path, assign, 200).await;
    assert_eq!(assigned["state"], "assigned");
    assert_eq!(assigned["assigned_to"], s.worker_id.as_str());
    assert_eq!(assigned["history"][1]["note"], "ساعت ۱۸ سر بزنید");
    assert_eq!(assigned["history"][1]["by"], s.sup_id.as_str());
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM domain_events WHERE kind = 'sighting_assigned' AND user_id = $1 AND county = '2301'",
            &s.worker_id
        )
        .await,
        1
    );
    assert_eq!(
        s.ids(&s.worker, "/api/v1/sightings").await,
        vec![report.clone()]
    );

    // The worker visits, finds the child and links the report to the record.
    let child = s.child("2301").await;
    let visited = s
        .act(
            &s.worker,
            &format!("/api/v1/sightings/{report}/visit"),
            json!({"outcome": "found"}),
            200,
        )
        .await;
    assert_eq!(visited["state"], "visited");
    assert_eq!(visited["visit_outcome"], "found");
    let linked = s
        .act(
            &s.worker,
            &format!("/api/v1/sightings/{report}/link"),
            json!({"child_ids": [child], "note": "همان رضا"}),
            200,
        )
        .await;
    assert_eq!(linked["state"], "linked");
    assert_eq!(linked["linked_children"], json!([child]));
    let states: Vec<&str> = linked["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["new", "assigned", "visited", "linked"]);
    for (kind, n) in [("sighting_visited", 1), ("sighting_linked", 1)] {
        assert_eq!(
            s.count("SELECT COUNT(*) FROM domain_events WHERE kind = $1", kind)
                .await,
            n,
            "{kind}"
        );
    }
    for action in ["sighting.assign", "sighting.visit", "sighting.link"] {
        assert_eq!(
            s.count("SELECT COUNT(*) FROM audit_log WHERE action = $1", action)
                .await,
            1,
            "{action}"
        );
    }
    // The reporter is told it is closed; nothing more.
    let code = linked["receipt_code"].as_str().unwrap();
    let status: Value = s
        .app
        .client
        .get(s.app.url(&format!("/api/v1/sightings/receipt/{code}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status, json!({"state": "closed"}));

    // The child's timeline shows the report beside its encounters.
    let encounter = json!({"at": "2026-01-01T10:00:00Z", "lat": JUNCTION.0, "lng": JUNCTION.1});
    s.act(
        &s.worker,
        &format!("/api/v1/children/{child}/encounters"),
        encounter,
        201,
    )
    .await;
    let timeline = s
        .read(
            &s.worker,
            &format!("/api/v1/children/{child}/timeline"),
            200,
        )
        .await;
    let entries = timeline.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{timeline:#}");
    assert_eq!(entries[0]["kind"], "sighting", "the report is the newest");
    assert_eq!(entries[0]["sighting"]["id"], report.as_str());
    assert_eq!(entries[0]["sighting"]["state"], "linked");
    assert_eq!(entries[0]["sighting"]["source"], "citizen");
    assert_eq!(entries[1]["kind"], "encounter");
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'child.timeline.read' AND resource_id = $1",
            &child
        )
        .await,
        1
    );
    problem(
        s.app
            .get(
                &s.other_province,
                &format!("/api/v1/children/{child}/timeline"),
            )
            .await,
        404,
    )
    .await;

    // Merged into another record, the child's report shows on the survivor's timeline.
    let survivor = s.child("2301").await;
    let merge = json!({"duplicate_id": child});
    s.act(
        &s.sup,
        &format!("/api/v1/children/{survivor}/merge"),
        merge,
        201,
    )
    .await;
    let timeline = s
        .read(
            &s.sup,
            &format!("/api/v1/children/{survivor}/timeline"),
            200,
        )
        .await;
    let kinds: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sighting", "encounter"], "{timeline:#}");

    // The incident has one report fewer open.
    let incident = s
        .read(&s.sup, &format!("/api/v1/incidents/{incident_id}"), 200)
        .await;
    assert_eq!(incident["open_count"], 9);

    // A report taken by the 123 line lands in the same queue and incident.
    let hotline_report = new_id();
    let body = json!({"id": hotline_report, "source": "hotline", "lat": JUNCTION.0, "lng": JUNCTION.1,
                      "reporter_phone": "0912 345 6789", "phone_consent": true});
    s.act(&s.hotline, "/api/v1/sightings", body, 201).await;
    let from_hotline = s.ids(&s.sup, "/api/v1/sightings?source=hotline").await;
    assert_eq!(from_hotline, vec![hotline_report.clone()]);
    let stored = s
        .read(&s.sup, &format!("/api/v1/sightings/{hotline_report}"), 200)
        .await;
    assert_eq!(stored["incident_id"], incident_id.as_str());
    assert_eq!(stored["created_by"], s.hotline_id.as_str());
    // The operator sees the province's queue (they feed it), the outsiders still nothing.
    expected.insert(0, hotline_report);
    assert_eq!(
        s.ids(&s.hotline, "/api/v1/sightings?limit=200").await,
        expected
    );
    assert!(
        s.ids(&s.other_county_sup, "/api/v1/sightings")
            .await
            .is_empty()
    );
}

async fn retries_and_concurrent_copies_of_a_step_write_one_history_row(db: TestDb) {
    let s = scene(db).await;
    let report = s.citizen_reports(JUNCTION, 0).await;
    let other = s.citizen_reports(JUNCTION, 1).await;

    // A retry answers like the first time and writes nothing.
    let path = format!("/api/v1/sightings/{report}/assign");
    let assign = json!({"worker_id": s.worker_id});
    let first = s.act(&s.sup, &path, assign.clone(), 200).await;
    let again = s.act(&s.sup, &path, assign.clone(), 200).await;
    assert_eq!(first, again);
    assert_eq!(s.steps(&report, "assigned").await, 1);

    // Ten identical steps at once: one history row, one event, one audit
    // entry, and every answer the same report.
    for (path, body, state) in [
        (
            format!("/api/v1/sightings/{other}/assign"),
            assign.clone(),
            "assigned",
        ),
        (
            format!("/api/v1/sightings/{other}/visit"),
            json!({"outcome": "not_found"}),
            "visited",
        ),
        (
            format!("/api/v1/sightings/{other}/close"),
            json!({"reason": "false_report"}),
            "false_report",
        ),
    ] {
        let mut answers = Vec::new();
        for response in s.ten_at_once(&s.sup, &path, &body).await {
            assert_eq!(response.status(), 200, "{path}");
            let answer: Value = response.json().await.unwrap();
            answers.push(answer);
        }
        assert!(answers.iter().all(|a| a["state"] == state), "{answers:#?}");
        assert!(
            answers
                .windows(2)
                .all(|w| w[0]["history"] == w[1]["history"])
        );
        assert_eq!(s.steps(&other, state).await, 1, "{state}");
    }
    let child = s.child("2301").await;
    let link = json!({"child_ids": [child, child]});
    let path = format!("/api/v1/sightings/{report}/link");
    for response in s.ten_at_once(&s.worker, &path, &link).await {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(s.steps(&report, "linked").await, 1);
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM sighting_children WHERE sighting_id = $1",
            &report
        )
        .await,
        1
    );
    for kind in [
        "sighting_assigned",
        "sighting_visited",
        "sighting_closed",
        "sighting_linked",
    ] {
        let n = s
            .count("SELECT COUNT(*) FROM domain_events WHERE kind = $1", kind)
            .await;
        let expected = if kind == "sighting_assigned" { 2 } else { 1 };
        assert_eq!(n, expected, "{kind}");
    }
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "sighting.close"
        )
        .await,
        1
    );
    // A reassignment is a step of its own, and so is the closing of a closed
    // report an impossible one.
    let fresh = s.citizen_reports(JUNCTION, 2).await;
    let path = format!("/api/v1/sightings/{fresh}/assign");
    s.act(&s.sup, &path, json!({"worker_id": s.worker_id}), 200)
        .await;
    let moved = s
        .act(&s.sup, &path, json!({"worker_id": s.sup_id}), 200)
        .await;
    assert_eq!(moved["assigned_to"], s.sup_id.as_str());
    assert_eq!(s.steps(&fresh, "assigned").await, 2);
    let body = problem(
        s.app
            .post(
                &s.sup,
                &format!("/api/v1/sightings/{other}/close"),
                &json!({"reason": "duplicate"}),
            )
            .await,
        422,
    )
    .await;
    assert!(body["errors"]["state"].is_array(), "{body}");
}

async fn supervisors_split_and_join_incidents(db: TestDb) {
    let s = scene(db).await;
    let mut reports = Vec::new();
    for step in 0..4 {
        reports.push(s.citizen_reports(JUNCTION, step).await);
    }
    let incident = s.ids(&s.sup, "/api/v1/incidents").await.remove(0);
    let split = format!("/api/v1/incidents/{incident}/split");
    let moving = json!({"sighting_ids": [reports[3], reports[2]]});
    problem(s.app.post(&s.worker, &split, &moving).await, 403).await;
    problem(s.app.post(&s.other_county_sup, &split, &moving).await, 404).await;
    let new = s.act(&s.sup, &split, moving.clone(), 200).await;
    let again = s.act(&s.sup, &split, moving, 200).await;
    assert_eq!(again, new, "a retry answers like the first time");
    let new_id = new["id"].as_str().unwrap().to_string();
    assert_ne!(new_id, incident);
    assert_eq!(new["report_count"], 2);
    assert_eq!(new["county"], "2301");
    let mut ids: Vec<String> = serde_json::from_value(new["sighting_ids"].clone()).unwrap();
    ids.sort();
    let mut expected = vec![reports[2].clone(), reports[3].clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let old = s
        .read(&s.sup, &format!("/api/v1/incidents/{incident}"), 200)
        .await;
    assert_eq!(old["report_count"], 2);
    let moved = s
        .read(&s.sup, &format!("/api/v1/sightings/{}", reports[3]), 200)
        .await;
    assert_eq!(moved["incident_id"], new_id.as_str());
    // Times recomputed: each incident spans its own reports' times.
    for i in [&old, &new] {
        // As times: RFC 3339 texts with and without fractions do not sort as text.
        let at = |field: &str| {
            let text = i[field].as_str().unwrap();
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        assert!(at("first_seen_at") <= at("last_seen_at"), "{i}");
        assert!(at("first_seen_at").year() > 2000, "{i}");
    }
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM domain_events WHERE kind = $1",
            "incident_changed"
        )
        .await,
        2
    );

    // Join them back: the emptied incident is gone.
    let join = format!("/api/v1/incidents/{incident}/join");
    problem(
        s.app
            .post(&s.worker, &join, &json!({"incident_ids": [new_id]}))
            .await,
        403,
    )
    .await;
    let joined = s
        .act(&s.sup, &join, json!({"incident_ids": [new_id]}), 200)
        .await;
    assert_eq!(joined["report_count"], 4);
    assert_eq!(joined["open_count"], 4);
    problem(
        s.app
            .get(&s.sup, &format!("/api/v1/incidents/{new_id}"))
            .await,
        404,
    )
    .await;
    assert_eq!(
        s.ids(&s.sup, "/api/v1/incidents").await,
        vec![incident.clone()]
    );
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "incident.join"
        )
        .await,
        1
    );
    // A join of an incident of another county is refused, naming the field.
    s.citizen_reports(ELSEWHERE, 0).await;
    let theirs = s
        .ids(&s.other_county_sup, "/api/v1/incidents")
        .await
        .remove(0);
    let body = problem(
        s.app
            .post(&s.sup, &join, &json!({"incident_ids": [theirs]}))
            .await,
        422,
    )
    .await;
    assert!(body["errors"]["incident_ids"].is_array(), "{body}");
    // Open and closed incidents filter apart.
    for report in &reports {
        s.act(
            &s.sup,
            &format!("/api/v1/sightings/{report}/close"),
            json!({"reason": "duplicate"}),
            200,
        )
        .await;
    }
    assert!(
        s.ids(&s.sup, "/api/v1/incidents?open=true")
            .await
            .is_empty()
    );
    assert_eq!(
        s.ids(&s.sup, "/api/v1/incidents?open=false").await,
        vec![incident]
    );
}

async fn the_queue_pages_by_keyset_and_filters(db: TestDb) {
    let s = scene(db).await;
    let mut reports = Vec::new();
    for step in 0..7 {
        reports.push(s.citizen_reports(JUNCTION, step).await);
    }
    let seen = s
        .every_page(&s.sup, "/api/v1/sightings?limit=3", "id")
        .await;
    reports.reverse();
    assert_eq!(seen, reports, "every report once, newest first");

    let incident = s.ids(&s.sup, "/api/v1/incidents").await.remove(0);
    assert_eq!(
        s.total(&format!("/api/v1/sightings?incident={incident}"))
            .await,
        7
    );
    assert_eq!(s.total("/api/v1/sightings?incident=none").await, 0);
    assert_eq!(
        s.total("/api/v1/sightings?county=2301&state=new&source=citizen")
            .await,
        7
    );
    assert_eq!(s.total("/api/v1/sightings?county=2302").await, 0);
    assert_eq!(s.total("/api/v1/sightings?flagged=true").await, 0);
    assert_eq!(s.total("/api/v1/sightings?flagged=false").await, 7);
    assert_eq!(
        s.total("/api/v1/sightings?from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z")
            .await,
        7
    );
    assert_eq!(
        s.total("/api/v1/sightings?to=2000-01-01T00:00:00Z").await,
        0
    );
    assert_eq!(
        s.total("/api/v1/incidents?from=2999-01-01T00:00:00Z").await,
        0
    );
    s.act(
        &s.sup,
        &format!("/api/v1/sightings/{}/assign", reports[0]),
        json!({"worker_id": s.worker_id}),
        200,
    )
    .await;
    assert_eq!(s.total("/api/v1/sightings?state=assigned").await, 1);
    assert_eq!(s.total("/api/v1/sightings?state=new").await, 6);
}

async fn relocation_moves_reports_to_a_new_centres_county(db: TestDb) {
    let s = scene(db).await;
    // 3 km east of the junction's centre: placed in 2301 for now.
    let report = s.citizen_reports((JUNCTION.0, JUNCTION.1 + 0.035), 0).await;
    let stay = s.citizen_reports(JUNCTION, 0).await;
    assert_eq!(s.county_of(&report).await.as_deref(), Some("2301"));
    // A new centre right there, of a new county.
    let admin = s.app.admin_token().await;
    let centre = json!({"name": "مرکز نو", "lat": JUNCTION.0, "lng": JUNCTION.1 + 0.036,
                        "province": "IR-23", "county": "2399"});
    assert_eq!(
        s.app
            .post(&admin, "/api/v1/centres", &centre)
            .await
            .status(),
        201
    );

    let db = &s.app.state.db;
    let total = kudakyar::sightings::relocate::total(db).await.unwrap();
    assert_eq!(total, 4, "two reports and their two incidents");
    let mut progressed = 0;
    let moved = kudakyar::sightings::relocate::relocate(db, 1, |n| progressed += n)
        .await
        .unwrap();
    assert_eq!(progressed, total);
    assert_eq!((moved.sightings, moved.incidents), (1, 1));
    assert_eq!(s.county_of(&report).await.as_deref(), Some("2399"));
    assert_eq!(s.county_of(&stay).await.as_deref(), Some("2301"));
    // Out of 2301's queue now; again, nothing moves.
    problem(
        s.app
            .get(&s.sup, &format!("/api/v1/sightings/{report}"))
            .await,
        404,
    )
    .await;
    let again = kudakyar::sightings::relocate::relocate(db, 500, |_| {})
        .await
        .unwrap();
    assert_eq!((again.sightings, again.incidents), (0, 0));
}

async fn bad_input_at_every_endpoint_is_named(db: TestDb) {
    let s = scene(db).await;
    let report = s.citizen_reports(JUNCTION, 0).await;
    let sibling = s.citizen_reports(JUNCTION, 1).await;
    let far = s.citizen_reports(ELSEWHERE, 0).await;
    // 2 km north: the same county, an incident of its own.
    let lone = s.citizen_reports((JUNCTION.0 + 0.02, JUNCTION.1), 0).await;
    let incident = s
        .read(&s.sup, &format!("/api/v1/sightings/{report}"), 200)
        .await["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    let far_incident = s
        .ids(&s.other_county_sup, "/api/v1/incidents")
        .await
        .remove(0);
    let theirs = s.child("2302").await;
    let long = "ی".repeat(2001);
    let on = |what: &str| format!("/api/v1/sightings/{report}/{what}");

    for (path, field) in [
        ("/api/v1/sightings?state=lost", "state"),
        ("/api/v1/sightings?source=pigeon", "source"),
        ("/api/v1/sightings?cursor=not-a-cursor", "cursor"),
        ("/api/v1/sightings?from=yesterday", "from"),
        ("/api/v1/sightings?limit=0", "limit"),
        ("/api/v1/sightings?flagged=perhaps", "flagged"),
        ("/api/v1/sightings?colour=red", "colour"),
        ("/api/v1/incidents?cursor=%21%21", "cursor"),
        ("/api/v1/incidents?to=soon", "to"),
        ("/api/v1/incidents?open=maybe", "open"),
    ] {
        let body = problem(s.app.get(&s.sup, path).await, 422).await;
        assert!(body["errors"][field].is_array(), "{path}: {body}");
    }
    let posts: Vec<(String, Value, &str)> = vec![
        (
            on("assign"),
            json!({"worker_id": s.other_county_worker_id}),
            "worker_id",
        ),
        (
            on("assign"),
            json!({"worker_id": s.hotline_id}),
            "worker_id",
        ),
        (on("assign"), json!({"worker_id": "nobody"}), "worker_id"),
        (
            on("assign"),
            json!({"worker_id": s.worker_id, "note": long}),
            "note",
        ),
        (on("visit"), json!({"outcome": "found"}), "state"),
        (on("visit"), json!({"outcome": "maybe"}), "outcome"),
        (on("link"), json!({"child_ids": [theirs]}), "child_ids"),
        (on("link"), json!({"child_ids": []}), "child_ids"),
        (
            on("link"),
            json!({"child_ids": ["no-such-child"]}),
            "child_ids",
        ),
        (on("close"), json!({"reason": "bored"}), "reason"),
        (
            on("close"),
            json!({"reason": "duplicate", "note": long}),
            "note",
        ),
        (
            format!("/api/v1/incidents/{incident}/split"),
            json!({"sighting_ids": [far]}),
            "sighting_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/split"),
            json!({"sighting_ids": [lone]}),
            "sighting_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/split"),
            json!({"sighting_ids": [report, sibling]}),
            "sighting_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/split"),
            json!({"sighting_ids": []}),
            "sighting_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/join"),
            json!({"incident_ids": [incident]}),
            "incident_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/join"),
            json!({"incident_ids": ["none"]}),
            "incident_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/join"),
            json!({"incident_ids": []}),
            "incident_ids",
        ),
        (
            format!("/api/v1/incidents/{incident}/join"),
            json!({"incident_ids": [far_incident]}),
            "incident_ids",
        ),
    ];
    for (path, body, field) in posts {
        let answer = problem(s.app.post(&s.sup, &path, &body).await, 422).await;
        assert!(
            answer["errors"][field].is_array(),
            "{path} {body}: {answer}"
        );
    }
    // Unknown reports, incidents and children are 404s.
    for path in [
        "/api/v1/sightings/none",
        "/api/v1/incidents/none",
        "/api/v1/children/none/timeline",
    ] {
        problem(s.app.get(&s.sup, path).await, 404).await;
    }
    problem(
        s.app
            .post(
                &s.sup,
                "/api/v1/sightings/none/close",
                &json!({"reason": "duplicate"}),
            )
            .await,
        404,
    )
    .await;
    // None of it changed anything.
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM sighting_events WHERE state <> $1",
            "new"
        )
        .await,
        0
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM incidents WHERE id <> $1", "")
            .await,
        3
    );
    let unauthenticated = s
        .app
        .client
        .get(s.app.url("/api/v1/sightings"))
        .send()
        .await
        .unwrap();
    problem(unauthenticated, 401).await;
}

#[test]
fn every_triage_endpoint_is_in_the_openapi_document() {
    let (_, openapi) = kudakyar::http::api();
    let spec: Value = serde_json::from_str(&kudakyar::http::docs::document(&openapi)).unwrap();
    for (path, method) in [
        ("/api/v1/sightings", "get"),
        ("/api/v1/sightings", "post"),
        ("/api/v1/sightings/{id}", "get"),
        ("/api/v1/sightings/{id}/assign", "post"),
        ("/api/v1/sightings/{id}/visit", "post"),
        ("/api/v1/sightings/{id}/link", "post"),
        ("/api/v1/sightings/{id}/close", "post"),
        ("/api/v1/incidents", "get"),
        ("/api/v1/incidents/{id}", "get"),
        ("/api/v1/incidents/{id}/split", "post"),
        ("/api/v1/incidents/{id}/join", "post"),
        ("/api/v1/children/{id}/timeline", "get"),
    ] {
        assert!(
            spec["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
    }
    let entry = &spec["components"]["schemas"]["TimelineEntry"];
    assert!(entry.is_object(), "the timeline's entries have a schema");
}
