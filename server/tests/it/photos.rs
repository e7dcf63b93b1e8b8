//! Photos over HTTP, on SQLite and PostgreSQL: EXIF (GPS included) stripped
//! after its orientation is applied, type by content, size and pixel limits,
//! scope, ETags, idempotent retries — and once more with the media in a real
//! S3-compatible server (`photos_on_s3`).

use std::io::Cursor;

use crate::common::s3::S3Server;
use crate::common::{Part, TestApp, TestDb, UnfinishedUpload, problem, texts};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::header;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

on_both_backends!(
    exif_is_applied_then_removed,
    png_and_webp_are_accepted,
    other_types_are_refused_by_content,
    size_and_pixel_limits,
    out_of_scope_callers_see_nothing,
    etags_answer_304,
    a_retry_is_not_a_duplicate,
    bad_forms_name_the_field,
    an_upload_out_of_scope_is_refused_before_its_body,
    uploads_beyond_the_cap_are_told_to_come_back,
);

const CHILD: &str = "5d2e7a10-8c3b-4f6e-a1d2-3b4c5d6e7f80";
const PHOTO: &str = "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b";

/// A worker in IR-23 with one child; returns the worker's token.
pub(crate) async fn worker_with_child(app: &TestApp) -> String {
    let token = app.token_for("worker1", "outreach_worker", "IR-23").await;
    let child = json!({
        "id": CHILD, "sex": "male", "nationality": "afghan", "home_province": "IR-23",
        "birth": {"precision": "estimated", "estimated_age": 10},
    });
    let created = app.post(&token, "/api/v1/children", &child).await;
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    token
}

pub(crate) fn photos_path() -> String {
    format!("/api/v1/children/{CHILD}/photos")
}

/// Posts a multipart form to the child's photos.
async fn upload_form(app: &TestApp, token: &str, parts: &[Part<'_>]) -> reqwest::Response {
    app.post_form(token, &photos_path(), parts).await
}

async fn upload(app: &TestApp, token: &str, bytes: &[u8]) -> reqwest::Response {
    upload_form(app, token, &[("photo", "photo.jpg", bytes)]).await
}

fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A gradient, so that rotations are visible in the dimensions.
pub(crate) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 90]));
    encoded(DynamicImage::ImageRgb8(image), ImageFormat::Jpeg)
}

/// An APP1 Exif segment: Orientation = 6 (turn 90° clockwise to view) and a
/// GPS IFD with a latitude — what a phone camera writes.
fn exif_segment() -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD0 at 8
    tiff.extend_from_slice(&2u16.to_be_bytes());
    // Orientation, SHORT, 1 value: 6.
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
    // GPSInfo IFD pointer, LONG, 1 value: offset 38.
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    assert_eq!(tiff.len(), 38);
    tiff.extend_from_slice(&2u16.to_be_bytes());
    // GPSLatitudeRef, ASCII, 2: "N".
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    // GPSLatitude, RATIONAL, 3 values at offset 68.
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(tiff.len(), 68);
    for (num, den) in [(35u32, 1u32), (41, 1), (2400, 100)] {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

/// A 64×32 JPEG whose EXIF says to show it turned: 32×64.
pub(crate) fn phone_jpeg() -> Vec<u8> {
    let plain = jpeg(64, 32);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&exif_segment());
    out.extend_from_slice(&plain[2..]);
    out
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn get_bytes(app: &TestApp, token: &str, path: &str) -> Vec<u8> {
    let response = app.get(token, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/jpeg");
    response.bytes().await.unwrap().to_vec()
}

async fn exif_is_applied_then_removed(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let original = phone_jpeg();
    assert!(contains(&original, b"Exif"));
    let response = upload(&app, &w, &original).await;
    assert_eq!(response.status(), 201);
    let photo: Value = response.json().await.unwrap();
    assert_eq!(
        (&photo["width"], &photo["height"]),
        (&json!(32), &json!(64)),
        "orientation 6 applied: {photo}"
    );

    let stored = get_bytes(&app, &w, photo["url"].as_str().unwrap()).await;
    assert!(!contains(&stored, b"Exif"), "no EXIF left");
    assert!(!contains(&stored, b"MM\0\x2a"), "no TIFF block left");
    let image = image::load_from_memory(&stored).unwrap();
    assert_eq!((image.width(), image.height()), (32, 64));
    // Turned clockwise: the original's left column (no red) is now the top row.
    let top = image.to_rgb8().get_pixel(16, 0).0;
    let bottom = image.to_rgb8().get_pixel(16, 63).0;
    assert!(top[0] < bottom[0], "top {top:?} bottom {bottom:?}");

    let thumb = get_bytes(&app, &w, photo["thumbnail_url"].as_str().unwrap()).await;
    assert!(!contains(&thumb, b"Exif"));
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert!(thumb.width().max(thumb.height()) <= 256);

    let admin = app.admin_token().await;
    let audit: Value = app
        .get_json(
            &admin,
            &format!("/api/v1/audit?resource_type=child&resource_id={CHILD}"),
        )
        .await;
    let actions: Vec<&str> = texts(&audit["items"], "action");
    assert!(actions.contains(&"photo.create"), "{actions:?}");
    assert!(actions.contains(&"photo.read"), "{actions:?}");
}

async fn png_and_webp_are_accepted(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    // Large enough to be scaled down; half transparent.
    let rgba = RgbaImage::from_fn(2000, 500, |x, _| Rgba([0, 0, 0, (x % 256) as u8]));
    let png = encoded(DynamicImage::ImageRgba8(rgba), ImageFormat::Png);
    let response = upload(&app, &w, &png).await;
    assert_eq!(response.status(), 201);
    let photo: Value = response.json().await.unwrap();
    assert_eq!(
        (&photo["width"], &photo["height"]),
        (&json!(1600), &json!(400))
    );

    let rgb = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 6, y as u8 * 8, 0]));
    let webp = encoded(DynamicImage::ImageRgb8(rgb), ImageFormat::WebP);
    let response = upload(&app, &w, &webp).await;
    assert_eq!(response.status(), 201);
    let photo: Value = response.json().await.unwrap();
    let stored = get_bytes(&app, &w, photo["url"].as_str().unwrap()).await;
    assert_eq!(image::guess_format(&stored).unwrap(), ImageFormat::Jpeg);

    let list: Value = app.get_json(&w, &photos_path()).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], photo["id"], "newest first");
}

