import type { DataQuery, DataSourceJsonData } from '@grafana/schema';

/**
 * Query kinds the Lakewatch backend answers. The full list, with each kind's fields and defaults, is
 * the backend's registry (src/query/kinds/ in the Rust crate, `kinds.json` here); the names below are
 * the ones this code refers to, and a kind the registry adds is accepted as any other string. The
 * fields and values below are exactly what the backend parses; anything else is reported as an
 * unknown field.
 */
export type QueryKind =
  | 'flow_volume'
  | 'top_talkers'
  | 'top_pairs'
  | 'top_ports'
  | 'top_interfaces'
  | 'rejected'
  | 'port_scan'
  | 'internet_egress'
  | 'flow_search'
  | 'coverage'
  | 'freshness'
  | 'compliance_status'
  | 'compliance_over_time'
  | 'annotations'
  | 'sql'
  /** Dashboard variable values (sent by the datasource, not offered in the editor). */
  | 'variable'
  | (string & {});

/** What an `annotations` query marks on the time axis. */
export type AnnotationEvent = 'control_status_changes' | 'flow_logs_silent' | 'iam_changes' | 'sign_ins' | 'new_findings';

/** What a `variable` query lists (the backend's `values`). */
export type VariableValues =
  | 'accounts'
  | 'regions'
  | 'vpcs'
  | 'subnets'
  | 'enis'
  | 'controls'
  | 'principals'
  | 'principal_types'
  | 'services'
  | 'operations'
  | 'domains'
  | 'query_types'
  | 'rcodes'
  | 'products'
  | 'finding_types'
  | 'severities'
  | 'web_acls'
  | 'rules'
  | 'actions'
  | 'countries'
  | 'buckets'
  | 'functions';

/** What a flow metric adds up. */
export type FlowMeasure = 'bytes' | 'packets' | 'flows';
/** What a compliance series shows (none: pass rate and failing). */
export type ComplianceMeasure = 'pass_rate' | 'failing' | 'passing';

/** Flow dimensions a panel can group by. */
export type Dimension =
  | 'account'
  | 'region'
  | 'vpc'
  | 'subnet'
  | 'eni'
  | 'src_ip'
  | 'dst_ip'
  | 'dst_port'
  | 'protocol'
  | 'action'
  | 'direction'
  | 'boundary'
  | 'src_aws_service'
  | 'dst_aws_service';

/** A filter value: one value, or a list (multi-value template variables give lists). */
export type FilterValue = string | number | Array<string | number>;

/** The `filters` object of the flow, CloudTrail and Route 53 kinds (empty or absent: no restriction). */
export interface FlowFilters {
  accounts?: FilterValue;
  regions?: FilterValue;
  vpcs?: FilterValue;
  subnets?: FilterValue;
  enis?: FilterValue;
  ip?: FilterValue;
  src_ip?: FilterValue;
  dst_ip?: FilterValue;
  exclude_ip?: FilterValue;
  ports?: FilterValue;
  src_ports?: FilterValue;
  dst_ports?: FilterValue;
  protocols?: FilterValue;
  action?: string;
  direction?: string;
  boundary?: FilterValue;
  src_aws_service?: FilterValue;
  dst_aws_service?: FilterValue;
  /** CloudTrail: services called (iam.amazonaws.com, or iam). */
  services?: FilterValue;
  /** CloudTrail: operations called (CreateAccessKey). */
  operations?: FilterValue;
  /** CloudTrail: caller ARNs (or AWS services). */
  principals?: FilterValue;
  /** CloudTrail: callers' IAM user names. */
  principal_names?: FilterValue;
  /** CloudTrail: IAMUser, AssumedRole, Root, AWSService, … */
  principal_types?: FilterValue;
  /** CloudTrail: access key ids. */
  access_keys?: FilterValue;
  /** CloudTrail: success or failure. */
  outcome?: string;
  /** CloudTrail: error codes (AccessDenied). */
  error_codes?: FilterValue;
  /** CloudTrail sign-ins: true (with MFA) or false (without). */
  mfa?: string;
  /** Route 53: names queried (api.example.com). */
  domains?: FilterValue;
  /** Route 53: record types (A, TXT). */
  query_types?: FilterValue;
  /** Route 53: response codes (NXDOMAIN). */
  rcodes?: FilterValue;
  /** Findings: products (GuardDuty). */
  products?: FilterValue;
  /** Findings: whole finding types. */
  types?: FilterValue;
  /** Findings: resource ARNs or ids. */
  resources?: FilterValue;
  /** WAF: web ACL ARNs. */
  web_acls?: FilterValue;
  /** WAF: actions (ALLOW, BLOCK, COUNT, CAPTCHA, CHALLENGE). */
  actions?: FilterValue;
  /** WAF: terminating rules. */
  rules?: FilterValue;
  /** WAF: terminating-rule types (RATE_BASED). */
  rule_types?: FilterValue;
  /** WAF: client countries, ISO 3166 alpha-2 (US). */
  countries?: FilterValue;
  /** WAF: hosts asked for. */
  hosts?: FilterValue;
  /** WAF: URI paths asked for. */
  paths?: FilterValue;
  /** WAF: HTTP methods. */
  methods?: FilterValue;
  /** CloudTrail S3 data events: bucket names. */
  buckets?: FilterValue;
  /** CloudTrail Lambda data events: function names. */
  functions?: FilterValue;
  /** CloudTrail S3 data events: `read` or `write`. */
  access?: FilterValue;
}

