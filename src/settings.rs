//! Datasource settings: Grafana's `jsonData` / `secureJsonData` → typed [`Settings`].

use std::path::PathBuf;

use serde_json::Value;

use crate::lake::listing::DEFAULT_LISTING_CACHE_ENTRIES;
use crate::lake::SourceVersion;
use crate::query::Region;

/// Which engine runs the SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineChoice {
    /// The embedded local lake at this folder.
    Local {
        /// Lake root (the folder holding `aws/`).
        lake_path: PathBuf,
        /// Most memory one query's sorts, joins and aggregations may hold, MB
        /// (`localQueryMemoryMb`); a query that needs more fails with a clear error.
        memory_mb: u64,
        /// Most folder entries kept between queries (`localListingCacheEntries`); past it the
        /// least recently used listings are read again when needed.
        listing_cache_entries: u64,
    },
    /// Amazon Athena.
    Athena(Box<AthenaSettings>),
}

/// A secret from `secureJsonData`: never printed (Debug shows a fingerprint only, so that two
/// settings with different secrets still differ).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.hash(&mut h);
        write!(f, "Secret(#{:04x})", h.finish() & 0xffff)
    }
}

/// How the plugin gets AWS credentials (the methods of Grafana's AWS datasources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// The SDK's default chain: environment, shared files, web identity, ECS/EC2 role
    /// (`authType` `default` or `ec2_iam_role`).
    Default,
    /// Access and secret key from secureJsonData (`keys`).
    Keys {
        /// `accessKey`.
        access_key: Secret,
        /// `secretKey`.
        secret_key: Secret,
        /// `sessionToken`, for temporary keys.
        session_token: Option<Secret>,
    },
    /// A named profile of the shared credentials file (`credentials`, `profile`).
    Profile(String),
}

/// Athena engine settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaSettings {
    /// Region of the Athena API (`defaultRegion`).
    pub region: String,
    /// Workgroup (`workgroup`, default `primary`).
    pub workgroup: String,
    /// S3 output location for results (`outputLocation`); the workgroup's when absent.
    pub output_location: Option<String>,
    /// Data catalog (`catalog`, default `AwsDataCatalog`).
    pub catalog: String,
    /// Credentials.
    pub auth: AuthMethod,
    /// Role to assume on top of the credentials (`assumeRoleArn`).
    pub assume_role_arn: Option<String>,
    /// External id for the assumed role (`externalId`).
    pub external_id: Option<String>,
    /// Endpoint override for every AWS API (`endpoint`): VPC endpoints, tests.
    pub endpoint: Option<String>,
    /// Price per TB scanned, in US cents (`pricePerTbUsd`, default 5.00).
    pub price_per_tb_cents: u64,
    /// Longest a query may run before it is stopped, seconds (`queryTimeoutSeconds`, default 300).
    pub query_timeout_s: u64,
    /// Let Athena answer from its own result of the same query up to this many minutes old
    /// (`resultReuseMinutes`, 1–10080; off when absent). Such answers scan and bill nothing.
    pub result_reuse_minutes: Option<u32>,
}

impl AthenaSettings {
    /// Defaults for a region.
    pub fn new(region: impl Into<String>) -> Self {
        AthenaSettings {
            region: region.into(),
            workgroup: "primary".to_string(),
            output_location: None,
            catalog: "AwsDataCatalog".to_string(),
            auth: AuthMethod::Default,
            assume_role_arn: None,
            external_id: None,
            endpoint: None,
            price_per_tb_cents: 500,
            query_timeout_s: 300,
            result_reuse_minutes: None,
        }
    }

    /// A key that differs whenever anything that changes the client differs (secrets by
    /// fingerprint), for reusing one engine per datasource configuration.
    pub fn identity(&self) -> String {
        format!("{self:?}")
    }
}