async fn other_types_are_refused_by_content(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
    let p = problem(upload(&app, &w, gif).await, 415).await;
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("GIF") && detail.contains("JPEG, PNG and WebP"),
        "{detail}"
    );
    let p = problem(
        upload_form(&app, &w, &[("photo", "notes.jpg", b"just some text")]).await,
        415,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("not its name"));
}

async fn size_and_pixel_limits(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    // Noise does not compress: a 3 MiB PNG, over the 1 MiB limit of JSON bodies.
    let mut seed = 1u32;
    let noise = RgbImage::from_fn(1024, 1024, |_, _| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let [r, g, b, _] = seed.to_be_bytes();
        Rgb([r, g, b])
    });
    let big = encoded(DynamicImage::ImageRgb8(noise), ImageFormat::Png);
    assert!(big.len() > 3 * 1024 * 1024);
    assert_eq!(upload(&app, &w, &big).await.status(), 201);

    let mut huge = jpeg(8, 8);
    huge.resize(15 * 1024 * 1024 + 1, 0);
    problem(upload(&app, &w, &huge).await, 413).await;

    let p = problem(upload(&app, &w, &png_header(30_000, 30_000)).await, 422).await;
    let message = p["errors"]["photo"][0].as_str().unwrap();
    assert!(message.contains("pixels"), "{message}");

    let whole = jpeg(64, 64);
    let p = problem(upload(&app, &w, &whole[..whole.len() / 2]).await, 422).await;
    assert!(p["errors"]["photo"].is_array(), "{p}");
    let list: Value = app.get_json(&w, &photos_path()).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the good photo stored"
    );
}

/// A PNG that declares `width`×`height` pixels in a few dozen bytes.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn out_of_scope_callers_see_nothing(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let photo: Value = upload(&app, &w, &jpeg(20, 20)).await.json().await.unwrap();
    let other = app.token_for("elsewhere", "outreach_worker", "IR-07").await;
    problem(upload(&app, &other, &jpeg(20, 20)).await, 404).await;
    problem(app.get(&other, &photos_path()).await, 404).await;
    for key in ["url", "thumbnail_url"] {
        problem(app.get(&other, photo[key].as_str().unwrap()).await, 404).await;
    }
    // Nor under another child id.
    problem(
        app.get(
            &w,
            &format!(
                "/api/v1/children/{PHOTO}/photos/{}",
                photo["id"].as_str().unwrap()
            ),
        )
        .await,
        404,
    )
    .await;
    let anonymous = app.get_anonymous(photo["url"].as_str().unwrap()).await;
    problem(anonymous, 401).await;
}

async fn etags_answer_304(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let photo: Value = upload(&app, &w, &jpeg(600, 400))
        .await
        .json()
        .await
        .unwrap();
    let url = photo["url"].as_str().unwrap();
    let response = app.get(&w, url).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "private, max-age=0, must-revalidate"
    );
    let body = response.bytes().await.unwrap();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&body))));
    assert_eq!(photo["sha256"].as_str().unwrap(), &etag[1..etag.len() - 1]);

    let again = |tag: String| {
        app.client
            .get(app.url(url))
            .bearer_auth(&w)
            .header(header::IF_NONE_MATCH, tag)
            .send()
    };
    let not_modified = again(etag.clone()).await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()[header::ETAG], etag.as_str());
    assert!(not_modified.bytes().await.unwrap().is_empty());
    assert_eq!(
        again(format!("\"other\", W/{etag}"))
            .await
            .unwrap()
            .status(),
        304
    );
    assert_eq!(again("\"other\"".into()).await.unwrap().status(), 200);

    let thumb = app.get(&w, photo["thumbnail_url"].as_str().unwrap()).await;
    assert_ne!(thumb.headers()[header::ETAG], etag.as_str());
}

