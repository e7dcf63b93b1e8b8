//! The OpenAPI document: version 3.1, every route documented, and a snapshot
//! so any change to the public API shows up in review.
//!
//! After an intended API change: `UPDATE_SNAPSHOTS=1 cargo test -p kudakyar --test it openapi::`.

use serde_json::Value;

/// The OpenAPI document the server serves, as JSON.
pub(crate) fn spec() -> Value {
    let (_, openapi) = kudakyar::http::api();
    serde_json::from_str(&kudakyar::http::docs::document(&openapi)).unwrap()
}

#[test]
fn is_openapi_3_1_with_every_endpoint() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/health", "get"),
        ("/api/v1/ready", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}/disable", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/children", "get"),
        ("/api/v1/children", "post"),
        ("/api/v1/children/{id}", "get"),
        ("/api/v1/children/{id}", "patch"),
        ("/api/v1/children/{id}/encounters", "get"),
        ("/api/v1/children/{id}/encounters", "post"),
        ("/api/v1/children/{id}/photos", "get"),
        ("/api/v1/children/{id}/photos", "post"),
        ("/api/v1/children/{id}/photos/{photo_id}", "get"),
        ("/api/v1/children/{id}/photos/{photo_id}/thumbnail", "get"),
        ("/api/v1/children/{id}/iris", "get"),
        ("/api/v1/children/{id}/iris", "post"),
        ("/api/v1/children/{id}/iris/{template_id}", "delete"),
        ("/api/v1/iris/identify", "post"),
        ("/api/v1/registrations", "post"),
        ("/api/v1/iris/reviews", "get"),
        ("/api/v1/iris/reviews/{id}", "get"),
        ("/api/v1/iris/reviews/{id}/decision", "post"),
        ("/api/v1/children/{id}/merge", "post"),
        ("/api/v1/merges/{id}/undo", "post"),
        ("/api/v1/centres", "get"),
        ("/api/v1/centres", "post"),
        ("/api/v1/children/{id}/centre-suggestions", "get"),
        ("/api/v1/referrals", "get"),
        ("/api/v1/referrals", "post"),
        ("/api/v1/referrals/{id}/state", "post"),
        ("/api/v1/exports/{file}", "get"),
        ("/api/v1/atlas/choropleth", "get"),
        ("/api/v1/atlas/hexes", "get"),
        ("/api/v1/atlas/timeseries", "get"),
        ("/api/v1/atlas/zones", "get"),
        ("/api/v1/atlas/zones/map", "get"),
        ("/api/v1/tasks", "get"),
        ("/api/v1/atlas/zones/freeze", "post"),
        ("/api/v1/atlas/hotspots", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} documented"
        );
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    // Every $ref points at a schema that exists.
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let text = spec.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref to {name}");
    }
}

#[test]
fn matches_the_snapshot() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    let current = serde_json::to_string_pretty(&spec()).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &current).unwrap();
    }
    let stored = std::fs::read_to_string(&path)
        .expect("no snapshot yet: run with UPDATE_SNAPSHOTS=1 and review it");
    assert!(
        stored == current,
        "the OpenAPI document changed; review and run with UPDATE_SNAPSHOTS=1"
    );
}