/// Typed datasource settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Engine.
    pub engine: EngineChoice,
    /// Source version of the Security Lake tables.
    pub source_version: SourceVersion,
    /// Whether `sourceVersion` was set; when not, Athena discovers it from the Glue database.
    pub source_version_set: bool,
    /// Region whose Glue database holds the tables (the rollup region).
    pub home_region: String,
    /// The Glue database (`database`) and per-source tables (`tables`) the admin named (Athena
    /// only); after discovery, where the tables were found.
    pub lake: crate::lake::LakeNames,
    /// Most rows a query may return.
    pub max_rows: u64,
    /// Most series a time-series frame may carry.
    pub max_series: usize,
    /// How far back coverage and freshness queries look for the last record, in days.
    pub lookback_days: u32,
    /// Longest time range a query may ask for, in days (`maxRangeDays`): a range is turned into
    /// partition predicates and time buckets, so an unbounded one costs unbounded memory.
    pub max_range_days: u32,
    /// Most points per series (`maxPointsPerSeries`): Grafana's `maxDataPoints` is clamped to it.
    pub max_points_per_series: i64,
    /// What a user's SQL may read (`rawSql`: `off`, `securityLake` (default), `any`).
    pub raw_sql: crate::sql::reach::RawSqlReach,
    /// The only accounts this datasource reads (`allowedAccounts`; empty: all).
    pub allowed_accounts: Vec<crate::query::AccountId>,
    /// The only Security Lake sources this datasource reads (`allowedSources`; empty: all).
    pub allowed_sources: Vec<crate::lake::Source>,
    /// Names (and OUs) of accounts, shown beside their ids (`accountNames`).
    pub account_names: crate::frame::account_names::AccountNames,
    /// How long a finished query result is reused, seconds (`cacheTtlSeconds`; default 300 on
    /// Athena, 0 on the local lake; 0 = only identical queries in flight are shared).
    pub cache_ttl_s: Option<u64>,
    /// Most memory the cached results may take, MB (`cacheMaxMb`, default 256).
    pub cache_max_mb: u64,
    /// Bytes a query and a dashboard load may scan (`scanBudgetQueryGb`, `scanBudgetLoadGb`).
    pub scan_budget: crate::budget::ScanBudget,
    /// How browser panel queries on Athena are answered when they may poll (`asyncQueries`, …).
    pub async_queries: AsyncQueries,
}

/// The async query flow's settings (see `docs/async-queries.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncQueries {
    /// Answer browser panel queries asynchronously on Athena (`asyncQueries`, default true).
    pub enabled: bool,
    /// How long one request waits for its run before answering "running", seconds
    /// (`asyncWaitSeconds`, 0–50, default 5): well under the 60 s of Managed Grafana's proxy.
    pub wait_s: u64,
    /// Most runs held for the datasource, running or finished and unclaimed
    /// (`asyncMaxQueries`, 1–10000, default 100).
    pub max_runs: usize,
    /// A run nobody asked about for this long is dropped, seconds (`asyncKeepSeconds`,
    /// 10–3600, default 120); a running one is stopped on Athena.
    pub keep_s: u64,
}

impl Default for AsyncQueries {
    fn default() -> Self {
        AsyncQueries {
            enabled: true,
            wait_s: 5,
            max_runs: 100,
            keep_s: 120,
        }
    }
}

pub use crate::engine::local::DEFAULT_LOCAL_QUERY_MEMORY_MB;

/// Default lake folder when none is configured: `$LAKEWATCH_LAKE`, else `./demo-lake`.
pub fn default_lake_path() -> PathBuf {
    std::env::var_os("LAKEWATCH_LAKE").map_or_else(|| PathBuf::from("demo-lake"), PathBuf::from)
}

/// A setting that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("datasource setting `{key}` has the value {value}: {reason}")]
pub struct SettingsError {
    /// The jsonData key.
    pub key: String,
    /// The value as JSON text.
    pub value: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            engine: EngineChoice::Local {
                lake_path: default_lake_path(),
                memory_mb: DEFAULT_LOCAL_QUERY_MEMORY_MB,
                listing_cache_entries: DEFAULT_LISTING_CACHE_ENTRIES,
            },
            source_version: SourceVersion::V2,
            source_version_set: false,
            home_region: "us-east-1".to_string(),
            lake: crate::lake::LakeNames::default(),
            max_rows: 100_000,
            max_series: 100,
            lookback_days: 7,
            max_range_days: 400,
            max_points_per_series: 10_000,
            raw_sql: crate::sql::reach::RawSqlReach::SecurityLake,
            allowed_accounts: Vec::new(),
            allowed_sources: Vec::new(),
            account_names: Default::default(),
            cache_ttl_s: None,
            cache_max_mb: 256,
            scan_budget: crate::budget::ScanBudget::default(),
            async_queries: AsyncQueries::default(),
        }
    }
}

