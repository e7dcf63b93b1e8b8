//! Keeping public intake usable without accounts or third-party captchas
//! (Google's is unreachable from Iran):
//!
//! - **Counters** per client address and per device token, in the
//!   `intake_counters` table so that every instance counts together. A
//!   report is counted in the transaction that writes it ([`Counters`], for
//!   a batch of reports; [`count`], for one request): a refused report
//!   counts nothing, and a failed one rolls its count back with it.
//! - Past the **soft limit** a report must carry a proof-of-work stamp: a
//!   [`Challenge`] the server issued, and a nonce whose SHA-256 with it starts
//!   with `difficulty` zero bits ([`spend`]). Cheap for one phone, costly for
//!   a flood. Past the **hard limit**, 429 with `Retry-After`.
//! - **Far apart**: one device reporting from places too far apart for the
//!   time between them (faster than any car in a city) gets its report
//!   flagged for a second look — never dropped ([`Tracks`]).
//!
//! Addresses and device tokens are kept only as SHA-256 hashes.

use kudakyar_api::sightings::{Challenge, ProofOfWork};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::cases::centres::haversine_km;
use crate::db::Db;
use crate::db::sql::{Arg, Sql};
use crate::error::{Error, Result};

/// The counting window.
pub const WINDOW_MS: i64 = 3600 * 1000;
/// How long a challenge may be spent.
pub const CHALLENGE_TTL_MS: i64 = 10 * 60 * 1000;
/// Further apart than this (km) …
const FAR_KM: f64 = 5.0;
/// … and faster than this between the two reports (km/h) is implausible.
const FAR_KMH: f64 = 120.0;
/// How far back a device's reports are compared.
const FAR_LOOKBACK_MS: i64 = 6 * 3600 * 1000;

/// A counter's key: what is counted and the hash of whose.
pub fn key(kind: &str, value: &str) -> String {
    format!("{kind}:{}", hash(value))
}

/// SHA-256 hex of an address or token.
pub fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// What [`count`] decided for a request under the hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Past the soft limit: a proof-of-work stamp is required.
    NeedsProof,
}

/// Counts one request against each key, in a write transaction of its own
/// holding the keys' locks ([`counter_lock_key`]). A key at `hard` within
/// the window refuses the request (429 with the seconds until its window
/// ends; nothing counted); a key past `soft` asks for a proof.
pub async fn count(db: &Db, keys: &[String], soft: u32, hard: u32) -> Result<Gate> {
    let keys = distinct(keys.iter().cloned());
    let mut tx = db.begin_write().await?;
    let locks: Vec<String> = keys.iter().map(|key| counter_lock_key(key)).collect();
    db.lock_keys(&mut tx, locks.iter().map(String::as_str))
        .await?;
    let mut counters = Counters::read(&mut tx, keys.iter().cloned(), crate::now_ms()).await?;
    let gate = counters.check(&keys, soft, hard)?;
    counters.add(&keys);
    counters.write(&mut tx).await?;
    tx.commit().await?;
    Ok(gate)
}

/// The [`Db::lock_keys`] key of a counter: whoever reads a counter to write
/// it back holds it, so no other transaction counts in between.
pub fn counter_lock_key(key: &str) -> String {
    format!("counter:{key}")
}

/// `values` sorted, each once.
fn distinct(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut values: Vec<String> = values.into_iter().collect();
    values.sort();
    values.dedup();
    values
}

/// Counters read once and written once: [`Counters::read`] the rows of
/// every key, [`Counters::check`] and [`Counters::add`] each request in
/// order, [`Counters::write`] what changed. For a batch of reports
/// ([`super::writer`]) and for one request ([`count`]). Only sound while
/// the transaction holds the keys' [`counter_lock_key`] locks (or SQLite's
/// write lock): between the read and the write no other transaction may
/// count against them.
#[derive(Debug, Default)]
pub struct Counters {
    /// key → (window start, count, changed).
    rows: std::collections::HashMap<String, (i64, i64, bool)>,
    now: i64,
}

impl Counters {
    /// The stored counters of `keys`, as of `now`.
    pub async fn read(
        conn: &mut sqlx::AnyConnection,
        keys: impl IntoIterator<Item = String>,
        now: i64,
    ) -> sqlx::Result<Counters> {
        let keys = distinct(keys);
        let mut counters = Counters {
            rows: Default::default(),
            now,
        };
        if keys.is_empty() {
            return Ok(counters);
        }
        let mut sql =
            Sql::new("SELECT key, window_start, count FROM intake_counters WHERE key IN ");
        sql.bind_list(keys);
        for row in sql.query().fetch_all(conn).await? {
            counters.rows.insert(
                row.try_get("key")?,
                (row.try_get("window_start")?, row.try_get("count")?, false),
            );
        }
        Ok(counters)
    }

    /// A key's window start and count within the window now.
    fn current(&self, key: &str) -> (i64, i64) {
        match self.rows.get(key) {
            Some(&(start, count, _)) if start > self.now - WINDOW_MS => (start, count),
            _ => (self.now, 0),
        }
    }