async fn a_retry_is_not_a_duplicate(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let file = jpeg(30, 30);
    let form = [("id", "", PHOTO.as_bytes()), ("photo", "p.jpg", &file[..])];
    let first = upload_form(&app, &w, &form).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["id"], PHOTO);
    let retry = upload_form(&app, &w, &form).await;
    assert_eq!(retry.status(), 200, "a retry is recognised");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    let list: Value = app.get_json(&w, &photos_path()).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    let other = jpeg(31, 30);
    let clash = [("id", "", PHOTO.as_bytes()), ("photo", "p.jpg", &other[..])];
    problem(upload_form(&app, &w, &clash).await, 409).await;
    // The stored photo is untouched by the clash.
    let stored = get_bytes(&app, &w, first["url"].as_str().unwrap()).await;
    assert_eq!(
        hex::encode(Sha256::digest(&stored)),
        first["sha256"].as_str().unwrap()
    );
}

async fn bad_forms_name_the_field(db: TestDb) {
    let app = TestApp::start(db).await;
    let w = worker_with_child(&app).await;
    let file = jpeg(10, 10);
    let cases: [(&[Part], &str); 4] = [
        (
            &[("id", "", b"not-a-uuid"), ("photo", "p.jpg", &file)],
            "id",
        ),
        (&[("id", "", PHOTO.as_bytes())], "photo"),
        (&[("photo", "p.jpg", b"")], "photo"),
        (&[("picture", "p.jpg", &file)], "picture"),
    ];
    for (form, field) in cases {
        let p = problem(upload_form(&app, &w, form).await, 422).await;
        assert!(p["errors"][field].is_array(), "{field}: {p}");
    }
    let json_body = app.post(&w, &photos_path(), &json!({"photo": "x"})).await;
    let p = problem(json_body, 415).await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data")
    );
    let unknown_child = format!("/api/v1/children/{PHOTO}/photos/{PHOTO}/thumbnail");
    problem(app.get(&w, &unknown_child).await, 404).await;
}

/// The same application with its media in a real S3-compatible server: the
/// photo goes into the bucket (and not to the local disk) and comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_on_s3() {
    let Some(s3) = S3Server::start().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let data_dir = db.dir.path().to_path_buf();
    let app = TestApp::start_with(db, |config| s3.configure(config)).await;
    let w = worker_with_child(&app).await;
    let response = upload(&app, &w, &phone_jpeg()).await;
    assert_eq!(response.status(), 201);
    let photo: Value = response.json().await.unwrap();
    let served = get_bytes(&app, &w, photo["url"].as_str().unwrap()).await;

    let (key, thumbnail_key): (String, String) =
        sqlx::query_as("SELECT object_key, thumbnail_key FROM child_photos WHERE id = $1")
            .bind(photo["id"].as_str().unwrap())
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    let in_bucket = s3.object(&key).await.expect("the image is in the bucket");
    assert_eq!(in_bucket, served);
    assert!(!contains(&in_bucket, b"Exif"));
    assert!(s3.object(&thumbnail_key).await.is_some());
    assert_eq!(s3.anonymous_status(&key).await, 403, "not public");
    assert!(
        !data_dir.join("media").join("photos").exists(),
        "nothing written to the local media directory"
    );
}

async fn an_upload_out_of_scope_is_refused_before_its_body(db: TestDb) {
    let app = TestApp::start(db).await;
    worker_with_child(&app).await;
    let elsewhere = app.token_for("tabriz", "outreach_worker", "IR-03").await;
    {
        let mut upload = UnfinishedUpload::start(&app, &elsewhere, &photos_path(), "photo").await;
        // The answer comes while the body is still being sent.
        assert_eq!(upload.status().await, 404);
    }
}

async fn uploads_beyond_the_cap_are_told_to_come_back(db: TestDb) {
    let app = TestApp::start_with(db, |c| c.max_concurrent_uploads = 1).await;
    let token = worker_with_child(&app).await;
    let stalled = UnfinishedUpload::start(&app, &token, &photos_path(), "photo").await;
    wait_for_free_upload_slots(&app, 0).await;
    let refused = upload(&app, &token, &jpeg(40, 30)).await;
    let retry_after = refused.headers().get(header::RETRY_AFTER).cloned();
    let p = problem(refused, 429).await;
    assert!(p["detail"].as_str().unwrap().contains("uploads"), "{p:#}");
    let retry_after: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry_after > 0);
    // The stalled phone gives up: its slot is free again.
    drop(stalled);
    wait_for_free_upload_slots(&app, 1).await;
    assert_eq!(upload(&app, &token, &jpeg(40, 30)).await.status(), 201);
}

/// Waits (a bounded number of short rounds) until `free` upload slots are free.
async fn wait_for_free_upload_slots(app: &TestApp, free: usize) {
    for _ in 0..500 {
        if app.state.uploads.available() == free {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "{} upload slots free, expected {free}",
        app.state.uploads.available()
    );
}