impl Settings {
    /// The result cache's policy.
    pub fn cache_policy(&self) -> crate::cache::CachePolicy {
        let default_ttl = match self.engine {
            EngineChoice::Athena(_) => 300,
            EngineChoice::Local { .. } => 0,
        };
        crate::cache::CachePolicy {
            ttl: std::time::Duration::from_secs(self.cache_ttl_s.unwrap_or(default_ttl)),
            max_bytes: self.cache_max_mb * 1_000_000,
        }
    }

    /// The Athena price per TB scanned, US cents (the configured one, else $5.00).
    pub fn price_per_tb_cents(&self) -> u64 {
        match &self.engine {
            EngineChoice::Athena(a) => a.price_per_tb_cents,
            EngineChoice::Local { .. } => 500,
        }
    }

    /// Parses `jsonData` bytes (empty means defaults) with the decrypted `secureJsonData`.
    pub fn from_json_bytes(
        bytes: &[u8],
        secure: &std::collections::HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Settings::default());
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| SettingsError {
            key: "(jsonData)".into(),
            value: String::from_utf8_lossy(bytes).chars().take(80).collect(),
            reason: format!("not valid JSON ({e}); save the datasource settings again"),
        })?;
        Self::from_json_with_secrets(&value, secure)
    }

    /// Parses a `jsonData` value with no secrets. Unknown keys are ignored.
    pub fn from_json(json: &Value) -> Result<Self, SettingsError> {
        Self::from_json_with_secrets(json, &std::collections::HashMap::new())
    }

    /// Parses a `jsonData` value and the decrypted `secureJsonData`. Unknown keys are ignored.
    pub fn from_json_with_secrets(
        json: &Value,
        secure: &std::collections::HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        let mut s = Settings::default();
        let Some(obj) = json.as_object() else {
            return Ok(s);
        };
        let err = |key: &str, v: &Value, reason: &str| SettingsError {
            key: key.into(),
            value: v.to_string(),
            reason: reason.into(),
        };
        let text = |key: &str| -> Result<Option<String>, SettingsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(t)) if t.trim().is_empty() => Ok(None),
                Some(Value::String(t)) => Ok(Some(t.trim().to_string())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(v) => Err(err(key, v, "expected a string")),
            }
        };
        let number = |key: &str, min: u64, max: u64| -> Result<Option<u64>, SettingsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => {
                    let n = match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(t) => t.trim().parse().ok(),
                        _ => None,
                    };
                    match n {
                        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                        _ => Err(err(
                            key,
                            v,
                            &format!("expected a whole number from {min} to {max}"),
                        )),
                    }
                }
            }
        };
        match text("engine")?.as_deref() {
            None | Some("local") => {
                let memory_mb = number("localQueryMemoryMb", 64, 1 << 20)?
                    .unwrap_or(DEFAULT_LOCAL_QUERY_MEMORY_MB);
                let listing_cache_entries = number("localListingCacheEntries", 0, 100_000_000)?
                    .unwrap_or(DEFAULT_LISTING_CACHE_ENTRIES);
                let lake_path = match text("lakePath")? {
                    Some(path) => PathBuf::from(path),
                    None => default_lake_path(),
                };
                s.engine = EngineChoice::Local {
                    lake_path,
                    memory_mb,
                    listing_cache_entries,
                };
            }
            Some("athena") => {
                s.engine = EngineChoice::Athena(Box::new(athena_settings(&text, secure, &err)?));
            }
            Some(other) => {
                return Err(err(
                    "engine",
                    &Value::String(other.into()),
                    "expected \"local\" (the embedded lake) or \"athena\"",
                ))
            }
        }
        if let Some(v) = text("sourceVersion")? {
            s.source_version = SourceVersion::parse(&v).ok_or_else(|| {
                err(
                    "sourceVersion",
                    &Value::String(v.clone()),
                    "expected 1 or 2",
                )
            })?;
            s.source_version_set = true;
        }
        for key in ["rollupRegion", "defaultRegion"] {
            if let Some(v) = text(key)? {
                Region::parse(&v).map_err(|r| err(key, &Value::String(v.clone()), &r))?;
                s.home_region = v;
                break;
            }
        }
        s.lake = lake_names(obj, &text, &err)?;
        if !s.lake.is_default() && matches!(s.engine, EngineChoice::Local { .. }) {
            let key = if s.lake.database.is_some() {
                "database"
            } else {
                "tables"
            };
            return Err(err(
                key,
                &obj[key],
                "the local engine reads its lake under Security Lake's own names; database and table names apply to the athena engine only: remove the setting or set the engine to athena",
            ));
        }
        if let Some(n) = number("maxRows", 1, 10_000_000)? {
            s.max_rows = n;
        }
        if let Some(n) = number("maxSeries", 1, 10_000)? {
            s.max_series = n as usize;
        }
        if let Some(n) = number("lookbackDays", 1, 90)? {
            s.lookback_days = n as u32;
        }
        if let Some(n) = number("maxRangeDays", 1, 3660)? {
            s.max_range_days = n as u32;
        }
        if let Some(n) = number("maxPointsPerSeries", 10, 100_000)? {
            s.max_points_per_series = n as i64;
        }
        let list = |key: &str| -> Result<Vec<String>, SettingsError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(t)) => Ok(t
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(t) => Ok(t.trim().to_string()),
                        other => Err(err(key, other, "expected a list of strings")),
                    })
                    .collect(),
                Some(v) => Err(err(key, v, "expected a list of strings")),
            }
        };
        for text in list("allowedAccounts")? {
            let id = crate::query::AccountId::parse(&text)
                .map_err(|reason| err("allowedAccounts", &Value::String(text.clone()), &reason))?;
            s.allowed_accounts.push(id);
        }
        s.account_names = account_names(obj.get("accountNames"), &err)?;
        for text in list("allowedSources")? {
            let source = crate::sql::macros::parse_source(&text)
                .map_err(|reason| err("allowedSources", &Value::String(text.clone()), &reason))?;
            s.allowed_sources.push(source);
        }
        if let Some(t) = text("rawSql")? {
            s.raw_sql = crate::sql::reach::RawSqlReach::parse(&t).ok_or_else(|| {
                err(
                    "rawSql",
                    &Value::String(t.clone()),
                    "expected off, securityLake or any",
                )
            })?;
        }
        let gigabytes = |key: &str| -> Result<Option<u64>, SettingsError> {
            let gb = match obj.get(key) {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::String(t)) if t.trim().is_empty() => return Ok(None),
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(t)) => t.trim().parse::<f64>().ok(),
                Some(_) => None,
            };
            match gb {
                Some(gb) if gb.is_finite() && (0.0..=1_000_000.0).contains(&gb) => {
                    Ok(Some((gb * 1e9).round() as u64).filter(|b| *b > 0))
                }
                _ => Err(err(
                    key,
                    &obj[key],
                    "expected gigabytes (10^9 bytes) from 0 to 1000000, e.g. 10 or 0.5; 0 or empty turns this budget off",
                )),
            }
        };
        s.scan_budget.per_query = gigabytes("scanBudgetQueryGb")?;
        s.scan_budget.per_load = gigabytes("scanBudgetLoadGb")?;
        s.cache_ttl_s = number("cacheTtlSeconds", 0, 86_400)?;
        if let Some(n) = number("cacheMaxMb", 1, 65_536)? {
            s.cache_max_mb = n;
        }
        match obj.get("asyncQueries") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => s.async_queries.enabled = *b,
            Some(Value::String(t)) if matches!(t.trim(), "true" | "false") => {
                s.async_queries.enabled = t.trim() == "true";
            }
            Some(v) => return Err(err("asyncQueries", v, "expected true or false")),
        }
        if let Some(n) = number("asyncWaitSeconds", 0, 50)? {
            s.async_queries.wait_s = n;
        }
        if let Some(n) = number("asyncMaxQueries", 1, 10_000)? {
            s.async_queries.max_runs = n as usize;
        }
        if let Some(n) = number("asyncKeepSeconds", 10, 3600)? {
            s.async_queries.keep_s = n;
        }
        Ok(s)
    }
}

