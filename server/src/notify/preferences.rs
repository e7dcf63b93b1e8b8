//! Each user's choices about pushes: muted kinds and quiet times. The inbox
//! always gets everything (it is the ground truth); these shape only what
//! reaches a phone, and when.
//!
//! - Muted kinds: [`super::fan_out`] queues no push of a kind the recipient
//!   muted. Critical kinds cannot be muted ([`validate`] refuses them).
//! - A daily digest (supervisors and above): no push per non-critical
//!   notification ([`push_now`] says so to `fan_out`); the scheduler's
//!   [`super::schedule::digests`] pushes one for all of them instead.
//! - Quiet times, in Asia/Tehran time: a daily window (`22:00`–`07:00`
//!   wraps past midnight) and, optionally, all of Friday, the weekend. The
//!   worker defers a non-critical push claimed inside one to its end
//!   ([`quiet_until`], pure and unit-tested); critical ones go at once.
//!
//! Iran has kept standard time all year since 2022, so Tehran is UTC+03:30
//! without a time-zone database.

use kudakyar_api::notifications::{NotificationPreferences, QuietHours};
use sqlx::Row;

use crate::error::{Result, Validator};

use crate::registry::codes::IRAN_OFFSET_MS as TEHRAN_OFFSET_MS;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// The kinds of notification the rules make, and whether each is critical
/// (in the API crate: the app lists them too).
pub use kudakyar_api::notifications::KINDS;

/// Quiet times as stored: minutes after local midnight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quiet {
    pub window: Option<(i64, i64)>,
    pub friday: bool,
}

/// Local day number (days since 1970-01-01 in Tehran) and minute of day.
fn local(utc_ms: i64) -> (i64, i64) {
    let local = utc_ms + TEHRAN_OFFSET_MS;
    (
        local.div_euclid(DAY_MS),
        local.rem_euclid(DAY_MS) / MINUTE_MS,
    )
}

/// The Tehran day number of `utc_ms` (days since 1970-01-01 there).
pub fn tehran_day(utc_ms: i64) -> i64 {
    local(utc_ms).0
}

/// Minutes after Tehran midnight at `utc_ms`.
pub fn tehran_minute(utc_ms: i64) -> i64 {
    local(utc_ms).1
}

/// The UTC instant of `minute` on local day `day`.
fn utc_of(day: i64, minute: i64) -> i64 {
    day * DAY_MS + minute * MINUTE_MS - TEHRAN_OFFSET_MS
}

/// 1970-01-01 was a Thursday: Friday is day 1 modulo 7.
fn is_friday(day: i64) -> bool {
    day.rem_euclid(7) == 1
}

/// The end of the quiet time `at` falls in, if any (one window only).
fn window_end(at: i64, quiet: &Quiet) -> Option<i64> {
    let (day, minute) = local(at);
    if quiet.friday && is_friday(day) {
        return Some(utc_of(day + 1, 0));
    }
    let (start, end) = quiet.window?;
    if start < end {
        (start..end).contains(&minute).then(|| utc_of(day, end))
    } else if start > end {
        // Wraps past midnight: the evening part ends tomorrow.
        if minute >= start {
            Some(utc_of(day + 1, end))
        } else if minute < end {
            Some(utc_of(day, end))
        } else {
            None
        }
    } else {
        None
    }
}

/// When a non-critical push due at `at` may go: none if now, else the end
/// of the quiet time — followed through adjoining ones (a Friday ending at
/// midnight inside Saturday's early-morning window waits for both).
pub fn quiet_until(at: i64, quiet: &Quiet) -> Option<i64> {
    let mut t = at;
    // A window and a Friday can adjoin at most twice.
    for _ in 0..3 {
        match window_end(t, quiet) {
            Some(end) => t = end,
            None => break,
        }
    }
    (t != at).then_some(t)
}

