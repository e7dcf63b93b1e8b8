//! `kudakyar backup` while the server serves, `kudakyar restore` into a fresh
//! data dir, and a server started on the restored dir that still has every
//! child, photo and matchable iris template; and the refusals.

use kudakyar_e2e::{Server, eye, kudakyar, post_form};
use serde_json::{Value, json};

use super::{assert_succeeded, get_as, login};

const PASSPHRASE: &str = "a long backup passphrase";
const ADMIN_PASSWORD: &str = "an admin password for backups";

async fn admin_token(base: &str) -> String {
    let r = login(&reqwest::Client::new(), base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_children_photos_and_templates() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data, &[("KUDAKYAR_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await;
    let token = admin_token(&server.base).await;
    let record = json!({
        "id": "2b000000-0000-4000-8000-00000000002b", "given_name": "سارا", "sex": "female",
        "nationality": "iranian", "home_province": "IR-23",
    })
    .to_string();
    let (status, registered) = post_form(
        &server.base,
        &token,
        "/api/v1/registrations",
        &[("child", record.as_bytes()), ("left", &eye(31, 0))],
    )
    .await;
    assert_eq!(status, 201, "{registered:#}\n{}", server.stderr());
    let child_id = registered["child"]["id"].as_str().unwrap().to_owned();
    let photo = eye(32, 0); // any PNG will do as a photo
    let (status, uploaded) = post_form(
        &server.base,
        &token,
        &format!("/api/v1/children/{child_id}/photos"),
        &[("photo", &photo)],
    )
    .await;
    assert_eq!(status, 201, "{uploaded:#}");
    let photo_url = format!(
        "{}/api/v1/children/{child_id}/photos/{}",
        server.base,
        uploaded["id"].as_str().unwrap()
    );
    let client = reqwest::Client::new();
    let photo_before = get_as(&client, &token, photo_url.clone())
        .await
        .bytes()
        .await
        .unwrap();

    // Online: the server keeps running.
    let backup_dir = tmp.path().join("backup");
    let out = kudakyar(&data)
        .args(["backup", "--out"])
        .arg(&backup_dir)
        .env("KUDAKYAR_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("1 children, 1 photos and 1 iris templates"),
        "{said}"
    );
    assert!(backup_dir.join("manifest.json").exists());
    let sealed = std::fs::read_to_string(backup_dir.join("biometric.key.sealed")).unwrap();
    let key = std::fs::read_to_string(data.join("biometric.key")).unwrap();
    assert!(
        !sealed.contains(key.trim()),
        "the key must not be in the backup in the clear"
    );
    // A second backup into the same directory is refused, not mixed in.
    let again = kudakyar(&data)
        .args(["backup", "--out"])
        .arg(&backup_dir)
        .env("KUDAKYAR_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    server.terminate();

    // A wrong passphrase writes nothing.
    let restored = tmp.path().join("restored");
    let wrong = kudakyar(&restored)
        .args(["restore", "--from"])
        .arg(&backup_dir)
        .env("KUDAKYAR_BACKUP_PASSPHRASE", "not the passphrase at all")
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("passphrase does not open"));
    assert!(!restored.join("kudakyar.db").exists());

    let out = kudakyar(&restored)
        .args(["restore", "--from"])
        .arg(&backup_dir)
        .env("KUDAKYAR_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert_succeeded(&out);
    // Restoring over a database is refused.
    let over = kudakyar(&restored)
        .args(["restore", "--from"])
        .arg(&backup_dir)
        .env("KUDAKYAR_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("already has a database"));

    let server = Server::start(&restored, &[]).await;
    let token = admin_token(&server.base).await;
    let child = get_as(
        &client,
        &token,
        format!("{}/api/v1/children/{child_id}", server.base),
    )
    .await;
    assert_eq!(child.status(), 200);
    let photo_url = photo_url.replace(&photo_url[..photo_url.find("/api").unwrap()], &server.base);
    let photo_after = get_as(&client, &token, photo_url)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(photo_after, photo_before);
    let (status, found) = post_form(
        &server.base,
        &token,
        "/api/v1/iris/identify",
        &[("left", &eye(31, 4))],
    )
    .await;
    assert_eq!(status, 200, "{found:#}");
    assert_eq!(
        found["candidates"][0]["child_id"],
        child_id.as_str(),
        "{found:#}"
    );
}

#[test]
fn backup_of_a_postgresql_installation_is_refused_with_the_way_to_do_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kudakyar(tmp.path())
        .args(["backup", "--out"])
        .arg(tmp.path().join("backup"))
        .env(
            "KUDAKYAR_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("KUDAKYAR_BACKUP_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[test]
fn a_short_passphrase_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kudakyar(tmp.path())
        .args(["backup", "--out"])
        .arg(tmp.path().join("backup"))
        .env("KUDAKYAR_BACKUP_PASSPHRASE", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
}
