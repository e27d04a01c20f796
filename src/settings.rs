//! Datasource settings: Grafana's `jsonData` / `secureJsonData` → typed [`Settings`].

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use serde_json::Value;

use crate::frame::account_names::{AccountName, AccountNames, MAX_NAMED_ACCOUNTS};
use crate::lake::listing::DEFAULT_LISTING_CACHE_ENTRIES;
use crate::lake::SourceVersion;
use crate::lenient::{Fields, Items, Problem};
use crate::query::{AccountId, Region};
use crate::sql::reach::RawSqlReach;
use Accepts::{Flag, Gigabytes, Whole};

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
    /// Name accounts from AWS Organizations (`organizationAccountNames`, default off).
    pub organization_account_names: bool,
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
            organization_account_names: false,
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
    /// The declared defaults (see [`Settings::default`]).
    fn default() -> Self {
        Settings::default().async_queries
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

impl From<Problem> for SettingsError {
    fn from(p: Problem) -> Self {
        SettingsError {
            key: p.key,
            value: p.value,
            reason: p.reason,
        }
    }
}

/// A numeric or on/off setting, declared once in [`DECLARED`].
struct Declared {
    /// The `jsonData` key.
    key: &'static str,
    /// Read only when the engine is the local lake (on Athena it is neither read nor checked).
    local_only: bool,
    /// What it accepts, its default and where it is stored.
    accepts: Accepts,
}

/// Where a declared setting's value goes.
type Store<T> = fn(&mut Settings, T);

/// What a declared setting accepts, its default, and the field of [`Settings`] it fills.
enum Accepts {
    /// A whole number within the range, its default (None: the field keeps the default of
    /// [`Settings::default`], e.g. `cacheTtlSeconds`, whose default depends on the engine), and
    /// where it goes.
    Whole(RangeInclusive<u64>, Option<u64>, Store<u64>),
    /// Gigabytes (10^9 bytes) from 0 to 1,000,000, stored as bytes; 0 and unset mean off.
    Gigabytes(Store<Option<u64>>),
    /// true or false, its default, and where it goes.
    Flag(bool, Store<bool>),
}

/// A setting read whatever the engine.
const fn setting(key: &'static str, accepts: Accepts) -> Declared {
    Declared {
        key,
        local_only: false,
        accepts,
    }
}

/// A setting of the local engine.
const fn local(key: &'static str, accepts: Accepts) -> Declared {
    Declared {
        key,
        local_only: true,
        accepts,
    }
}

/// The numeric and on/off settings: key, accepted values and default, and the field each fills.
/// `Settings::default()` takes their defaults from here, and README.md's settings table names
/// each key with the same default (a test checks).
#[rustfmt::skip] // a table: one aligned line per setting
const DECLARED: &[Declared] = &[
    local("localQueryMemoryMb",         Whole(64..=1 << 20,    Some(DEFAULT_LOCAL_QUERY_MEMORY_MB), set_local_memory)),
    local("localListingCacheEntries",   Whole(0..=100_000_000, Some(DEFAULT_LISTING_CACHE_ENTRIES), set_local_listing)),
    setting("maxRows",                  Whole(1..=10_000_000,  Some(100_000), |s, n| s.max_rows = n)),
    setting("maxSeries",                Whole(1..=10_000,      Some(100),     |s, n| s.max_series = n as usize)),
    setting("lookbackDays",             Whole(1..=90,          Some(7),       |s, n| s.lookback_days = n as u32)),
    setting("maxRangeDays",             Whole(1..=3660,        Some(400),     |s, n| s.max_range_days = n as u32)),
    setting("maxPointsPerSeries",       Whole(10..=100_000,    Some(10_000),  |s, n| s.max_points_per_series = n as i64)),
    setting("scanBudgetQueryGb",        Gigabytes(|s, bytes| s.scan_budget.per_query = bytes)),
    setting("scanBudgetLoadGb",         Gigabytes(|s, bytes| s.scan_budget.per_load = bytes)),
    setting("cacheTtlSeconds",          Whole(0..=86_400,      None,          |s, n| s.cache_ttl_s = Some(n))),
    setting("cacheMaxMb",               Whole(1..=65_536,      Some(256),     |s, n| s.cache_max_mb = n)),
    setting("asyncQueries",             Flag(true, |s, on| s.async_queries.enabled = on)),
    setting("asyncWaitSeconds",         Whole(0..=50,          Some(5),       |s, n| s.async_queries.wait_s = n)),
    setting("asyncMaxQueries",          Whole(1..=10_000,      Some(100),     |s, n| s.async_queries.max_runs = n as usize)),
    setting("asyncKeepSeconds",         Whole(10..=3600,       Some(120),     |s, n| s.async_queries.keep_s = n)),
    setting("organizationAccountNames", Flag(false, set_organization_names)),
];

/// `organizationAccountNames` into the Athena engine (the local lake has no AWS to ask).
fn set_organization_names(s: &mut Settings, on: bool) {
    if let EngineChoice::Athena(athena) = &mut s.engine {
        athena.organization_account_names = on;
    }
}

/// `localQueryMemoryMb` into the local engine (only read when the engine is local).
fn set_local_memory(s: &mut Settings, mb: u64) {
    if let EngineChoice::Local { memory_mb, .. } = &mut s.engine {
        *memory_mb = mb;
    }
}

/// `localListingCacheEntries` into the local engine (only read when the engine is local).
fn set_local_listing(s: &mut Settings, entries: u64) {
    if let EngineChoice::Local {
        listing_cache_entries,
        ..
    } = &mut s.engine
    {
        *listing_cache_entries = entries;
    }
}

/// What a scan budget accepts.
const GIGABYTES_RULE: &str = "expected gigabytes (10^9 bytes) from 0 to 1000000, e.g. 10 or 0.5; 0 or empty turns this budget off";

impl Declared {
    /// Whether the setting is read with the engine `s` has.
    fn applies(&self, s: &Settings) -> bool {
        !self.local_only || matches!(s.engine, EngineChoice::Local { .. })
    }

    /// Reads the setting into `s`; unset leaves `s` as it is.
    fn read(&self, json: &Fields<'_>, s: &mut Settings) -> Result<(), Problem> {
        match &self.accepts {
            Whole(range, _, store) => {
                if let Some(n) = json.whole_number(self.key, range.clone())? {
                    store(s, n);
                }
            }
            Gigabytes(store) => {
                let gb = json.decimal(self.key, 0.0..=1_000_000.0);
                if let Some(gb) = gb.map_err(|p| p.because(GIGABYTES_RULE))? {
                    store(s, Some((gb * 1e9).round() as u64).filter(|b| *b > 0));
                }
            }
            Flag(_, store) => {
                if let Some(on) = json.flag(self.key)? {
                    store(s, on);
                }
            }
        }
        Ok(())
    }

    /// Stores the default, if the setting has one of its own.
    fn store_default(&self, s: &mut Settings) {
        match &self.accepts {
            Whole(_, Some(n), store) => store(s, *n),
            Whole(_, None, _) => {}
            Gigabytes(store) => store(s, None),
            Flag(on, store) => store(s, *on),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        let mut s = Settings {
            engine: EngineChoice::Local {
                lake_path: default_lake_path(),
                memory_mb: 0,
                listing_cache_entries: 0,
            },
            source_version: SourceVersion::V2,
            source_version_set: false,
            home_region: "us-east-1".to_string(),
            lake: crate::lake::LakeNames::default(),
            raw_sql: RawSqlReach::SecurityLake,
            allowed_accounts: Vec::new(),
            allowed_sources: Vec::new(),
            account_names: Default::default(),
            // None: the cache policy picks the engine's default.
            cache_ttl_s: None,
            // Zero until the loop below stores the defaults of DECLARED, their one source.
            max_rows: 0,
            max_series: 0,
            lookback_days: 0,
            max_range_days: 0,
            max_points_per_series: 0,
            cache_max_mb: 0,
            scan_budget: crate::budget::ScanBudget::default(),
            async_queries: AsyncQueries {
                enabled: false,
                wait_s: 0,
                max_runs: 0,
                keep_s: 0,
            },
        };
        for setting in DECLARED {
            setting.store_default(&mut s);
        }
        s
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
        secure: &HashMap<String, String>,
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
        Self::from_json_with_secrets(json, &HashMap::new())
    }

    /// Parses a `jsonData` value and the decrypted `secureJsonData`. Unknown keys are ignored;
    /// the first value that cannot be accepted is the error (engine, then the declared
    /// settings, then the lake and scoping settings).
    pub fn from_json_with_secrets(
        json: &Value,
        secure: &HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        let mut s = Settings::default();
        let Some(obj) = json.as_object() else {
            return Ok(s);
        };
        let json = Fields::new(obj);
        s.read_engine(&json, secure)?;
        for setting in DECLARED {
            if setting.applies(&s) {
                setting.read(&json, &mut s)?;
            }
        }
        s.read_lake(&json)?;
        s.read_scope(&json)?;
        Ok(s)
    }

    /// `engine`, with `lakePath` for the local lake or the Athena settings.
    fn read_engine(
        &mut self,
        json: &Fields<'_>,
        secure: &HashMap<String, String>,
    ) -> Result<(), SettingsError> {
        match json.text("engine")?.as_deref() {
            None | Some("local") => {
                if let (Some(path), EngineChoice::Local { lake_path, .. }) =
                    (json.text("lakePath")?, &mut self.engine)
                {
                    *lake_path = PathBuf::from(path);
                }
            }
            Some("athena") => {
                self.engine = EngineChoice::Athena(Box::new(athena_settings(json, secure)?));
            }
            Some(other) => {
                let reason = "expected \"local\" (the embedded lake) or \"athena\"";
                return Err(Problem::text("engine", other, reason).into());
            }
        }
        Ok(())
    }

    /// `sourceVersion`, the home region and the Glue names (`database`, `tables`).
    fn read_lake(&mut self, json: &Fields<'_>) -> Result<(), SettingsError> {
        if let Some(v) = json.text("sourceVersion")? {
            self.source_version = SourceVersion::parse(&v)
                .ok_or_else(|| Problem::text("sourceVersion", &v, "expected 1 or 2"))?;
            self.source_version_set = true;
        }
        // The rollup region holds the Glue database; Athena's own region stands in when unset.
        for key in ["rollupRegion", "defaultRegion"] {
            if let Some(v) = json.text(key)? {
                Region::parse(&v).map_err(|r| Problem::text(key, &v, r))?;
                self.home_region = v;
                break;
            }
        }
        self.lake = lake_names(json)?;
        if !self.lake.is_default() && matches!(self.engine, EngineChoice::Local { .. }) {
            let key = if self.lake.database.is_some() {
                "database"
            } else {
                "tables"
            };
            let value = json.get(key).unwrap_or(&Value::Null);
            return Err(Problem::new(key, value, LOCAL_NAMES).into());
        }
        Ok(())
    }

    /// What the datasource may read (`allowedAccounts`, `allowedSources`, `rawSql`) and the
    /// account names.
    fn read_scope(&mut self, json: &Fields<'_>) -> Result<(), SettingsError> {
        for text in json.list("allowedAccounts", Items::Strings)? {
            let id = AccountId::parse(&text)
                .map_err(|reason| Problem::text("allowedAccounts", &text, reason))?;
            self.allowed_accounts.push(id);
        }
        self.account_names = account_names(json.get("accountNames"))?;
        for text in json.list("allowedSources", Items::Strings)? {
            let source = crate::sql::macros::parse_source(&text)
                .map_err(|reason| Problem::text("allowedSources", &text, reason))?;
            self.allowed_sources.push(source);
        }
        if let Some(t) = json.text("rawSql")? {
            self.raw_sql = RawSqlReach::parse(&t)
                .ok_or_else(|| Problem::text("rawSql", &t, "expected off, securityLake or any"))?;
        }
        Ok(())
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

/// Why the local engine refuses `database` and `tables`.
const LOCAL_NAMES: &str = "the local engine reads its lake under Security Lake's own names; database and table names apply to the athena engine only: remove the setting or set the engine to athena";

const GLUE_NAME_RULE: &str = "expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)";

/// `database` and `tables` (`{"vpc_flow": "…", "sh_findings": "…"}`), each a Glue name.
fn lake_names(json: &Fields<'_>) -> Result<crate::lake::LakeNames, Problem> {
    let mut names = crate::lake::LakeNames::default();
    if let Some(db) = json.text("database")? {
        if !is_glue_name(&db) {
            return Err(Problem::text("database", &db, GLUE_NAME_RULE));
        }
        names.database = Some(db);
    }
    let tables = match json.get("tables") {
        None | Some(Value::Null) => return Ok(names),
        Some(Value::Object(tables)) => tables,
        Some(v) => {
            return Err(Problem::new(
                "tables",
                v,
                "expected an object of table names by source, e.g. {\"vpc_flow\": \"vpc_flow_link\", \"sh_findings\": \"findings_link\"}",
            ))
        }
    };
    for (source, table) in tables {
        let key = format!("tables.{source}");
        let source = crate::sql::macros::parse_source(source)
            .map_err(|reason| Problem::text(&key, source, reason))?;
        let name = match table {
            Value::Null => continue,
            Value::String(t) if t.trim().is_empty() => continue,
            Value::String(t) => t.trim().to_string(),
            other => return Err(Problem::new(&key, other, "expected a string")),
        };
        if !is_glue_name(&name) {
            return Err(Problem::text(&key, &name, GLUE_NAME_RULE));
        }
        names.set_table(source, Some(name));
    }
    Ok(names)
}

/// `accountNames`: `{"<account id>": "<name>" | {"name": "<name>", "ou": "<OU>"}}`.
fn account_names(value: Option<&Value>) -> Result<AccountNames, Problem> {
    const SHAPE: &str = "expected an object of names by account id, e.g. {\"111122223333\": \"prod-payments\", \"444455556666\": {\"name\": \"sandbox\", \"ou\": \"Workloads/Dev\"}}";
    let mut out = AccountNames::new();
    let entries = match value {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(map)) if map.len() <= MAX_NAMED_ACCOUNTS => map,
        Some(Value::Object(map)) => {
            return Err(Problem::text(
                "accountNames",
                &format!("({} accounts)", map.len()),
                format!("at most {MAX_NAMED_ACCOUNTS} accounts may be named"),
            ))
        }
        Some(v) => return Err(Problem::new("accountNames", v, SHAPE)),
    };
    for (id, entry) in entries {
        let key = format!("accountNames.{id}");
        AccountId::parse(id).map_err(|reason| Problem::text("accountNames", id, reason))?;
        let (name, ou) = match entry {
            Value::Object(o) => (
                readable(&format!("{key}.name"), o.get("name"))?,
                readable(&format!("{key}.ou"), o.get("ou"))?,
            ),
            other => (readable(&key, Some(other))?, None),
        };
        let Some(name) = name else {
            return Err(Problem::new(&key, entry, "expected a name for the account"));
        };
        out.insert(id.clone(), AccountName { name, ou });
    }
    Ok(out)
}

/// An account's name or OU: shown as a label and a column, so readable text of at most 128
/// characters, not markup or control characters.
fn readable(key: &str, value: Option<&Value>) -> Result<Option<String>, Problem> {
    match value.unwrap_or(&Value::Null) {
        Value::Null => Ok(None),
        Value::String(t) if t.trim().is_empty() => Ok(None),
        Value::String(t) if t.chars().count() <= 128 && !t.chars().any(char::is_control) => {
            Ok(Some(t.trim().to_string()))
        }
        other => Err(Problem::new(
            key,
            other,
            "expected text of at most 128 characters",
        )),
    }
}

/// The Athena engine's settings.
fn athena_settings(
    json: &Fields<'_>,
    secure: &HashMap<String, String>,
) -> Result<AthenaSettings, Problem> {
    let region = json
        .text("defaultRegion")?
        .unwrap_or_else(|| "us-east-1".to_string());
    Region::parse(&region).map_err(|r| Problem::text("defaultRegion", &region, r))?;
    let mut a = AthenaSettings::new(region);
    if let Some(w) = json.text("workgroup")? {
        let ok = w.len() <= 128
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            let reason = "a workgroup name has 1 to 128 letters, digits, '.', '_' or '-'";
            return Err(Problem::text("workgroup", &w, reason));
        }
        a.workgroup = w;
    }
    if let Some(o) = json.text("outputLocation")? {
        if !o.starts_with("s3://") {
            let reason = "expected an S3 URI such as s3://my-athena-results/lakewatch/";
            return Err(Problem::text("outputLocation", &o, reason));
        }
        a.output_location = Some(o);
    }
    if let Some(c) = json.text("catalog")? {
        a.catalog = c;
    }
    a.auth = auth_method(json, secure)?;
    if let Some(arn) = json.text("assumeRoleArn")? {
        if !arn.starts_with("arn:") || !arn.contains(":role/") {
            let reason =
                "expected a role ARN such as arn:aws:iam::111122223333:role/lakewatch-reader";
            return Err(Problem::text("assumeRoleArn", &arn, reason));
        }
        a.assume_role_arn = Some(arn);
    }
    a.external_id = json.text("externalId")?;
    if let Some(e) = json.text("endpoint")? {
        if !(e.starts_with("https://") || e.starts_with("http://")) {
            let reason = "expected a URL such as https://athena.us-east-1.amazonaws.com";
            return Err(Problem::text("endpoint", &e, reason));
        }
        a.endpoint = Some(e);
    }
    // The numbers of Athena say their unit, so each has its own reason.
    const PRICE: &str = "expected US dollars per TB scanned, e.g. 5";
    const REUSE: &str = "expected a whole number of minutes from 1 to 10080 (7 days), or nothing to turn Athena's result reuse off";
    const TIMEOUT: &str = "expected a whole number of seconds from 1 to 3600";
    let price = json.decimal("pricePerTbUsd", 0.0..=1000.0);
    if let Some(usd) = price.map_err(|p| p.because(PRICE))? {
        a.price_per_tb_cents = (usd * 100.0).round() as u64;
    }
    let reuse = json.whole_number("resultReuseMinutes", 1..=10_080);
    a.result_reuse_minutes = reuse.map_err(|p| p.because(REUSE))?.map(|m| m as u32);
    let timeout = json.whole_number("queryTimeoutSeconds", 1..=3600);
    if let Some(seconds) = timeout.map_err(|p| p.because(TIMEOUT))? {
        a.query_timeout_s = seconds;
    }
    Ok(a)
}

/// `authType` and the secrets or profile it needs.
fn auth_method(json: &Fields<'_>, secure: &HashMap<String, String>) -> Result<AuthMethod, Problem> {
    let secret = |key: &str| {
        secure
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .map(|v| Secret::new(v.trim()))
    };
    Ok(match json.text("authType")?.as_deref() {
        None | Some("default") | Some("ec2_iam_role") => AuthMethod::Default,
        Some("keys") => match (secret("accessKey"), secret("secretKey")) {
            (Some(access_key), Some(secret_key)) => AuthMethod::Keys {
                access_key,
                secret_key,
                session_token: secret("sessionToken"),
            },
            _ => {
                return Err(Problem::text(
                    "authType",
                    "keys",
                    "access key and secret key are both needed in the secure settings (accessKey, secretKey)",
                ))
            }
        },
        Some("credentials") | Some("profile") => {
            AuthMethod::Profile(json.text("profile")?.unwrap_or_else(|| "default".to_string()))
        }
        Some(other) => {
            return Err(Problem::text(
                "authType",
                other,
                "expected default, keys, credentials (a named profile) or ec2_iam_role",
            ))
        }
    })
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
            "tables": {"vpc_flow": "vpc_flow_link", "sh_findings": "", "CLOUD_TRAIL_MGMT": "trail_link",
                       "s3_data": "s3_link", "LAMBDA_EXECUTION": "lambda_link", "eks_audit": "eks_link"}}),
        )
        .unwrap();
        assert_eq!(
            s.lake,
            crate::lake::LakeNames {
                database: Some("security_analytics".into()),
                vpc_flow: Some("vpc_flow_link".into()),
                sh_findings: None,
                cloud_trail_mgmt: Some("trail_link".into()),
                route53: None,
                waf: None,
                s3_data: Some("s3_link".into()),
                lambda_execution: Some("lambda_link".into()),
                eks_audit: Some("eks_link".into()),
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
            err(json!({"engine": "athena", "tables": {"cloud_trail": "r"}})),
            "datasource setting `tables.cloud_trail` has the value \"cloud_trail\": expected a Security Lake source: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution or eks_audit"
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

    /// Each row of README.md's settings tables: its keys (first column) and default (second).
    fn readme_settings() -> std::collections::BTreeMap<String, String> {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## Datasource settings (`jsonData`)")
            .nth(1)
            .expect("README.md has a settings section");
        let section = section.split("\n## ").next().unwrap_or_default();
        let mut rows = std::collections::BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            for key in cells[1].split(", ") {
                rows.insert(key.trim_matches('`').to_string(), cells[2].to_string());
            }
        }
        rows
    }

    /// The keys read by hand rather than declared in DECLARED.
    const OTHER_KEYS: [&str; 22] = [
        "engine",
        "lakePath",
        "sourceVersion",
        "rollupRegion",
        "defaultRegion",
        "authType",
        "profile",
        "assumeRoleArn",
        "externalId",
        "endpoint",
        "workgroup",
        "outputLocation",
        "catalog",
        "pricePerTbUsd",
        "resultReuseMinutes",
        "queryTimeoutSeconds",
        "database",
        "tables",
        "rawSql",
        "allowedAccounts",
        "accountNames",
        "allowedSources",
    ];

    #[test]
    fn the_readme_names_every_setting_with_its_declared_default() {
        let rows = readme_settings();
        for setting in DECLARED {
            let Some(documented) = rows.get(setting.key) else {
                panic!(
                    "README.md's settings table has no row for `{}`",
                    setting.key
                );
            };
            let declared = match &setting.accepts {
                Whole(_, None, _) => continue,
                Whole(_, Some(n), _) => format!("`{n}`"),
                Flag(on, _) => format!("`{on}`"),
                Gigabytes(_) => "— (no budget)".to_string(),
            };
            assert_eq!(
                documented, &declared,
                "README.md's default of `{}`",
                setting.key
            );
        }
        let read: Vec<&str> = DECLARED.iter().map(|d| d.key).chain(OTHER_KEYS).collect();
        for key in &OTHER_KEYS {
            assert!(
                rows.contains_key(*key),
                "README.md's settings table has no row for `{key}`"
            );
        }
        for key in rows.keys() {
            assert!(
                read.contains(&key.as_str()),
                "README.md documents `{key}`, which no reader reads"
            );
        }
    }

    #[test]
    fn defaults_come_from_the_declared_table() {
        let s = Settings::default();
        let EngineChoice::Local {
            memory_mb,
            listing_cache_entries,
            ..
        } = s.engine
        else {
            panic!("the local engine is the default")
        };
        assert_eq!((memory_mb, listing_cache_entries), (2048, 200_000));
        assert_eq!(
            (s.max_rows, s.max_series, s.lookback_days),
            (100_000, 100, 7)
        );
        assert_eq!((s.max_range_days, s.max_points_per_series), (400, 10_000));
        assert_eq!((s.cache_ttl_s, s.cache_max_mb), (None, 256));
        assert!(!s.scan_budget.is_on());
        assert_eq!(s.async_queries, AsyncQueries::default());
        assert_eq!(Settings::from_json(&json!({})).unwrap(), s);
    }

    #[test]
    fn empty_values_are_unset_but_an_empty_allowed_account_is_refused() {
        let s = Settings::from_json(
            &json!({"maxRows": "", "asyncQueries": " ", "cacheTtlSeconds": null,
            "allowedAccounts": "", "engine": "athena", "localQueryMemoryMb": "not read on athena"}),
        )
        .unwrap();
        assert_eq!(
            (s.max_rows, s.async_queries.enabled, s.cache_ttl_s),
            (100_000, true, None)
        );
        assert!(s.allowed_accounts.is_empty());
        assert_eq!(
            Settings::from_json(&json!({"allowedAccounts": ["111122223333", ""]}))
                .unwrap_err()
                .to_string(),
            "datasource setting `allowedAccounts` has the value \"\": an AWS account id is 12 digits, e.g. 111122223333"
        );
        assert_eq!(
            Settings::from_json(&json!({"allowedAccounts": [111122223333u64]}))
                .unwrap_err()
                .to_string(),
            "datasource setting `allowedAccounts` has the value 111122223333: expected a list of strings"
        );
    }
}