/// `"HH:MM"` → minutes after midnight.
pub fn minutes(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Checks preferences against `kinds` (the rules' [`KINDS`]); every bad
/// field named; a digest only when `may_digest` (the caller's role).
/// Returns the muted kinds, sorted, and the quiet times.
pub fn validate(
    p: &NotificationPreferences,
    kinds: &[(&str, bool)],
    may_digest: bool,
) -> Result<(Vec<String>, Quiet)> {
    let mut v = Validator::new();
    v.check(
        !p.digest || may_digest,
        "digest",
        "a daily digest is for supervisors and the roles above them",
    );
    let mut muted: Vec<String> = Vec::new();
    for kind in &p.muted_kinds {
        match kinds.iter().find(|(k, _)| k == kind) {
            None => v.add(
                "muted_kinds",
                &format!("{kind:?} is not a kind of notification"),
            ),
            Some((_, true)) => v.add(
                "muted_kinds",
                &format!("{kind:?} is critical and cannot be muted"),
            ),
            Some((k, false)) => muted.push(k.to_string()),
        }
    }
    muted.sort();
    muted.dedup();
    let window = p.quiet_hours.as_ref().and_then(|q| {
        let start = minutes(&q.start);
        let end = minutes(&q.end);
        v.check(start.is_some(), "quiet_hours.start", "must be a time HH:MM");
        v.check(end.is_some(), "quiet_hours.end", "must be a time HH:MM");
        let (start, end) = (start?, end?);
        v.check(
            start != end,
            "quiet_hours.end",
            "must differ from the start (an empty window is no quiet hours)",
        );
        Some((start, end))
    });
    v.finish()?;
    Ok((
        muted,
        Quiet {
            window,
            friday: p.quiet_friday,
        },
    ))
}

/// `user_id`'s preferences (the defaults when none were saved).
pub async fn get(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<NotificationPreferences> {
    let row = sqlx::query(
        "SELECT muted_kinds, quiet_start, quiet_end, quiet_friday, digest
         FROM notification_preferences WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(NotificationPreferences::default());
    };
    let muted: String = row.try_get("muted_kinds")?;
    let start: Option<i64> = row.try_get("quiet_start")?;
    let end: Option<i64> = row.try_get("quiet_end")?;
    Ok(NotificationPreferences {
        muted_kinds: split(&muted),
        quiet_hours: start.zip(end).map(|(s, e)| QuietHours {
            start: hhmm(s),
            end: hhmm(e),
        }),
        quiet_friday: row.try_get::<i64, _>("quiet_friday")? != 0,
        digest: row.try_get::<i64, _>("digest")? != 0,
    })
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Saves `user_id`'s preferences (replacing any); a repeat is a no-op.
pub async fn put(
    pool: &sqlx::AnyPool,
    user_id: &str,
    muted: &[String],
    quiet: &Quiet,
    digest: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notification_preferences
             (user_id, muted_kinds, quiet_start, quiet_end, quiet_friday, updated_at, digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (user_id) DO UPDATE SET
             muted_kinds = excluded.muted_kinds, quiet_start = excluded.quiet_start,
             quiet_end = excluded.quiet_end, quiet_friday = excluded.quiet_friday,
             updated_at = excluded.updated_at, digest = excluded.digest",
    )
    .bind(user_id)
    .bind(muted.join(","))
    .bind(quiet.window.map(|w| w.0))
    .bind(quiet.window.map(|w| w.1))
    .bind(i64::from(quiet.friday))
    .bind(crate::now_ms())
    .bind(i64::from(digest))
    .execute(pool)
    .await?;
    Ok(())
}

/// Does a non-critical notification of `kind` get a push of its own now?
/// Not when `user_id` muted the kind, nor when they take a daily digest.
/// Read on the fan-out's transaction.
pub async fn push_now(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    kind: &str,
) -> sqlx::Result<bool> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT muted_kinds, digest FROM notification_preferences WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_none_or(|(muted, digest)| digest == 0 && !muted.split(',').any(|k| k == kind)))
}

/// `user_id`'s quiet times, for the worker.
pub async fn quiet(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<Quiet> {
    let row: Option<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
        "SELECT quiet_start, quiet_end, quiet_friday FROM notification_preferences
         WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or(Quiet::default(), |(start, end, friday)| Quiet {
        window: start.zip(end),
        friday: friday != 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// A Tehran wall-clock time as UTC milliseconds.
    fn tehran(t: time::OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    const NIGHT: Quiet = Quiet {
        window: Some((22 * 60, 7 * 60)),
        friday: false,
    };

    #[test]
    fn the_local_day_and_friday_are_tehrans() {
        // 2026-12-11 is a Friday; 00:10 in Tehran is still Thursday in UTC.
        let friday_early = tehran(datetime!(2026-12-11 00:10 +03:30));
        assert!(is_friday(local(friday_early).0));
        assert_eq!(local(friday_early).1, 10);
        assert!(!is_friday(
            local(tehran(datetime!(2026-12-10 23:59 +03:30))).0
        ));
        assert!(!is_friday(
            local(tehran(datetime!(2026-12-12 00:00 +03:30))).0
        ));
    }

    #[test]
    fn a_window_past_midnight_ends_next_morning_and_not_outside_it() {
        let seven_next_day = tehran(datetime!(2026-12-08 07:00 +03:30));
        for inside in [
            datetime!(2026-12-07 22:00 +03:30),
            datetime!(2026-12-07 23:59 +03:30),
            datetime!(2026-12-08 00:00 +03:30),
            datetime!(2026-12-08 06:59 +03:30),
        ] {
            assert_eq!(
                quiet_until(tehran(inside), &NIGHT),
                Some(seven_next_day),
                "{inside}"
            );
        }
        for outside in [
            datetime!(2026-12-08 07:00 +03:30),
            datetime!(2026-12-08 12:00 +03:30),
            datetime!(2026-12-07 21:59 +03:30),
        ] {
            assert_eq!(quiet_until(tehran(outside), &NIGHT), None, "{outside}");
        }
        assert_eq!(
            quiet_until(
                tehran(datetime!(2026-12-08 12:00 +03:30)),
                &Quiet::default()
            ),
            None
        );
    }

    #[test]
    fn a_daytime_window_ends_the_same_day() {
        let siesta = Quiet {
            window: Some((13 * 60, 16 * 60 + 30)),
            friday: false,
        };
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-08 14:00 +03:30)), &siesta),
            Some(tehran(datetime!(2026-12-08 16:30 +03:30)))
        );
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-08 16:30 +03:30)), &siesta),
            None
        );
    }

    #[test]
    fn friday_waits_for_saturday_and_its_early_morning_window() {
        let weekend = Quiet {
            friday: true,
            ..NIGHT
        };
        // Friday noon: Saturday 00:00 is inside the night window, so 07:00.
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-11 12:00 +03:30)), &weekend),
            Some(tehran(datetime!(2026-12-12 07:00 +03:30)))
        );
        // Thursday night runs into Friday, then into Saturday morning.
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-10 23:00 +03:30)), &weekend),
            Some(tehran(datetime!(2026-12-12 07:00 +03:30)))
        );
        // Friday alone: Saturday midnight.
        let fridays = Quiet {
            window: None,
            friday: true,
        };
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-11 09:00 +03:30)), &fridays),
            Some(tehran(datetime!(2026-12-12 00:00 +03:30)))
        );
        assert_eq!(
            quiet_until(tehran(datetime!(2026-12-12 09:00 +03:30)), &fridays),
            None
        );
    }

    fn prefs(muted: &[&str], quiet: Option<(&str, &str)>) -> NotificationPreferences {
        NotificationPreferences {
            muted_kinds: muted.iter().map(|k| k.to_string()).collect(),
            quiet_hours: quiet.map(|(s, e)| QuietHours {
                start: s.into(),
                end: e.into(),
            }),
            quiet_friday: false,
            digest: false,
        }
    }

    fn fields(e: crate::error::Error) -> Vec<String> {
        match e {
            crate::error::Error::Validation(f) => f.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn critical_and_unknown_kinds_cannot_be_muted_and_times_are_hh_mm() {
        let kinds = [("routine", false), ("child_at_risk", true)];
        let (muted, quiet) = validate(
            &prefs(&["routine", "routine"], Some(("22:00", "07:30"))),
            &kinds,
            false,
        )
        .unwrap();
        assert_eq!(muted, ["routine"]);
        assert_eq!(quiet.window, Some((22 * 60, 7 * 60 + 30)));
        assert_eq!(
            fields(validate(&prefs(&["child_at_risk"], None), &kinds, false).unwrap_err()),
            ["muted_kinds"]
        );
        assert_eq!(
            fields(validate(&prefs(&["no_such"], None), &kinds, false).unwrap_err()),
            ["muted_kinds"]
        );
        assert_eq!(
            fields(validate(&prefs(&[], Some(("24:00", "7:00"))), &kinds, false).unwrap_err()),
            ["quiet_hours.end", "quiet_hours.start"]
        );
        assert_eq!(
            fields(validate(&prefs(&[], Some(("08:00", "08:00"))), &kinds, false).unwrap_err()),
            ["quiet_hours.end"]
        );
        assert_eq!(hhmm(7 * 60 + 5), "07:05");
        let digest = NotificationPreferences {
            digest: true,
            ..prefs(&[], None)
        };
        assert_eq!(
            fields(validate(&digest, &kinds, false).unwrap_err()),
            ["digest"]
        );
        assert!(validate(&digest, &kinds, true).is_ok());
    }
}
