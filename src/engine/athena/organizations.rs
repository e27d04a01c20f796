//! Account names from AWS Organizations (the `organizationAccountNames` setting): the
//! organisation's tree walked from its root — each account's name and the organizational unit
//! it sits in — so that dashboards name accounts without anyone typing them into `accountNames`.
//!
//! The walk is bounded ([`MAX_CALLS`] requests), runs once for all concurrent panels, and its
//! answer is kept an hour ([`KEEP`]; a failure [`KEEP_FAILURE`], so a role that may not list the
//! organisation is not asked on every panel). Names are a label: a failed walk never fails a
//! panel, the health check says why there are none.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_organizations::Client;
use tokio::sync::Mutex;

use crate::frame::account_names::{AccountName, AccountNames, MAX_NAMED_ACCOUNTS};

/// How long a walk's names are kept (accounts are renamed and moved rarely).
const KEEP: Duration = Duration::from_secs(3_600);
/// How long a failed walk is kept before the next panel asks again.
const KEEP_FAILURE: Duration = Duration::from_secs(300);
/// Most Organizations requests one walk makes, never exceeded (an organisation of thousands of
/// accounts in hundreds of OUs needs more: the walk then keeps what it found and says so).
pub const MAX_CALLS: usize = 200;

/// Why the organisation could not be listed, worded for the health check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationsError {
    /// The credentials may not list the organisation.
    #[error("AWS Organizations refused {action} ({code}): account names need the management account or a delegated administrator, and organizations:ListRoots, organizations:ListOrganizationalUnitsForParent and organizations:ListAccountsForParent; names from accountNames still apply")]
    Denied {
        /// The API action.
        action: &'static str,
        /// AWS's error code.
        code: String,
    },
    /// The account is in no organisation.
    #[error("the datasource's AWS account is not in an organization, so AWS Organizations names no accounts; name them with accountNames or turn organizationAccountNames off")]
    NotInUse,
    /// Any other failure (network, throttling past the SDK's retries).
    #[error("AWS Organizations {action} failed: {message}")]
    Failed {
        /// The API action.
        action: &'static str,
        /// The SDK's error.
        message: String,
    },
}

/// What a walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Each account's name and OU (none for accounts directly under the root).
    pub names: AccountNames,
    /// Whether the walk stopped at [`MAX_CALLS`] or [`MAX_NAMED_ACCOUNTS`] before the end.
    pub partial: bool,
    /// Organizations requests the walk made.
    pub calls: usize,
}

impl Organization {
    /// What the health check says about it.
    pub fn describe(&self) -> String {
        let ous: std::collections::BTreeSet<&str> = self
            .names
            .values()
            .filter_map(|n| n.ou.as_deref())
            .collect();
        let mut out = format!(
            "AWS Organizations names {} in {}",
            counted(self.names.len(), "account"),
            counted(ous.len(), "OU")
        );
        if self.partial {
            out.push_str(&format!(
                " (the walk stopped at its bound of {MAX_CALLS} requests: the rest keep their ids)"
            ));
        }
        out
    }
}

/// `1 account`, `2 accounts`.
fn counted(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The organisation's account names, walked at most once per [`KEEP`].
pub struct OrganizationNames {
    client: Client,
    kept: Mutex<Option<(Instant, Result<Organization, OrganizationsError>)>>,
}

impl OrganizationNames {
    /// Names from the organisation the SDK configuration's credentials see.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        OrganizationNames {
            client: Client::new(config),
            kept: Mutex::new(None),
        }
    }

    /// The organisation's names, walked now when `fresh` or when no recent walk's answer is
    /// kept. Concurrent callers wait for one walk.
    pub async fn get(&self, fresh: bool) -> Result<Organization, OrganizationsError> {
        let mut kept = self.kept.lock().await;
        if let (false, Some((at, answer))) = (fresh, kept.as_ref()) {
            let keep = if answer.is_ok() { KEEP } else { KEEP_FAILURE };
            if at.elapsed() < keep {
                return answer.clone();
            }
        }
        let answer = walk(&self.client).await;
        if let Err(e) = &answer {
            tracing::warn!(error = %e, "account names from AWS Organizations");
        }
        *kept = Some((Instant::now(), answer.clone()));
        answer
    }

    /// The names, or none when the organisation cannot be listed.
    pub async fn names(&self) -> AccountNames {
        self.get(false).await.map(|o| o.names).unwrap_or_default()
    }
}

