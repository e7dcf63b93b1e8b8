//! The cast of a triage story, shared by the sightings triage and the
//! notifications tests: two Tehran counties with their centres and teams, a
//! hotline operator and staff of another province, and the steps they take.

use serde_json::{Value, json};

use super::{TestApp, TestDb};

/// A junction in Tehran (county 2301).
pub const JUNCTION: (f64, f64) = (35.7009, 51.3912);
/// A place in the neighbouring county 2302, 30 km north-east.
pub const ELSEWHERE: (f64, f64) = (35.95, 51.60);

/// The cast of a triage story: an app with two Tehran counties' centres,
/// their teams, a hotline operator and staff of another province.
pub struct Scene {
    pub app: TestApp,
    pub sup: String,
    pub sup_id: String,
    pub worker: String,
    pub worker_id: String,
    pub other_county_sup: String,
    pub other_county_worker_id: String,
    pub other_province: String,
    pub hotline: String,
    pub hotline_id: String,
}

pub async fn scene(db: TestDb) -> Scene {
    scene_with(db, |_| {}).await
}

/// [`scene`] with more configuration.
pub async fn scene_with(
    db: TestDb,
    configure: impl FnOnce(&mut kudakyar::config::Config),
) -> Scene {
    // Citizens' limits out of the way: these tests post many reports from 127.0.0.1.
    let app = TestApp::start_with(db, |config| {
        config.sighting_max_per_hour = 10_000;
        config.sighting_soft_limit_per_hour = 10_000;
        configure(config);
    })
    .await;
    let admin = app.admin_token().await;
    for (name, (lat, lng), county) in [
        ("مرکز مولوی", JUNCTION, "2301"),
        ("مرکز شمیرانات", ELSEWHERE, "2302"),
    ] {
        let centre =
            json!({"name": name, "lat": lat, "lng": lng, "province": "IR-23", "county": county});
        assert_eq!(
            app.post(&admin, "/api/v1/centres", &centre).await.status(),
            201
        );
    }
    let (sup, sup_id) = user(&app, "sup2301", "supervisor", "IR-23", Some("2301")).await;
    let (worker, worker_id) =
        user(&app, "worker2301", "outreach_worker", "IR-23", Some("2301")).await;
    let (other_county_sup, _) = user(&app, "sup2302", "supervisor", "IR-23", Some("2302")).await;
    let (_, other_county_worker_id) =
        user(&app, "worker2302", "outreach_worker", "IR-23", Some("2302")).await;
    let (other_province, _) = user(&app, "staff08", "provincial_staff", "IR-08", None).await;
    let (hotline, hotline_id) = user(&app, "hotline23", "hotline_operator", "IR-23", None).await;
    Scene {
        app,
        sup,
        sup_id,
        worker,
        worker_id,
        other_county_sup,
        other_county_worker_id,
        other_province,
        hotline,
        hotline_id,
    }
}

/// A user made through the API as an admin would; (token, id).
pub async fn user(
    app: &TestApp,
    name: &str,
    role: &str,
    province: &str,
    county: Option<&str>,
) -> (String, String) {
    let (id, password) = app.add_user(name, role, Some(province), county).await;
    (app.login(name, &password).await, id)
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Scene {
    /// A citizen's report (no login, JSON) `step` × 10 m north of `at`; its id.
    pub async fn citizen_reports(&self, at: (f64, f64), step: u32) -> String {
        let id = new_id();
        let body = json!({
            "id": id, "lat": at.0 + 0.0001 * f64::from(step), "lng": at.1,
            "children_count": 1, "activity": "selling_flowers_or_poems",
            "description": "پسری سر چهارراه گل می‌فروشد",
        });
        let response = self
            .app
            .client
            .post(self.app.url("/api/v1/sightings"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        id
    }

    /// GET as `token`, expecting `status`; the JSON body.
    pub async fn read(&self, token: &str, path: &str, status: u16) -> Value {
        let response = self.app.get(token, path).await;
        let got = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "GET {path}: {body:#}");
        body
    }

    /// POST as `token`, expecting `status`; the JSON body.
    pub async fn act(&self, token: &str, path: &str, body: Value, status: u16) -> Value {
        let response = self.app.post(token, path, &body).await;
        let got = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "POST {path}: {body:#}");
        body
    }

    /// `field` of every item of a list, following its cursors from `path`
    /// (which has a query string) to the last page.
    pub async fn every_page(&self, token: &str, path: &str, field: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut next = path.to_string();
        loop {
            let page = self.read(token, &next, 200).await;
            for item in page["items"].as_array().unwrap() {
                seen.push(item[field].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}&cursor={cursor}"),
                None => return seen,
            }
        }
    }

    /// The ids in a page of reports or incidents.
    pub async fn ids(&self, token: &str, path: &str) -> Vec<String> {
        let page = self.read(token, path, 200).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// How many reports a list answers `token` with.
    pub async fn total(&self, path: &str) -> usize {
        self.ids(&self.sup, path).await.len()
    }

    /// How many history rows of `state` a report has.
    pub async fn steps(&self, id: &str, state: &str) -> i64 {
        let sql = "SELECT COUNT(*) FROM sighting_events WHERE sighting_id = $1 AND state = $2";
        sqlx::query_scalar(sql)
            .bind(id)
            .bind(state)
            .fetch_one(self.app.state.db.pool())
            .await
            .unwrap()
    }

    /// The county a report is placed in.
    pub async fn county_of(&self, id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT county FROM sightings WHERE id = $1")
            .bind(id)
            .fetch_one(self.app.state.db.pool())
            .await
            .unwrap()
    }

    /// The same POST ten times at once.
    pub async fn ten_at_once(
        &self,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Vec<reqwest::Response> {
        futures::future::join_all((0..10).map(|_| self.app.post(token, path, body))).await
    }

    pub async fn count(&self, sql: &str, bind: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(self.app.state.db.pool())
            .await
            .unwrap()
    }

    /// A child registered by the county's worker; its id.
    pub async fn child(&self, county: &str) -> String {
        let id = new_id();
        let body = json!({
            "id": id, "given_name": "رضا", "sex": "male", "nationality": "iranian",
            "home_province": "IR-23", "home_county": county,
        });
        // The county's own worker registers it; the admin anywhere else.
        let admin = self.app.admin_token().await;
        let token = if county == "2301" {
            &self.worker
        } else {
            &admin
        };
        self.act(token, "/api/v1/children", body, 201).await;
        id
    }
}
