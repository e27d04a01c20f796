//! Names for AWS accounts: teams think in account names and OUs, the lake holds 12-digit ids.
//! The datasource setting `accountNames` maps ids to a name (and optionally an OU); every frame
//! keeps the ids and gains the names beside them: an `account_name` (and `account_ou`) label on
//! each series labelled with an account, an `account_name` (and `account_ou`) column after each
//! `account` column of a table.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray};

use super::{Field, Frame};

/// Most accounts `accountNames` may name (an organisation's worth, and a bound on the setting).
pub const MAX_NAMED_ACCOUNTS: usize = 10_000;

/// An account's display name and organisational unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName {
    /// Display name, e.g. `prod-payments`.
    pub name: String,
    /// Organisational unit, e.g. `Workloads/Prod`; None when not given.
    pub ou: Option<String>,
}

/// Account id → name, from the datasource settings.
pub type AccountNames = BTreeMap<String, AccountName>;

/// Adds the names beside the account ids of every frame; frames without accounts, and accounts
/// without a name, are left as they are.
pub fn name_accounts(frames: &mut [Frame], names: &AccountNames) {
    if names.is_empty() {
        return;
    }
    let with_ou = names.values().any(|n| n.ou.is_some());
    for frame in frames {
        for field in &mut frame.fields {
            label_series(field, names);
        }
        let columns: Vec<usize> = frame
            .fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name == "account" && f.labels.is_empty())
            .map(|(i, _)| i)
            .collect();
        for i in columns.into_iter().rev() {
            let added = name_columns(&frame.fields[i].values, names, with_ou);
            for (offset, field) in added.into_iter().enumerate() {
                frame.fields.insert(i + 1 + offset, field);
            }
        }
    }
}

fn label_series(field: &mut Field, names: &AccountNames) {
    let Some(named) = field.labels.get("account").and_then(|id| names.get(id)) else {
        return;
    };
    let named = named.clone();
    field.labels.insert("account_name".into(), named.name);
    if let Some(ou) = named.ou {
        field.labels.insert("account_ou".into(), ou);
    }
}

/// The `account_name` (and `account_ou`) columns for an `account` column; none when it is not
/// text.
fn name_columns(ids: &ArrayRef, names: &AccountNames, with_ou: bool) -> Vec<Field> {
    let Some(ids) = ids.as_any().downcast_ref::<StringArray>() else {
        return Vec::new();
    };
    let of = |pick: &dyn Fn(&AccountName) -> Option<&str>| -> ArrayRef {
        Arc::new(
            (0..ids.len())
                .map(|i| {
                    (!ids.is_null(i))
                        .then(|| names.get(ids.value(i)))
                        .flatten()
                        .and_then(pick)
                })
                .collect::<StringArray>(),
        )
    };
    let mut out = vec![Field::new("account_name", of(&|n| Some(n.name.as_str())))];
    if with_ou {
        out.push(Field::new("account_ou", of(&|n| n.ou.as_deref())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> AccountNames {
        AccountNames::from([
            (
                "111122223333".to_string(),
                AccountName {
                    name: "prod-payments".into(),
                    ou: Some("Workloads/Prod".into()),
                },
            ),
            (
                "444455556666".to_string(),
                AccountName {
                    name: "sandbox".into(),
                    ou: None,
                },
            ),
        ])
    }

    #[test]
    fn tables_gain_name_columns_and_series_name_labels_ids_stay() {
        let ids: ArrayRef = Arc::new(StringArray::from(vec![
            Some("111122223333"),
            Some("999988887777"),
            None,
            Some("444455556666"),
        ]));
        let mut series = Field::new("bytes", Arc::new(StringArray::from(vec!["1"])));
        series
            .labels
            .insert("account".into(), "111122223333".into());
        let mut frames = vec![
            Frame::new("t", vec![Field::new("account", ids.clone())]),
            Frame::new("s", vec![series]),
        ];
        name_accounts(&mut frames, &names());
        let table = &frames[0];
        let names_of = |i: usize| {
            let a = table.fields[i]
                .values
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            (0..a.len())
                .map(|r| (!a.is_null(r)).then(|| a.value(r).to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            table
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["account", "account_name", "account_ou"]
        );
        assert_eq!(
            names_of(1),
            [
                Some("prod-payments".into()),
                None,
                None,
                Some("sandbox".into())
            ]
        );
        assert_eq!(
            names_of(2),
            [Some("Workloads/Prod".into()), None, None, None]
        );
        let labels = &frames[1].fields[0].labels;
        assert_eq!(labels["account"], "111122223333");
        assert_eq!(labels["account_name"], "prod-payments");
        assert_eq!(labels["account_ou"], "Workloads/Prod");
    }
}
