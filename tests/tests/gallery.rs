//! One gallery, many server instances: two `kudakyar serve` processes on one
//! PostgreSQL database. A template enrolled through one is found by a search
//! on the other within 5 seconds (the instances follow `iris_events`).

use std::time::{Duration, Instant};

use kudakyar::db::scratch::{self, ScratchDatabase};
use kudakyar_e2e::{Server, eye, post_form};
use serde_json::{Value, json};

#[tokio::test]
async fn two_server_processes_share_one_gallery() {
    let Some(admin_url) = scratch::test_postgres_url("the two-instance gallery test") else {
        return;
    };
    let database = ScratchDatabase::create(&admin_url, "kudakyar_e2e")
        .await
        .unwrap();
    let url = database.url();
    let tmp = tempfile::tempdir().unwrap();
    // Both instances hold the same biometric key, as a deployment would.
    let key = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=";
    let env = [
        ("KUDAKYAR_DATABASE_URL", url.as_str()),
        ("KUDAKYAR_BIOMETRIC_KEY", key),
        ("KUDAKYAR_ADMIN_PASSWORD", "an admin password for e2e"),
    ];
    let one = Server::start(&tmp.path().join("one"), &env).await;
    let two = Server::start(&tmp.path().join("two"), &env).await;
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", one.base))
        .json(&json!({"username": "admin", "password": "an admin password for e2e"}))
        .send()
        .await
        .unwrap();
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    let record = json!({
        "id": "1d000000-0000-4000-8000-00000000001d", "given_name": "رضا", "sex": "male",
        "nationality": "afghan", "home_province": "IR-23",
    })
    .to_string();
    let (status, registered) = post_form(
        &one.base,
        &token,
        "/api/v1/registrations",
        &[("child", record.as_bytes()), ("left", &eye(21, 0))],
    )
    .await;
    assert_eq!(status, 201, "{registered:#}\n{}", one.stderr());
    let enrolled_at = Instant::now();
    let probe = eye(21, 4);
    loop {
        let (status, found) = post_form(
            &two.base,
            &token,
            "/api/v1/iris/identify",
            &[("left", &probe)],
        )
        .await;
        assert_eq!(status, 200, "{found:#}");
        if found["candidates"][0]["child_id"] == registered["child"]["id"] {
            break;
        }
        assert!(
            enrolled_at.elapsed() < Duration::from_secs(5),
            "the second instance did not find the template within 5 s:\n{}",
            two.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((one, two));
    database.drop().await.unwrap();
}