/** The name of a filter. */
export type FilterName = keyof FlowFilters;

/** A Lakewatch panel query as stored in dashboards and sent to the backend. */
export interface LakewatchQuery extends DataQuery {
  kind?: QueryKind;
  measure?: FlowMeasure | ComplianceMeasure;
  group_by?: string[];
  /** top_talkers: which side's address is ranked; egress_anomaly: what the score is per. */
  by?: 'src_ip' | 'dst_ip' | 'either' | 'vpc' | 'eni' | 'clients' | 'uris' | 'rules';
  limit?: number;
  filters?: FlowFilters;
  /** rejected: over_time | top_sources; compliance_status: table | counts. */
  view?: string;
  /** port_scan */
  scan_by?: 'ports' | 'hosts';
  threshold?: number;
  window_minutes?: number;
  /** internet_egress: your own address blocks (not internet). */
  own_cidrs?: string[];
  /** egress_anomaly, new_external_peers: whole days of baseline before the range. */
  baseline_days?: number;
  /** egress_anomaly: the score from which an hour is anomalous. */
  min_score?: number;
  /** egress_anomaly: the least egress of an anomalous hour, bytes. */
  min_bytes?: number;
  /** beaconing: the fewest contacts of a beacon. */
  min_contacts?: number;
  /** beaconing: the most its intervals may vary, percent of their mean. */
  max_jitter_percent?: number;
  /** dns_tunneling: the shortest leftmost label counted. */
  min_label_length?: number;
  /** findings, active_findings: the lowest severity counted (Informational … Fatal). */
  min_severity?: string;
  /** dns_tunneling: the fewest distinct long labels under one domain. */
  min_subdomains?: number;
  /** coverage / freshness */
  silent_for_minutes?: number;
  lookback_days?: number;
  /** coverage / freshness: table | series; sql: table | time_series. */
  format?: string;
  /** compliance kinds */
  controls?: string[];
  /** annotations: which events become annotations. */
  event?: AnnotationEvent;
  /**
   * annotations (control_status_changes): one control id, Config rule name or `$variable` (a list
   * once a multi-value variable is expanded).
   */
  control?: string | string[];
  /** variable: what to list. */
  values?: VariableValues;
  statuses?: string[];
  /** sql: the SQL text with macros. */
  rawSql?: string;
  /** sql: template-variable values, filled in by the datasource when the query runs. */
  variables?: Record<string, string | string[]>;
}