    /// What one more report counted against `keys` meets, as [`count`]
    /// decides it: 429 when a key is at `hard`, a proof past `soft`.
    pub fn check(&self, keys: &[String], soft: u32, hard: u32) -> Result<Gate> {
        let mut gate = Gate::Open;
        for key in keys {
            let (start, count) = self.current(key);
            if count >= i64::from(hard) {
                let wait_ms = (start + WINDOW_MS - self.now).max(1000);
                return Err(Error::TooManyRequests {
                    retry_after_secs: (wait_ms as u64).div_ceil(1000),
                });
            }
            if count + 1 > i64::from(soft) {
                gate = Gate::NeedsProof;
            }
        }
        Ok(gate)
    }

    /// Counts one report against `keys`.
    pub fn add(&mut self, keys: &[String]) {
        for key in keys {
            let (start, count) = self.current(key);
            self.rows.insert(key.clone(), (start, count + 1, true));
        }
    }

    /// Writes the changed counters, in one statement.
    pub async fn write(self, conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
        let changed: Vec<[Arg; 3]> = self
            .rows
            .into_iter()
            .filter(|(_, (_, _, changed))| *changed)
            .map(|(key, (start, count, _))| [Arg::Text(key), Arg::Int(start), Arg::Int(count)])
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new("INSERT INTO intake_counters (key, window_start, count) VALUES ");
        sql.bind_rows(changed).push(
            " ON CONFLICT (key) DO UPDATE SET
               window_start = excluded.window_start, count = excluded.count",
        );
        sql.query().execute(conn).await?;
        Ok(())
    }
}

/// Issues a challenge to be spent within [`CHALLENGE_TTL_MS`]; expired ones
/// are cleared on the way.
pub async fn issue<'e, E>(executor: E, difficulty: u32) -> sqlx::Result<Challenge>
where
    E: sqlx::Executor<'e, Database = sqlx::Any> + Copy,
{
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    let now = crate::now_ms();
    let expires_at = now + CHALLENGE_TTL_MS;
    sqlx::query("DELETE FROM pow_challenges WHERE expires_at < $1")
        .bind(now - CHALLENGE_TTL_MS)
        .execute(executor)
        .await?;
    sqlx::query("INSERT INTO pow_challenges (id, difficulty, expires_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(i64::from(difficulty))
        .bind(expires_at)
        .execute(executor)
        .await?;
    Ok(Challenge {
        challenge: id,
        difficulty,
        expires_at: crate::ms_to_rfc3339(expires_at),
    })
}

/// Leading zero bits of a hash, counted over every byte (no early exit), so
/// that checking takes the same time whatever the stamp.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut zeros = 0u32;
    let mut still_zero = 1u32;
    for byte in hash {
        let lz = byte.leading_zeros();
        zeros += still_zero * lz;
        // Stays 1 only while every byte so far was all zeros.
        still_zero &= u32::from(*byte == 0);
    }
    zeros
}

/// The work a stamp shows: leading zero bits of SHA-256(`challenge:nonce`).
pub fn work(proof: &ProofOfWork) -> u32 {
    let mut h = Sha256::new();
    h.update(proof.challenge.as_bytes());
    h.update(b":");
    h.update(proof.nonce.as_bytes());
    leading_zero_bits(&h.finalize())
}

/// Checks a stamp and spends its challenge (inside the report's
/// transaction, so a failed report leaves it unspent). Every failure is a
/// 422 naming `proof`, saying how to get a good one.
pub async fn spend(conn: &mut sqlx::AnyConnection, proof: Option<&ProofOfWork>) -> Result<()> {
    let how =
        "get a challenge from GET /api/v1/sightings/challenge and send a nonce that solves it";
    let Some(proof) = proof else {
        return Err(Error::field(
            "proof",
            format!("is required: this address or device has sent many reports; {how}"),
        ));
    };
    if proof.nonce.chars().count() > 64 || proof.challenge.len() > 64 {
        return Err(Error::field(
            "proof",
            "nonce and challenge are at most 64 characters",
        ));
    }
    let now = crate::now_ms();
    let row =
        sqlx::query("SELECT difficulty, expires_at, spent_at FROM pow_challenges WHERE id = $1")
            .bind(&proof.challenge)
            .fetch_optional(&mut *conn)
            .await?;
    let difficulty: i64 = match &row {
        None => {
            return Err(Error::field(
                "proof",
                format!("is not a challenge this server issued; {how}"),
            ));
        }
        Some(row) if row.try_get::<Option<i64>, _>("spent_at")?.is_some() => {
            return Err(Error::field("proof", format!("was already used; {how}")));
        }
        Some(row) if row.try_get::<i64, _>("expires_at")? < now => {
            return Err(Error::field("proof", format!("has expired; {how}")));
        }
        Some(row) => row.try_get("difficulty")?,
    };
    if i64::from(work(proof)) < difficulty {
        return Err(Error::field(
            "proof",
            format!(
                "does not solve the challenge (SHA-256 of `challenge:nonce` needs {difficulty} leading zero bits)"
            ),
        ));
    }
    let spent =
        sqlx::query("UPDATE pow_challenges SET spent_at = $1 WHERE id = $2 AND spent_at IS NULL")
            .bind(now)
            .bind(&proof.challenge)
            .execute(&mut *conn)
            .await?;
    if spent.rows_affected() != 1 {
        return Err(Error::field("proof", format!("was already used; {how}")));
    }
    Ok(())
}

