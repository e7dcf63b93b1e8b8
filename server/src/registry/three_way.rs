//! Three-way merge of offline edits: never a silent last-write-wins.
//!
//! A client edits its copy of version `base`; meanwhile others may have moved
//! the record to version `current`. For each field the client changed:
//! - unchanged by others since `base` → the client's value is applied;
//! - changed by others to the same value → nothing to do;
//! - changed by others to a different value → a conflict, reported with both
//!   values so the worker can choose.

use kudakyar_api::children::FieldConflict;
use serde_json::{Map, Value};

/// Fields an update may name: the facts, and the case status.
pub const UPDATABLE: &[&str] = &[
    "given_name",
    "family_name",
    "father_name",
    "aliases",
    "sex",
    "birth",
    "nationality",
    "languages",
    "national_code",
    "foreign_id",
    "work_types",
    "living_situation",
    "school_status",
    "risk_flags",
    "guardian",
    "consent",
    "home_province",
    "home_county",
    "assigned_worker",
    "status",
];

/// Applies `changes` made against `base` onto `current`; the merged document,
/// or every conflicting field.
pub fn merge(
    base: &Map<String, Value>,
    current: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldConflict>> {
    let mut merged = current.clone();
    let mut conflicts = Vec::new();
    for (field, yours) in changes {
        let before = base.get(field).unwrap_or(&Value::Null);
        let stored = current.get(field).unwrap_or(&Value::Null);
        if stored != before && stored != yours {
            conflicts.push(FieldConflict {
                field: field.clone(),
                stored: stored.clone(),
                yours: yours.clone(),
            });
        } else {
            merged.insert(field.clone(), yours.clone());
        }
    }
    if conflicts.is_empty() {
        Ok(merged)
    } else {
        Err(conflicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn different_fields_merge() {
        let base = map(json!({"given_name": "Ali", "school_status": null}));
        let current = map(json!({"given_name": "Ali", "school_status": "enrolled"}));
        let changes = map(json!({"given_name": "Aliyar"}));
        let merged = merge(&base, &current, &changes).unwrap();
        assert_eq!(merged["given_name"], "Aliyar");
        assert_eq!(
            merged["school_status"], "enrolled",
            "the other change is kept"
        );
    }

    #[test]
    fn same_field_changed_twice_conflicts_with_both_values() {
        let base = map(json!({"given_name": "Ali"}));
        let current = map(json!({"given_name": "Reza"}));
        let changes = map(json!({"given_name": "Aliyar"}));
        let conflicts = merge(&base, &current, &changes).unwrap_err();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].stored, "Reza");
        assert_eq!(conflicts[0].yours, "Aliyar");
    }

    #[test]
    fn the_same_change_twice_is_no_conflict() {
        let base = map(json!({"given_name": "Ali"}));
        let current = map(json!({"given_name": "Aliyar"}));
        let changes = map(json!({"given_name": "Aliyar"}));
        assert_eq!(merge(&base, &current, &changes).unwrap(), current);
    }
}
