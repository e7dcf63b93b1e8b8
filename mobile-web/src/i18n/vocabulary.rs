//! Labels of the API's enumerations in the active language, plus the lists
//! the forms offer (every variant, in the order a worker expects).

use kudakyar_api::cases::ReferralState;
use kudakyar_api::children::{Nationality, Service, Sex, Status, WorkType};
use kudakyar_api::users::Role;

use super::{Lang, lang, t};

pub fn sex(v: Sex) -> &'static str {
    let s = t();
    match v {
        Sex::Male => s.sex_male,
        Sex::Female => s.sex_female,
        Sex::Unknown => s.sex_unknown,
    }
}

pub fn nationality(v: Nationality) -> &'static str {
    let s = t();
    match v {
        Nationality::Iranian => s.nat_iranian,
        Nationality::Afghan => s.nat_afghan,
        Nationality::Pakistani => s.nat_pakistani,
        Nationality::Iraqi => s.nat_iraqi,
        Nationality::Other => s.nat_other,
        Nationality::Stateless => s.nat_stateless,
        Nationality::Unknown => s.nat_unknown,
    }
}

pub const NATIONALITIES: [Nationality; 7] = [
    Nationality::Iranian,
    Nationality::Afghan,
    Nationality::Pakistani,
    Nationality::Iraqi,
    Nationality::Other,
    Nationality::Stateless,
    Nationality::Unknown,
];

pub const STATUSES: [Status; 6] = [
    Status::Active,
    Status::Referred,
    Status::InService,
    Status::Reunified,
    Status::Closed,
    Status::MovedAway,
];

pub fn status(v: Status) -> &'static str {
    let s = t();
    match v {
        Status::Active => s.status_active,
        Status::Referred => s.status_referred,
        Status::InService => s.status_in_service,
        Status::Reunified => s.status_reunified,
        Status::Closed => s.status_closed,
        Status::MovedAway => s.status_moved_away,
    }
}

pub const SERVICES: [Service; 7] = [
    Service::Food,
    Service::Clothing,
    Service::MedicalReferral,
    Service::SchoolReferral,
    Service::Counselling,
    Service::LegalAid,
    Service::Other,
];

pub fn service(v: Service) -> &'static str {
    let s = t();
    match v {
        Service::Food => s.svc_food,
        Service::Clothing => s.svc_clothing,
        Service::MedicalReferral => s.svc_medical_referral,
        Service::SchoolReferral => s.svc_school_referral,
        Service::Counselling => s.svc_counselling,
        Service::LegalAid => s.svc_legal_aid,
        Service::Other => s.svc_other,
    }
}

pub const WORK_TYPES: [WorkType; 9] = [
    WorkType::StreetVending,
    WorkType::Begging,
    WorkType::WastePicking,
    WorkType::CarWindowWashing,
    WorkType::SellingFlowersOrPoems,
    WorkType::Porter,
    WorkType::StreetMusic,
    WorkType::ShoeShining,
    WorkType::Other,
];

pub fn work_type(v: WorkType) -> &'static str {
    let s = t();
    match v {
        WorkType::StreetVending => s.work_street_vending,
        WorkType::Begging => s.work_begging,
        WorkType::WastePicking => s.work_waste_picking,
        WorkType::CarWindowWashing => s.work_car_window_washing,
        WorkType::SellingFlowersOrPoems => s.work_selling_flowers_or_poems,
        WorkType::Porter => s.work_porter,
        WorkType::StreetMusic => s.work_street_music,
        WorkType::ShoeShining => s.work_shoe_shining,
        WorkType::Other => s.work_other,
    }
}

pub fn referral_state(v: ReferralState) -> &'static str {
    let s = t();
    match v {
        ReferralState::Sent => s.ref_sent,
        ReferralState::Accepted => s.ref_accepted,
        ReferralState::Rejected => s.ref_rejected,
        ReferralState::Completed => s.ref_completed,
    }
}

pub fn role(v: Role) -> &'static str {
    match lang() {
        Lang::Fa => v.label_fa(),
        Lang::En => match v {
            Role::OutreachWorker => "Outreach worker",
            Role::Supervisor => "Team supervisor",
            Role::ProvincialStaff => "Provincial staff",
            Role::NationalAdmin => "National administrator",
            Role::HotlineOperator => "123 hotline operator",
        },
    }
}

/// The API's snake_case word for a vocabulary value (what a `<select>`
/// carries); the enums serialise to exactly that.
pub fn word<T: serde::Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The value of a vocabulary word, e.g. from a `<select>`.
pub fn parse<T: serde::de::DeserializeOwned>(word: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(word.to_owned())).ok()
}