/// The recent places of a batch's devices, for [`Tracks::far_apart`]: read
/// once for the batch, then each report added as it is taken, so a report
/// is compared with the ones before it in the same batch too.
#[derive(Debug, Default)]
pub struct Tracks {
    /// device hash → (lat, lng, seen_at), newest first.
    by_device: std::collections::HashMap<String, Vec<(f64, f64, i64)>>,
}

impl Tracks {
    /// The reports of `devices` (hashes) stored in the last
    /// [`FAR_LOOKBACK_MS`], newest first.
    pub async fn read(
        conn: &mut sqlx::AnyConnection,
        devices: impl IntoIterator<Item = String>,
        now: i64,
    ) -> sqlx::Result<Tracks> {
        let devices = distinct(devices);
        let mut tracks = Tracks::default();
        if devices.is_empty() {
            return Ok(tracks);
        }
        let mut sql =
            Sql::new("SELECT device_hash, lat, lng, seen_at FROM sightings WHERE device_hash IN ");
        sql.bind_list(devices)
            .push(" AND created_at > ")
            .bind(Arg::Int(now - FAR_LOOKBACK_MS))
            .push(" ORDER BY created_at DESC");
        for row in sql.query().fetch_all(conn).await? {
            let device: String = row.try_get("device_hash")?;
            tracks.by_device.entry(device).or_default().push((
                row.try_get("lat")?,
                row.try_get("lng")?,
                row.try_get("seen_at")?,
            ));
        }
        Ok(tracks)
    }

    /// True when `device` reported, among its last 20 reports, from a place
    /// too far from this one for the time between them.
    pub fn far_apart(&self, device: &str, lat: f64, lng: f64, seen_at: i64) -> bool {
        let Some(track) = self.by_device.get(device) else {
            return false;
        };
        track.iter().take(20).any(|&(lat2, lng2, seen2)| {
            let km = haversine_km((lat, lng), (lat2, lng2));
            let hours = ((seen_at - seen2).abs() as f64 / 3.6e6).max(1.0 / 60.0);
            km > FAR_KM && km / hours > FAR_KMH
        })
    }

    /// Adds a report just taken, as the device's newest.
    pub fn add(&mut self, device: &str, lat: f64, lng: f64, seen_at: i64) {
        let track = self.by_device.entry(device.to_owned()).or_default();
        track.insert(0, (lat, lng, seen_at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_far_away_too_soon_is_flagged() {
        let mut tracks = Tracks::default();
        let hour = 3_600_000;
        // Tehran, then Tehran again 30 minutes later, 2 km away: fine.
        assert!(!tracks.far_apart("d", 35.70, 51.40, 0));
        tracks.add("d", 35.70, 51.40, 0);
        assert!(!tracks.far_apart("d", 35.71, 51.41, hour / 2));
        // Mashhad (about 740 km) an hour later: no car does that.
        assert!(tracks.far_apart("d", 36.30, 59.60, hour));
        // Ten hours later it is plausible; another device is not compared.
        assert!(!tracks.far_apart("d", 36.30, 59.60, 10 * hour));
        assert!(!tracks.far_apart("other", 36.30, 59.60, hour));
    }

    #[test]
    fn counters_open_ask_for_proof_then_refuse() {
        let mut counters = Counters {
            now: 10 * WINDOW_MS,
            ..Counters::default()
        };
        let keys = ["ip:a".to_owned()];
        for _ in 0..2 {
            assert_eq!(counters.check(&keys, 2, 3).unwrap(), Gate::Open);
            counters.add(&keys);
        }
        assert_eq!(counters.check(&keys, 2, 3).unwrap(), Gate::NeedsProof);
        counters.add(&keys);
        assert!(matches!(
            counters.check(&keys, 2, 3),
            Err(Error::TooManyRequests {
                retry_after_secs: 3600
            })
        ));
        // A window that ended starts again.
        counters
            .rows
            .insert("ip:a".into(), (8 * WINDOW_MS, 3, false));
        assert_eq!(counters.check(&keys, 2, 3).unwrap(), Gate::Open);
    }

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0xFF, 0]), 0);
        assert_eq!(leading_zero_bits(&[0x0F, 0]), 4);
        assert_eq!(leading_zero_bits(&[0, 0x40, 0]), 9);
        assert_eq!(leading_zero_bits(&[0, 0, 0x01]), 23);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }

    #[test]
    fn a_solved_stamp_shows_its_work() {
        let mut nonce = 0u64;
        let proof = loop {
            let p = ProofOfWork {
                challenge: "abc".into(),
                nonce: nonce.to_string(),
            };
            if work(&p) >= 8 {
                break p;
            }
            nonce += 1;
        };
        // Eight zero bits: the hex digest starts with "00".
        let digest = hex::encode(Sha256::digest(format!("abc:{}", proof.nonce)));
        assert!(digest.starts_with("00"), "{digest}");
    }
}