/// A parent to list: the root or an OU, with the OU's name.
struct Parent {
    id: String,
    ou: Option<String>,
}

/// Walks the tree breadth first from the root: the accounts and the child OUs of each parent.
async fn walk(client: &Client) -> Result<Organization, OrganizationsError> {
    let mut org = Organization {
        names: AccountNames::new(),
        partial: false,
        calls: 0,
    };
    let mut parents: Vec<Parent> = roots(client, &mut org).await?;
    while let Some(parent) = parents.pop() {
        // A parent takes at least two requests (its accounts, its OUs).
        if org.calls + 2 > MAX_CALLS || org.names.len() >= MAX_NAMED_ACCOUNTS {
            org.partial = true;
            break;
        }
        accounts_under(client, &parent, &mut org).await?;
        parents.extend(ous_under(client, &parent, &mut org).await?);
    }
    Ok(org)
}

/// One page of a listing: its items and the token of the next page.
type Page<T> = (Vec<T>, Option<String>);

/// Every page of one listing, one request per page, leaving `reserve` requests of the bound for
/// what the walk still has to do; at the bound it stops early and marks the walk partial.
async fn pages<T, F, Fut>(
    org: &mut Organization,
    reserve: usize,
    mut fetch: F,
) -> Result<Vec<T>, OrganizationsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, OrganizationsError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        org.calls += 1;
        let (items, next) = fetch(token).await?;
        out.extend(items);
        token = next;
        if token.is_none() {
            return Ok(out);
        }
        if org.calls + 1 + reserve > MAX_CALLS {
            org.partial = true;
            return Ok(out);
        }
    }
}

async fn roots(client: &Client, org: &mut Organization) -> Result<Vec<Parent>, OrganizationsError> {
    pages(org, 0, |token| {
        let request = client.list_roots().set_next_token(token);
        async move {
            let page = request.send().await.map_err(|e| classify("ListRoots", e))?;
            let roots = page.roots().iter().filter_map(|r| {
                let id = r.id()?.to_string();
                Some(Parent { id, ou: None })
            });
            Ok((roots.collect(), page.next_token().map(str::to_string)))
        }
    })
    .await
}

/// The accounts directly under a parent, named with the parent's OU; one request is kept for
/// the parent's OUs.
async fn accounts_under(
    client: &Client,
    parent: &Parent,
    org: &mut Organization,
) -> Result<(), OrganizationsError> {
    let accounts = pages(org, 1, |token| {
        let request = client
            .list_accounts_for_parent()
            .parent_id(&parent.id)
            .set_next_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| classify("ListAccountsForParent", e))?;
            let named = page.accounts().iter().filter_map(|a| {
                let name = AccountName {
                    name: a.name()?.to_string(),
                    ou: parent.ou.clone(),
                };
                Some((a.id()?.to_string(), name))
            });
            Ok((named.collect(), page.next_token().map(str::to_string)))
        }
    })
    .await?;
    org.names.extend(accounts);
    Ok(())
}

/// The OUs directly under a parent.
async fn ous_under(
    client: &Client,
    parent: &Parent,
    org: &mut Organization,
) -> Result<Vec<Parent>, OrganizationsError> {
    pages(org, 0, |token| {
        let request = client
            .list_organizational_units_for_parent()
            .parent_id(&parent.id)
            .set_next_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| classify("ListOrganizationalUnitsForParent", e))?;
            let ous = page.organizational_units().iter().filter_map(|ou| {
                Some(Parent {
                    id: ou.id()?.to_string(),
                    ou: Some(ou.name()?.to_string()),
                })
            });
            Ok((ous.collect(), page.next_token().map(str::to_string)))
        }
    })
    .await
}

/// An SDK error as what the user can do about it, by AWS's error code.
fn classify<E>(action: &'static str, e: E) -> OrganizationsError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    match e.code() {
        Some("AWSOrganizationsNotInUseException") => OrganizationsError::NotInUse,
        Some(code @ ("AccessDeniedException" | "AccessDenied")) => OrganizationsError::Denied {
            action,
            code: code.to_string(),
        },
        _ => OrganizationsError::Failed {
            action,
            message: DisplayErrorContext(&e).to_string(),
        },
    }
}