/// Whether a name is one Glue stores and Lakewatch quotes safely: 1 to 255 lowercase letters,
/// digits, `_` or `-` (Glue lowercases names; Athena reads no other).
pub fn is_glue_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

const GLUE_NAME_RULE: &str = "expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)";

/// `database` and `tables` (`{"vpc_flow": "…", "sh_findings": "…"}`), each a Glue name.
fn lake_names(
    obj: &serde_json::Map<String, Value>,
    text: &TextField<'_>,
    err: &ErrorOf<'_>,
) -> Result<crate::lake::LakeNames, SettingsError> {
    let mut names = crate::lake::LakeNames::default();
    if let Some(db) = text("database")? {
        if !is_glue_name(&db) {
            return Err(err("database", &Value::String(db), GLUE_NAME_RULE));
        }
        names.database = Some(db);
    }
    let tables = match obj.get("tables") {
        None | Some(Value::Null) => return Ok(names),
        Some(Value::Object(tables)) => tables,
        Some(v) => {
            return Err(err(
                "tables",
                v,
                "expected an object of table names by source, e.g. {\"vpc_flow\": \"vpc_flow_link\", \"sh_findings\": \"findings_link\"}",
            ))
        }
    };
    for (source, table) in tables {
        let key = format!("tables.{source}");
        let source = crate::sql::macros::parse_source(source)
            .map_err(|reason| err(&key, &Value::String(source.clone()), &reason))?;
        let name = match table {
            Value::Null => continue,
            Value::String(t) if t.trim().is_empty() => continue,
            Value::String(t) => t.trim().to_string(),
            other => return Err(err(&key, other, "expected a string")),
        };
        if !is_glue_name(&name) {
            return Err(err(&key, &Value::String(name), GLUE_NAME_RULE));
        }
        names.set_table(source, Some(name));
    }
    Ok(names)
}

