//! Per-team scoping: a datasource may read only some accounts (`allowedAccounts`) and some
//! Security Lake sources (`allowedSources`). Every planned query and every user SQL goes through
//! here; Lake Formation's own grants stay the outer bound.

use crate::lake::Source;
use crate::plan::Plan;
use crate::query::AccountId;
use crate::settings::Settings;
use crate::sql::macros::Expanded;

fn account_list(accounts: &[AccountId]) -> String {
    accounts
        .iter()
        .map(AccountId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn source_list(sources: &[Source]) -> String {
    sources
        .iter()
        .map(|s| s.table_part())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `source` may be read.
fn check_source(settings: &Settings, source: Source) -> Result<(), String> {
    if settings.allowed_sources.is_empty() || settings.allowed_sources.contains(&source) {
        return Ok(());
    }
    Err(format!(
        "this datasource does not read {} (setting `allowedSources`: {}); use a datasource that may, or ask an admin",
        source.table_part(),
        source_list(&settings.allowed_sources)
    ))
}

/// Checks that `accounts` lie within `allowedAccounts`; an empty list becomes the allowed ones.
pub fn scoped_accounts(
    settings: &Settings,
    accounts: &[AccountId],
) -> Result<Vec<AccountId>, String> {
    let allowed = &settings.allowed_accounts;
    if allowed.is_empty() {
        return Ok(accounts.to_vec());
    }
    if accounts.is_empty() {
        return Ok(allowed.clone());
    }
    match accounts.iter().find(|a| !allowed.contains(a)) {
        None => Ok(accounts.to_vec()),
        Some(outside) => Err(format!(
            "account {} is outside this datasource's accounts (setting `allowedAccounts`: {}); pick one of those",
            outside.as_str(),
            account_list(allowed)
        )),
    }
}

/// A planned query within the datasource's scope: its source allowed, its accounts within the
/// allowed ones (all of them when it names none).
pub fn scope_plan(settings: &Settings, mut plan: Plan) -> Result<Plan, String> {
    check_source(settings, plan.table.source)?;
    plan.table.source.check_version(settings.source_version)?;
    plan.partitions.accounts = scoped_accounts(settings, &plan.partitions.accounts)?;
    Ok(plan)
}

/// A user's SQL within the datasource's scope: the lake tables it reads are of allowed sources,
/// and, with `allowedAccounts`, every SELECT reading a lake table restricts the account partition
/// to allowed accounts in its parsed WHERE clause (`$__partitionFilter` does).
pub fn check_sql(settings: &Settings, expanded: &Expanded) -> Result<(), String> {
    for table in &expanded.tables {
        check_source(settings, table.source)?;
    }
    let scoped = !settings.allowed_sources.is_empty() || !settings.allowed_accounts.is_empty();
    if scoped && !expanded.unsized_tables.is_empty() {
        return Err(format!(
            "the SQL reads {}, which this scoped datasource does not read (settings `allowedAccounts`/`allowedSources`); read its tables through $__table",
            expanded.unsized_tables.join(", ")
        ));
    }
    if settings.allowed_accounts.is_empty() || !expanded.reads_lake {
        return Ok(());
    }
    let allowed: Vec<&str> = settings
        .allowed_accounts
        .iter()
        .map(AccountId::as_str)
        .collect();
    let restricted = expanded.statements.as_ref().is_ok_and(|s| {
        crate::sql::pruning::restricts_to(s, "accountid", &allowed, &expanded.lake_names)
    });
    if restricted {
        Ok(())
    } else {
        Err(format!(
            "this datasource reads only the accounts {} (setting `allowedAccounts`), and the SQL does not restrict the account in every SELECT that reads the lake; add `AND $__partitionFilter` to its WHERE clause",
            account_list(&settings.allowed_accounts)
        ))
    }
}
