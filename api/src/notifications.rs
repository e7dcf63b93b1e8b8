//! The in-app inbox: what a user has been told (a new report in their county,
//! something assigned to them), newest first, read or not. A notification
//! names its kind and the subject the app opens, never a child's name or a
//! place: the inbox may be shown on a shared or lost phone.

use serde::{Deserialize, Serialize};

/// One notification in the caller's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// Grows with every notification; also the SSE event id to resume after.
    pub id: i64,
    /// What happened: `sighting_received`, `sighting_assigned`, …
    pub kind: String,
    /// Critical notifications cannot be muted.
    pub critical: bool,
    /// What the app opens, e.g. `sighting` …
    pub subject_type: String,
    /// … and which one.
    pub subject_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent while unread.
    pub read_at: Option<String>,
}

/// How many of the caller's notifications are unread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub unread: i64,
}

/// The answer to "mark all read": how many were unread until now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedRead {
    pub marked: i64,
}

/// A delivery the outbox gave up on (too many failed attempts, or a target
/// that no longer exists), waiting for an administrator's retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadDelivery {
    pub id: i64,
    pub notification_id: i64,
    /// Whom it was for.
    pub user_id: String,
    /// The notification's kind.
    pub kind: String,
    /// `web_push` or `sms`.
    pub channel: String,
    /// Attempts made (a claim whose sender died counts as one).
    pub attempts: i64,
    /// What the last attempt ended with.
    pub last_error: Option<String>,
    /// RFC 3339: when it was queued.
    pub created_at: String,
}

/// A browser's Web Push subscription, as `PushSubscription.toJSON()` gives
/// it (`expirationTime` is accepted and ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushSubscriptionInput {
    /// The push service's URL for this browser (https).
    pub endpoint: String,
    pub keys: PushKeys,
    #[serde(default, rename = "expirationTime", skip_serializing)]
    pub expiration_time: Option<serde_json::Value>,
}

/// The browser's keys, base64url (padding optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    /// Its P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// Its authentication secret (16 bytes).
    pub auth: String,
}

/// Which subscription to remove: its endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushUnsubscribe {
    pub endpoint: String,
}

/// A stored subscription of the caller's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    pub id: String,
    pub endpoint: String,
    /// RFC 3339.
    pub created_at: String,
}

/// An Android app's FCM registration token, as the Firebase SDK gives it
/// (`FirebaseMessaging.getToken()`): to register it, or to remove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FcmTokenInput {
    /// 32 to 1024 letters, digits, `-`, `_` or `:`.
    pub token: String,
}

/// A registered FCM token of the caller's (the token itself is not echoed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FcmToken {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
}

/// The server's VAPID public key (base64url, 65 bytes uncompressed P-256):
/// the `applicationServerKey` a browser subscribes with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VapidKey {
    pub public_key: String,
}

/// What a push message carries: never a name or a photo, and no place
/// unless the deployer opted in (`push_places`) — the app opens the subject
/// by its id after the user has logged in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushPayload {
    pub notification_id: i64,
    pub kind: String,
    pub critical: bool,
    pub subject_type: String,
    pub subject_id: String,
    /// A daily digest (`kind` is then `digest`): how many unread
    /// notifications it stands for; the subject is the newest of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_count: Option<i64>,
    /// The subject's county (or, without one, province) code, only where
    /// the deployer opted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

/// The kinds of notification the server's rules make, and whether each is
/// critical (never muted, pushed even in quiet hours). Shared so that the
/// app lists what the server accepts in `muted_kinds`.
pub const KINDS: [(&str, bool); 9] = [
    ("sighting_received", false),
    ("sighting_assigned", false),
    ("follow_up_due", false),
    ("follow_up_overdue", false),
    ("child_not_seen", false),
    ("iris_review_opened", false),
    ("referral_decided", false),
    ("centre_nearly_full", false),
    ("child_at_risk", true),
];

/// A user's choices about pushes (the inbox always gets everything).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotificationPreferences {
    /// Kinds not to push (`sighting_received`, …); critical kinds cannot be muted.
    #[serde(default)]
    pub muted_kinds: Vec<String>,
    /// A daily quiet window in Asia/Tehran time; non-critical pushes wait
    /// for its end. Absent: none.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Friday (the weekend) quiet all day.
    #[serde(default)]
    pub quiet_friday: bool,
    /// One push a day (at the server's `notify_digest_at`) for all
    /// non-critical notifications instead of one each; critical ones still
    /// go at once. For supervisors and the roles above them.
    #[serde(default)]
    pub digest: bool,
}

/// From `start` to `end`, `HH:MM` in Asia/Tehran time; `22:00`–`07:00`
/// runs past midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}