/// `accountNames`: `{"<account id>": "<name>" | {"name": "<name>", "ou": "<OU>"}}`.
fn account_names(
    value: Option<&Value>,
    err: &ErrorOf<'_>,
) -> Result<crate::frame::account_names::AccountNames, SettingsError> {
    use crate::frame::account_names::{AccountName, MAX_NAMED_ACCOUNTS};
    const SHAPE: &str = "expected an object of names by account id, e.g. {\"111122223333\": \"prod-payments\", \"444455556666\": {\"name\": \"sandbox\", \"ou\": \"Workloads/Dev\"}}";
    let mut out = crate::frame::account_names::AccountNames::new();
    let entries = match value {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(map)) if map.len() <= MAX_NAMED_ACCOUNTS => map,
        Some(Value::Object(map)) => {
            return Err(err(
                "accountNames",
                &Value::String(format!("({} accounts)", map.len())),
                &format!("at most {MAX_NAMED_ACCOUNTS} accounts may be named"),
            ))
        }
        Some(v) => return Err(err("accountNames", v, SHAPE)),
    };
    // A name is shown as a label and a column: readable text, not markup or control characters.
    let readable = |key: &str, v: &Value| -> Result<Option<String>, SettingsError> {
        match v {
            Value::Null => Ok(None),
            Value::String(t) if t.trim().is_empty() => Ok(None),
            Value::String(t) if t.chars().count() <= 128 && !t.chars().any(char::is_control) => {
                Ok(Some(t.trim().to_string()))
            }
            other => Err(err(key, other, "expected text of at most 128 characters")),
        }
    };
    for (id, entry) in entries {
        let key = format!("accountNames.{id}");
        crate::query::AccountId::parse(id)
            .map_err(|reason| err("accountNames", &Value::String(id.clone()), &reason))?;
        let (name, ou) = match entry {
            Value::Object(o) => (
                readable(
                    &format!("{key}.name"),
                    o.get("name").unwrap_or(&Value::Null),
                )?,
                readable(&format!("{key}.ou"), o.get("ou").unwrap_or(&Value::Null))?,
            ),
            other => (readable(&key, other)?, None),
        };
        let Some(name) = name else {
            return Err(err(&key, entry, "expected a name for the account"));
        };
        out.insert(id.clone(), AccountName { name, ou });
    }
    Ok(out)
}