/** jsonData of the datasource (src/settings.rs). */
export interface LakewatchOptions extends DataSourceJsonData {
  engine?: 'local' | 'athena';
  /** local: the lake folder (the one holding aws/). */
  lakePath?: string;
  /**
   * Security Lake source version: "1" (OCSF 1.0.0-rc.2) or "2" (OCSF 1.1.0); absent: Athena
   * discovers the newest version in the Glue database (the local lake uses 2).
   */
  sourceVersion?: string;
  /** Region whose Glue database holds the tables. */
  rollupRegion?: string;
  /** Athena API region. */
  defaultRegion?: string;
  authType?: 'default' | 'keys' | 'credentials' | 'ec2_iam_role';
  profile?: string;
  assumeRoleArn?: string;
  externalId?: string;
  endpoint?: string;
  workgroup?: string;
  outputLocation?: string;
  catalog?: string;
  pricePerTbUsd?: string;
  queryTimeoutSeconds?: number;
  /** Minutes Athena may reuse its own result of the same query (empty: off). */
  resultReuseMinutes?: number;
  maxRows?: number;
  maxSeries?: number;
  lookbackDays?: number;
  /** What a panel's own SQL may read: `securityLake` (default, left out), `any` or `off`. */
  rawSql?: 'securityLake' | 'any' | 'off';
  /**
   * Athena: the Glue database holding the Security Lake tables or resource links to them (empty:
   * Security Lake's own for the rollup region, else discovered among the Glue databases).
   */
  database?: string;
  /** Athena: per-source table names in that database (empty: Security Lake's, or the resource link found). */
  tables?: LakeTables;
  /** Per-team scoping: the only accounts this datasource reads, comma-separated (empty: all). */
  allowedAccounts?: string;
  /** Per-team scoping: the only sources this datasource reads, comma-separated `vpc_flow`, `sh_findings`, `cloud_trail_mgmt`, `route53`, `waf`, `s3_data`, `lambda_execution`, `eks_audit` (empty: all). */
  allowedSources?: string;
  /** Longest time range a query may ask for, days 1–3660 (default 400). */
  maxRangeDays?: number;
  /** Most points per series, 10–100000 (default 10000): maxDataPoints is clamped to it. */
  maxPointsPerSeries?: number;
  /** Local lake: most memory a query's sorts, joins and aggregations may hold, MB (default 2048). */
  localQueryMemoryMb?: number;
  /**
   * How long a finished result is reused, whole seconds 0–86400 (default 300 on Athena, 0 on the
   * local lake; 0: only identical queries in flight are shared).
   */
  cacheTtlSeconds?: number;
  /** Most memory cached results may take, MB 1–65536 (default 256). */
  cacheMaxMb?: number;
  /** Athena: most GB one query may scan, decimal text as typed (absent or 0: no budget). */
  scanBudgetQueryGb?: string;
  /** Athena: most GB one dashboard load may scan, decimal text as typed (absent or 0: no budget). */
  scanBudgetLoadGb?: string;
  /** Athena: also name accounts from AWS Organizations (absent: off). */
  organizationAccountNames?: boolean;
  /** Athena: answer panel queries asynchronously, polled by the browser (absent: on). */
  asyncQueries?: boolean;
  /** Athena: how long one request waits before answering "running", seconds 0–50 (default 5). */
  asyncWaitSeconds?: number;
  /** Athena: most async queries held, running or unclaimed, 1–10000 (default 100). */
  asyncMaxQueries?: number;
  /** Athena: an async query nobody polled for this long is stopped and dropped, seconds 10–3600 (default 120). */
  asyncKeepSeconds?: number;
}

/** secureJsonData of the datasource: secrets, never sent back to the browser. */
export interface LakewatchSecureOptions {
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
}

/** The query a new annotation starts with. */
export const DEFAULT_ANNOTATION_QUERY: Partial<LakewatchQuery> = {
  kind: 'annotations',
  event: 'control_status_changes',
  control: 'EC2.6',
  filters: {},
};

/** The query a new panel starts with. */
export const DEFAULT_QUERY: Partial<LakewatchQuery> = {
  kind: 'flow_volume',
  measure: 'bytes',
  group_by: [],
  filters: {},
};

/** Per-source table names (`tables` in jsonData), keyed like `$__table(vpc_flow)`. */
export interface LakeTables {
  vpc_flow?: string;
  sh_findings?: string;
  cloud_trail_mgmt?: string;
  route53?: string;
  waf?: string;
  s3_data?: string;
  lambda_execution?: string;
  eks_audit?: string;
}
