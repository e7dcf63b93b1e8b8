//! Rows as CSV or JSON lines.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Format, Kind};
use crate::db::vocab::enum_str;
use crate::registry::store;

/// The byte-order mark that makes Excel read CSV as UTF-8.
const BOM: &str = "\u{FEFF}";

const CHILD_COLUMNS: &[&str] = &[
    "id",
    "registry_code",
    "status",
    "version",
    "given_name",
    "family_name",
    "father_name",
    "aliases",
    "sex",
    "birth_precision",
    "birth_date",
    "birth_year",
    "estimated_age",
    "nationality",
    "languages",
    "national_code",
    "foreign_id",
    "work_types",
    "living_situation",
    "school_status",
    "risk_flags",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "home_province",
    "home_county",
    "assigned_worker",
    "created_at",
    "updated_at",
    "last_seen_at",
];

const ENCOUNTER_COLUMNS: &[&str] = &[
    "id",
    "child_id",
    "registry_code",
    "worker_id",
    "at",
    "lat",
    "lng",
    "accuracy_m",
    "activity",
    "accompanied_by_adult",
    "services",
    "notes",
    "next_follow_up",
    "created_at",
];

pub fn header(kind: Kind, format: Format) -> String {
    match format {
        Format::Jsonl => String::new(),
        Format::Csv => {
            let columns = match kind {
                Kind::Children => CHILD_COLUMNS,
                Kind::Encounters => ENCOUNTER_COLUMNS,
            };
            format!("{BOM}{}\r\n", columns.join(","))
        }
    }
}

/// Quotes a CSV field when it needs it (RFC 4180). A leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_line(fields: Vec<String>) -> String {
    let mut line: String = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn list<T: Serialize>(items: &[T]) -> String {
    items.iter().map(enum_str).collect::<Vec<_>>().join(";")
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

pub fn line(kind: Kind, format: Format, row: &AnyRow) -> Result<String, String> {
    match kind {
        Kind::Children => {
            let c = store::child_from_row(row).map_err(|e| e.to_string())?;
            match format {
                Format::Jsonl => json_line(&c),
                Format::Csv => {
                    let f = &c.facts;
                    let birth = f.birth.as_ref();
                    let guardian = f.guardian.as_ref();
                    Ok(csv_line(vec![
                        c.id.clone(),
                        c.registry_code.clone(),
                        enum_str(&c.status),
                        c.version.to_string(),
                        opt(&f.given_name),
                        opt(&f.family_name),
                        opt(&f.father_name),
                        f.aliases.join(";"),
                        enum_str(&f.sex),
                        birth.map(|b| enum_str(&b.precision)).unwrap_or_default(),
                        birth.and_then(|b| b.date.clone()).unwrap_or_default(),
                        opt(&birth.and_then(|b| b.year)),
                        opt(&birth.and_then(|b| b.estimated_age)),
                        enum_str(&f.nationality),
                        list(&f.languages),
                        opt(&f.national_code),
                        opt(&f.foreign_id),
                        list(&f.work_types),
                        f.living_situation
                            .as_ref()
                            .map(enum_str)
                            .unwrap_or_default(),
                        f.school_status.as_ref().map(enum_str).unwrap_or_default(),
                        list(&f.risk_flags),
                        guardian.and_then(|g| g.name.clone()).unwrap_or_default(),
                        guardian
                            .and_then(|g| g.relation.clone())
                            .unwrap_or_default(),
                        guardian.and_then(|g| g.phone.clone()).unwrap_or_default(),
                        f.home_province.clone(),
                        opt(&f.home_county),
                        opt(&f.assigned_worker),
                        c.created_at.clone(),
                        c.updated_at.clone(),
                        opt(&c.last_seen_at),
                    ]))
                }
            }
        }
        Kind::Encounters => {
            let e =
                crate::registry::encounters::encounter_from_row(row).map_err(|e| e.to_string())?;
            let code: String = row.try_get("registry_code").map_err(|e| e.to_string())?;
            match format {
                Format::Jsonl => {
                    let mut v = serde_json::to_value(&e).map_err(|e| e.to_string())?;
                    v["registry_code"] = serde_json::Value::String(code);
                    json_line(&v)
                }
                Format::Csv => {
                    let d = &e.details;
                    Ok(csv_line(vec![
                        e.id.clone(),
                        e.child_id.clone(),
                        code,
                        e.worker_id.clone(),
                        d.at.clone(),
                        d.lat.to_string(),
                        d.lng.to_string(),
                        opt(&d.accuracy_m),
                        d.activity.as_ref().map(enum_str).unwrap_or_default(),
                        opt(&d.accompanied_by_adult),
                        list(&d.services),
                        opt(&d.notes),
                        opt(&d.next_follow_up),
                        e.created_at.clone(),
                    ]))
                }
            }
        }
    }
}

fn json_line<T: Serialize>(value: &T) -> Result<String, String> {
    let mut s = serde_json::to_string(value).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quoting_and_formula_guard() {
        assert_eq!(csv_field("علی"), "علی");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-12.5"), "-12.5");
    }
}
