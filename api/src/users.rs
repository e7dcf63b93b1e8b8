//! Users, roles and scopes (`/api/v1/users`).

use serde::{Deserialize, Serialize};

/// What a user may do. Citizens have no account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A social worker (مددکار اجتماعی) in the street.
    OutreachWorker,
    /// A team supervisor (سرپرست تیم).
    Supervisor,
    /// Provincial welfare staff.
    ProvincialStaff,
    /// National administrators: the only role without a province scope.
    NationalAdmin,
    /// An operator of the 123 social emergency line, in one province: records
    /// reports taken by phone and follows them in the triage queue.
    HotlineOperator,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::OutreachWorker,
        Role::Supervisor,
        Role::ProvincialStaff,
        Role::NationalAdmin,
        Role::HotlineOperator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::OutreachWorker => "outreach_worker",
            Role::Supervisor => "supervisor",
            Role::ProvincialStaff => "provincial_staff",
            Role::NationalAdmin => "national_admin",
            Role::HotlineOperator => "hotline_operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The Persian label shown in the UI.
    pub fn label_fa(self) -> &'static str {
        match self {
            Role::OutreachWorker => "مددکار اجتماعی",
            Role::Supervisor => "سرپرست تیم",
            Role::ProvincialStaff => "کارشناس استان",
            Role::NationalAdmin => "مدیر کشوری",
            Role::HotlineOperator => "اپراتور اورژانس اجتماعی ۱۲۳",
        }
    }
}

/// A user as the API shows it (never with a password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// ISO 3166-2 province code (`IR-00` … `IR-30`); absent for national admins.
    pub province: Option<String>,
    /// County code inside the province, when the user is limited to one county.
    pub county: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._-]{3,32}$"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 10))]
    pub password: String,
    pub display_name: Option<String>,
    pub role: Role,
    #[cfg_attr(feature = "openapi", schema(pattern = r"^IR-(0[0-9]|[12][0-9]|30)$"))]
    pub province: Option<String>,
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9_-]{1,16}$"))]
    pub county: Option<String>,
}

/// `PUT /api/v1/users/{id}/phone` and its answer: the phone an unread
/// critical notification escalates to by SMS. Kept apart from [`User`] so
/// that no list, export or log of users carries it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPhone {
    /// E.164 (`+989121234567`); an Iranian mobile as dialled at home
    /// (`09121234567`) is accepted and stored in E.164. `null` removes it.
    pub phone: Option<String>,
}

/// Never prints the number (it is personal data).
impl std::fmt::Debug for UserPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPhone")
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One page of a cursor-paginated list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