type TextField<'a> = dyn Fn(&str) -> Result<Option<String>, SettingsError> + 'a;
type ErrorOf<'a> = dyn Fn(&str, &Value, &str) -> SettingsError + 'a;

fn athena_settings(
    text: &TextField<'_>,
    secure: &std::collections::HashMap<String, String>,
    err: &ErrorOf<'_>,
) -> Result<AthenaSettings, SettingsError> {
    let region = text("defaultRegion")?.unwrap_or_else(|| "us-east-1".to_string());
    Region::parse(&region).map_err(|r| err("defaultRegion", &Value::String(region.clone()), &r))?;
    let mut a = AthenaSettings::new(region);
    if let Some(w) = text("workgroup")? {
        let ok = w.len() <= 128
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(err(
                "workgroup",
                &Value::String(w),
                "a workgroup name has 1 to 128 letters, digits, '.', '_' or '-'",
            ));
        }
        a.workgroup = w;
    }
    if let Some(o) = text("outputLocation")? {
        if !o.starts_with("s3://") {
            return Err(err(
                "outputLocation",
                &Value::String(o),
                "expected an S3 URI such as s3://my-athena-results/lakewatch/",
            ));
        }
        a.output_location = Some(o);
    }
    if let Some(c) = text("catalog")? {
        a.catalog = c;
    }
    let secret = |key: &str| {
        secure
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| Secret::new(v.trim()))
    };
    a.auth = match text("authType")?.as_deref() {
        None | Some("default") | Some("ec2_iam_role") => AuthMethod::Default,
        Some("keys") => match (secret("accessKey"), secret("secretKey")) {
            (Some(access_key), Some(secret_key)) => AuthMethod::Keys {
                access_key,
                secret_key,
                session_token: secret("sessionToken"),
            },
            _ => {
                return Err(err(
                    "authType",
                    &Value::String("keys".into()),
                    "access key and secret key are both needed in the secure settings (accessKey, secretKey)",
                ))
            }
        },
        Some("credentials") | Some("profile") => {
            AuthMethod::Profile(text("profile")?.unwrap_or_else(|| "default".to_string()))
        }
        Some(other) => {
            return Err(err(
                "authType",
                &Value::String(other.into()),
                "expected default, keys, credentials (a named profile) or ec2_iam_role",
            ))
        }
    };
    if let Some(arn) = text("assumeRoleArn")? {
        if !arn.starts_with("arn:") || !arn.contains(":role/") {
            return Err(err(
                "assumeRoleArn",
                &Value::String(arn),
                "expected a role ARN such as arn:aws:iam::111122223333:role/lakewatch-reader",
            ));
        }
        a.assume_role_arn = Some(arn);
    }
    a.external_id = text("externalId")?;
    if let Some(e) = text("endpoint")? {
        if !(e.starts_with("https://") || e.starts_with("http://")) {
            return Err(err(
                "endpoint",
                &Value::String(e),
                "expected a URL such as https://athena.us-east-1.amazonaws.com",
            ));
        }
        a.endpoint = Some(e);
    }
    if let Some(p) = text("pricePerTbUsd")? {
        let cents = p
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0 && *v <= 1000.0)
            .map(|v| (v * 100.0).round() as u64)
            .ok_or_else(|| {
                err(
                    "pricePerTbUsd",
                    &Value::String(p.clone()),
                    "expected US dollars per TB scanned, e.g. 5",
                )
            })?;
        a.price_per_tb_cents = cents;
    }
    if let Some(m) = text("resultReuseMinutes")? {
        a.result_reuse_minutes = Some(
            m.parse::<u32>()
                .ok()
                .filter(|v| (1..=10_080).contains(v))
                .ok_or_else(|| {
                    err(
                        "resultReuseMinutes",
                        &Value::String(m.clone()),
                        "expected a whole number of minutes from 1 to 10080 (7 days), or nothing to turn Athena's result reuse off",
                    )
                })?,
        );
    }
    if let Some(t) = text("queryTimeoutSeconds")? {
        a.query_timeout_s = t
            .parse::<u64>()
            .ok()
            .filter(|v| (1..=3600).contains(v))
            .ok_or_else(|| {
                err(
                    "queryTimeoutSeconds",
                    &Value::String(t.clone()),
                    "expected a whole number of seconds from 1 to 3600",
                )
            })?;
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_reports_bad_values() {
        let s = Settings::from_json(&json!({"lakePath": "/x", "sourceVersion": "1", "rollupRegion": "eu-west-1", "maxRows": 10, "localListingCacheEntries": 5000})).unwrap();
        assert_eq!(
            s.engine,
            EngineChoice::Local {
                lake_path: "/x".into(),
                memory_mb: DEFAULT_LOCAL_QUERY_MEMORY_MB,
                listing_cache_entries: 5000,
            }
        );
        assert_eq!(
            Settings::from_json(&json!({"localListingCacheEntries": -1}))
                .unwrap_err()
                .to_string(),
            "datasource setting `localListingCacheEntries` has the value -1: expected a whole number from 0 to 100000000"
        );
        assert_eq!(s.source_version, SourceVersion::V1);
        assert_eq!(s.home_region, "eu-west-1");
        assert_eq!(s.max_rows, 10);
        assert_eq!(
            Settings::from_json(&json!({"sourceVersion": "3"}))
                .unwrap_err()
                .to_string(),
            "datasource setting `sourceVersion` has the value \"3\": expected 1 or 2"
        );
        assert_eq!(
            Settings::from_json_bytes(b"", &Default::default()).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn athena_settings_and_their_errors() {
        let secure: std::collections::HashMap<String, String> = [
            ("accessKey".to_string(), "AKID".to_string()),
            ("secretKey".to_string(), "s3cr3t".to_string()),
        ]
        .into();
        let s = Settings::from_json_with_secrets(
            &json!({"engine": "athena", "defaultRegion": "eu-west-1", "workgroup": "sec-team",
                    "outputLocation": "s3://results/lakewatch/", "authType": "keys",
                    "assumeRoleArn": "arn:aws:iam::111122223333:role/reader", "externalId": "x-1",
                    "pricePerTbUsd": "6.25", "queryTimeoutSeconds": 90, "resultReuseMinutes": 60}),
            &secure,
        )
        .unwrap();
        let EngineChoice::Athena(a) = &s.engine else {
            panic!("athena")
        };
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.workgroup, "sec-team");
        assert_eq!(a.price_per_tb_cents, 625);
        assert_eq!(a.query_timeout_s, 90);
        assert_eq!(a.result_reuse_minutes, Some(60));
        assert_eq!(a.external_id.as_deref(), Some("x-1"));
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("AKID"),
            "{debug}"
        );
        let err = |v: Value| Settings::from_json(&v).unwrap_err().to_string();
        let budget = |v: Value| Settings::from_json(&v).unwrap().scan_budget;
        assert_eq!(
            budget(json!({"scanBudgetQueryGb": "2.5", "scanBudgetLoadGb": 10})),
            crate::budget::ScanBudget {
                per_query: Some(2_500_000_000),
                per_load: Some(10_000_000_000)
            }
        );
        assert!(!budget(json!({"scanBudgetQueryGb": "", "scanBudgetLoadGb": 0})).is_on());
        assert_eq!(
            err(json!({"engine": "athena", "resultReuseMinutes": "0"})),
            "datasource setting `resultReuseMinutes` has the value \"0\": expected a whole number of minutes from 1 to 10080 (7 days), or nothing to turn Athena's result reuse off"
        );
        assert_eq!(
            err(json!({"scanBudgetQueryGb": "ten"})),
            "datasource setting `scanBudgetQueryGb` has the value \"ten\": expected gigabytes (10^9 bytes) from 0 to 1000000, e.g. 10 or 0.5; 0 or empty turns this budget off"
        );
        assert_eq!(
            err(json!({"engine": "athena", "authType": "keys"})),
            "datasource setting `authType` has the value \"keys\": access key and secret key are both needed in the secure settings (accessKey, secretKey)"
        );
        assert_eq!(
            err(json!({"engine": "athena", "outputLocation": "results"})),
            "datasource setting `outputLocation` has the value \"results\": expected an S3 URI such as s3://my-athena-results/lakewatch/"
        );
        assert_eq!(
            err(json!({"engine": "athena", "assumeRoleArn": "reader"})),
            "datasource setting `assumeRoleArn` has the value \"reader\": expected a role ARN such as arn:aws:iam::111122223333:role/lakewatch-reader"
        );
        assert_eq!(
            err(json!({"engine": "bigquery"})),
            "datasource setting `engine` has the value \"bigquery\": expected \"local\" (the embedded lake) or \"athena\""
        );
    }

    #[test]
    fn database_and_tables_are_glue_names_on_athena_only() {
        let s = Settings::from_json(
            &json!({"engine": "athena", "database": "security_analytics",
            "tables": {"vpc_flow": "vpc_flow_link", "sh_findings": ""}}),
        )
        .unwrap();
        assert_eq!(
            s.lake,
            crate::lake::LakeNames {
                database: Some("security_analytics".into()),
                vpc_flow: Some("vpc_flow_link".into()),
                sh_findings: None,
            }
        );
        let err = |v: Value| Settings::from_json(&v).unwrap_err().to_string();
        assert_eq!(
            err(json!({"engine": "athena", "database": "Security Analytics"})),
            "datasource setting `database` has the value \"Security Analytics\": expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)"
        );
        assert_eq!(
            err(json!({"engine": "athena", "tables": {"vpc_flow": "a\"; DROP"}})),
            "datasource setting `tables.vpc_flow` has the value \"a\\\"; DROP\": expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)"
        );
        assert_eq!(
            err(json!({"engine": "athena", "tables": {"route53": "r"}})),
            "datasource setting `tables.route53` has the value \"route53\": expected a Security Lake source: vpc_flow or sh_findings"
        );
        assert_eq!(
            err(json!({"engine": "athena", "tables": "vpc_flow"})),
            "datasource setting `tables` has the value \"vpc_flow\": expected an object of table names by source, e.g. {\"vpc_flow\": \"vpc_flow_link\", \"sh_findings\": \"findings_link\"}"
        );
        assert_eq!(
            err(json!({"database": "security_analytics"})),
            "datasource setting `database` has the value \"security_analytics\": the local engine reads its lake under Security Lake's own names; database and table names apply to the athena engine only: remove the setting or set the engine to athena"
        );
    }

    #[test]
    fn async_query_settings_have_safe_defaults_and_clear_errors() {
        let defaults = Settings::from_json(&json!({"engine": "athena"})).unwrap();
        assert_eq!(
            defaults.async_queries,
            AsyncQueries {
                enabled: true,
                wait_s: 5,
                max_runs: 100,
                keep_s: 120
            }
        );
        let s = Settings::from_json(&json!({"asyncQueries": "false", "asyncWaitSeconds": 1,
            "asyncMaxQueries": "3", "asyncKeepSeconds": 30}))
        .unwrap();
        assert_eq!(
            s.async_queries,
            AsyncQueries {
                enabled: false,
                wait_s: 1,
                max_runs: 3,
                keep_s: 30
            }
        );
        let err = |v: Value| Settings::from_json(&v).unwrap_err().to_string();
        assert_eq!(
            err(json!({"asyncWaitSeconds": 60})),
            "datasource setting `asyncWaitSeconds` has the value 60: expected a whole number from 0 to 50"
        );
        assert_eq!(
            err(json!({"asyncQueries": "yes"})),
            "datasource setting `asyncQueries` has the value \"yes\": expected true or false"
        );
        assert_eq!(
            err(json!({"asyncMaxQueries": 0})),
            "datasource setting `asyncMaxQueries` has the value 0: expected a whole number from 1 to 10000"
        );
    }
}
