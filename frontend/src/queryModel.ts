import kindsJson from './kinds.json';
import type { AnnotationEvent, FilterName, FlowFilters, LakewatchQuery, QueryKind } from './types';

/** A query field the builder edits (besides `kind` and `filters`). */
export type QueryField =
  | 'measure'
  | 'group_by'
  | 'by'
  | 'limit'
  | 'view'
  | 'scan_by'
  | 'threshold'
  | 'window_minutes'
  | 'own_cidrs'
  | 'silent_for_minutes'
  | 'lookback_days'
  | 'baseline_days'
  | 'min_score'
  | 'min_bytes'
  | 'min_contacts'
  | 'max_jitter_percent'
  | 'min_label_length'
  | 'min_subdomains'
  | 'min_severity'
  | 'format'
  | 'controls'
  | 'statuses'
  | 'event'
  | 'control'
  | 'rawSql';

/** What the editor needs to know about one query kind. */
export interface KindSpec {
  kind: QueryKind;
  label: string;
  description: string;
  /** Menu group; `WAF` is the web firewall group. */
  group: 'Flow' | 'Coverage' | 'Compliance' | 'Findings' | 'CloudTrail' | 'DNS' | 'WAF' | 'Investigate' | 'Annotations' | 'SQL';
  /** The fields this kind reads. */
  fields: QueryField[];
  /** Kinds with events (annotations): the fields each event reads besides `fields`. */
  eventFields?: Record<string, QueryField[]>;
  /** Kinds with events: the filters each event reads (`filters` lists them all). */
  eventFilters?: Record<string, FilterName[]>;
  /** Measures accepted, first is the backend's default. */
  measures: string[];
  /** Dimensions `group_by` accepts (empty: the kind has no group-by). */
  dimensions: string[];
  /** What the backend groups by when `group_by` is left out. */
  defaultGroupBy?: string[];
  /** Values of `view`, first is the default. */
  views?: string[];
  /** Values of `format`, first is the default. */
  formats?: string[];
  /** Filters this kind accepts. */
  filters: FilterName[];
  /** The backend's default `limit`, when it has one. */
  defaultLimit?: number;
  /** The frame the kind answers with. */
  answer?: 'time_series' | 'table' | 'table_or_series' | 'annotations' | 'values';
}

/** Human labels and hints of the filters. */
export const FILTER_INFO: Record<FilterName, { label: string; placeholder: string; single?: string[] }> = {
  accounts: { label: 'Accounts', placeholder: '111122223333, $account' },
  regions: { label: 'Regions', placeholder: 'us-east-1, $region' },
  vpcs: { label: 'VPCs', placeholder: 'vpc-0a1b2c3d, $vpc' },
  subnets: { label: 'Subnets', placeholder: 'subnet-0a1b2c3d' },
  enis: { label: 'Interfaces', placeholder: 'eni-0a1b2c3d' },
  ip: { label: 'IP or CIDR (either side)', placeholder: '10.0.0.0/8, 2001:db8::/32' },
  src_ip: { label: 'Source IP/CIDR', placeholder: '10.0.1.17' },
  dst_ip: { label: 'Destination IP/CIDR', placeholder: '198.51.100.0/24' },
  exclude_ip: { label: 'Exclude IP/CIDR', placeholder: '10.0.0.0/8' },
  ports: { label: 'Ports (either side)', placeholder: '22, 3389' },
  src_ports: { label: 'Source ports', placeholder: '443' },
  dst_ports: { label: 'Destination ports', placeholder: '22, 443' },
  protocols: { label: 'Protocols', placeholder: 'tcp, udp, 47' },
  action: { label: 'Action', placeholder: 'ACCEPT or REJECT', single: ['ACCEPT', 'REJECT'] },
  direction: { label: 'Direction', placeholder: 'ingress or egress', single: ['ingress', 'egress'] },
  boundary: { label: 'Traffic path', placeholder: 'Internet Gateway, 5' },
  src_aws_service: { label: 'Source AWS service', placeholder: 'S3, DYNAMODB' },
  dst_aws_service: { label: 'Destination AWS service', placeholder: 'S3, AMAZON' },
  services: { label: 'Services', placeholder: 'iam, sts.amazonaws.com' },
  operations: { label: 'Operations', placeholder: 'CreateAccessKey, ConsoleLogin' },
  principals: { label: 'Principals (ARN)', placeholder: 'arn:aws:iam::111122223333:user/alice' },
  principal_names: { label: 'User names', placeholder: 'alice, $user' },
  principal_types: { label: 'Identity types', placeholder: 'IAMUser, AssumedRole, Root, AWSService' },
  access_keys: { label: 'Access keys', placeholder: 'AKIAIOSFODNN7EXAMPLE' },
  outcome: { label: 'Outcome', placeholder: 'success or failure', single: ['success', 'failure'] },
  error_codes: { label: 'Error codes', placeholder: 'AccessDenied, Client.UnauthorizedOperation' },
  mfa: { label: 'MFA used', placeholder: 'true or false', single: ['true', 'false'] },
  domains: { label: 'Domains', placeholder: 'api.example.com, $domain' },
  query_types: { label: 'Record types', placeholder: 'A, AAAA, TXT' },
  rcodes: { label: 'Response codes', placeholder: 'NXDOMAIN, SERVFAIL' },
  products: { label: 'Products', placeholder: 'GuardDuty, Inspector, $product' },
  types: { label: 'Finding types', placeholder: 'TTPs/Command and Control/Backdoor:EC2-C&CActivity.B' },
  resources: { label: 'Resources', placeholder: 'i-0abc123 or an ARN' },
  web_acls: { label: 'Web ACLs', placeholder: 'arn:aws:wafv2:…:regional/webacl/shop/…, $web_acl' },
  actions: { label: 'WAF actions', placeholder: 'BLOCK, CAPTCHA' },
  rules: { label: 'WAF rules', placeholder: 'AWS-AWSManagedRulesCommonRuleSet, $rule' },
  rule_types: { label: 'Rule types', placeholder: 'RATE_BASED, MANAGED_RULE_GROUP' },
  countries: { label: 'Countries', placeholder: 'US, DE' },
  hosts: { label: 'Hosts', placeholder: 'shop.example.com' },
  paths: { label: 'URI paths', placeholder: '/login' },
  methods: { label: 'HTTP methods', placeholder: 'GET, POST' },
  buckets: { label: 'Buckets', placeholder: 'reports-111122223333, $bucket' },
  functions: { label: 'Functions', placeholder: 'orders-api, $function' },
  access: { label: 'Read or write', placeholder: 'read or write', single: ['read', 'write'] },
};

/**
 * The query kinds, in menu order: generated from the backend's kind registry (`lakewatch kinds`),
 * so the editor's fields and defaults are the backend's own. A Rust test fails when it is stale.
 */
export const KINDS: KindSpec[] = kindsJson as KindSpec[];

/** The spec of a kind (`flow_volume` when absent, as the backend does). */
export function kindSpec(kind: QueryKind | string | undefined): KindSpec {
  return KINDS.find((k) => k.kind === (kind || 'flow_volume')) ?? KINDS[0];
}

/** The events an `annotations` query can mark, first is the default. */
export const ANNOTATION_EVENTS: Array<{ value: AnnotationEvent; label: string; description: string }> = [
  {
    value: 'control_status_changes',
    label: 'Control status changes',
    description: 'A resource changed status (PASSED, FAILED, …) for a Security Hub control or Config rule',
  },
  {
    value: 'flow_logs_silent',
    label: 'Flow logs went silent',
    description: 'An account, region or VPC sent no flow record for longer than the threshold',
  },
  {
    value: 'iam_changes',
    label: 'IAM changes',
    description: 'A user, access key, role, group or policy was created, deleted, attached or detached',
  },
  {
    value: 'sign_ins',
    label: 'Console sign-ins',
    description: 'Someone signed in to the console (filter by MFA, root, outcome)',
  },
  {
    value: 'new_findings',
    label: 'New findings',
    description: 'A Security Hub finding (GuardDuty, Inspector, Macie, …) was first observed, at or above a severity',
  },
];

/** The event of an annotations query (the default when absent or unknown). */
export function annotationEvent(query: Partial<LakewatchQuery>): AnnotationEvent {
  return ANNOTATION_EVENTS.some((e) => e.value === query.event) ? query.event! : ANNOTATION_EVENTS[0].value;
}

/** The fields a query of this kind reads, with the fields of its event for kinds with events. */
export function fieldsFor(spec: KindSpec, query: Partial<LakewatchQuery>): QueryField[] {
  if (!spec.eventFields) {
    return spec.fields;
  }
  return [...spec.fields, ...(spec.eventFields[annotationEvent(query)] ?? [])];
}

/** The filters a query of this kind reads: those of its event for kinds with events. */
export function filtersFor(spec: KindSpec, query: Partial<LakewatchQuery>): FilterName[] {
  return spec.eventFilters?.[annotationEvent(query)] ?? spec.filters;
}

/** The control an annotation query starts with, and the silence one starts with (minutes). */
export const DEFAULT_CONTROL = 'EC2.6';
export const DEFAULT_SILENT_MINUTES = 60;

/**
 * An annotations query with what its event needs filled in where the user has not given it: the
 * control (EC2.6) for status changes, the silence (60 minutes) for silent flow logs.
 */
export function withEventDefaults(query: LakewatchQuery): LakewatchQuery {
  if (query.kind !== 'annotations') {
    return query;
  }
  const out: LakewatchQuery = { ...query, event: annotationEvent(query) };
  if (out.event === 'control_status_changes' && !out.control) {
    out.control = DEFAULT_CONTROL;
  }
  if (out.event === 'flow_logs_silent' && out.silent_for_minutes === undefined) {
    out.silent_for_minutes = DEFAULT_SILENT_MINUTES;
  }
  return out;
}

/** The macros the backend expands in `sql` queries, with what each becomes. */
export const SQL_MACROS: Array<{ macro: string; insert: string; doc: string }> = [
  { macro: '$__timeFilter(column)', insert: '$__timeFilter(time_dt)', doc: 'column BETWEEN the panel range start and end (UTC)' },
  { macro: '$__timeFrom()', insert: '$__timeFrom()', doc: 'the range start as a UTC timestamp literal' },
  { macro: '$__timeTo()', insert: '$__timeTo()', doc: 'the range end as a UTC timestamp literal' },
  { macro: '$__timeGroup(column, interval)', insert: "$__timeGroup(time_dt, '5m')", doc: 'column truncated to buckets of the interval ($__interval works)' },
  { macro: '$__unixEpochFilter(column)', insert: '$__unixEpochFilter(time)', doc: 'a Unix-epoch-seconds column within the range' },
  { macro: '$__table(source)', insert: '$__table(vpc_flow)', doc: 'the Security Lake table of a source (vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution, eks_audit) for the configured source version' },
  { macro: '$__database', insert: '$__database', doc: 'the Security Lake Glue database of the rollup region' },
  { macro: '$__partitionFilter', insert: '$__partitionFilter', doc: 'partition predicates for the range and the selected accounts/regions: always add it' },
];

/** The SQL a new `sql` query starts with, carrying over the measure and grouping when it can. */
export function starterSql(prev: LakewatchQuery): string {
  const measure = prev.measure === 'bytes' || prev.measure === 'packets' ? prev.measure : 'flows';
  const value = measure === 'flows' ? 'count(*)' : `sum(traffic.${measure})`;
  return [
    `SELECT $__timeGroup(time_dt, '5m') AS time, ${value} AS ${measure}`,
    'FROM $__table(vpc_flow)',
    'WHERE $__partitionFilter AND $__timeFilter(time_dt)',
    'GROUP BY 1',
    'ORDER BY 1',
  ].join('\n');
}

/** Fields Grafana keeps on every query. */
const GRAFANA_FIELDS = ['refId', 'datasource', 'hide', 'key', 'queryType', 'intervalMs', 'maxDataPoints'] as const;

function isEmptyFilter(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

/** The filters a query of a kind (and event) accepts, empty ones dropped. */
export function keepFilters(filters: FlowFilters | undefined, spec: KindSpec, query: Partial<LakewatchQuery> = {}): FlowFilters {
  const out: FlowFilters = {};
  for (const name of filtersFor(spec, query)) {
    const v = filters?.[name];
    if (!isEmptyFilter(v)) {
      (out as Record<string, unknown>)[name] = v;
    }
  }
  return out;
}

/**
 * The query after the user picks another kind: every field the new kind reads and whose value
 * it accepts is kept (from the current query first, then from what earlier kinds held), the rest
 * dropped so the backend sees no field it would reject or ignore.
 */
export function switchKind(prev: LakewatchQuery, kind: QueryKind, remembered: Partial<LakewatchQuery> = {}): LakewatchQuery {
  const spec = kindSpec(kind);
  const source: Partial<LakewatchQuery> = { ...remembered, ...prev };
  // One control and a list of controls stand for each other across the compliance and annotation
  // kinds; what the current query holds wins over what earlier kinds held.
  if (typeof prev.control === 'string' && prev.control !== '' && prev.controls === undefined) {
    source.controls = [prev.control];
  } else if (Array.isArray(prev.controls) && prev.controls.length > 0 && prev.control === undefined) {
    source.control = prev.controls[0];
  }
  const next: LakewatchQuery = { refId: prev.refId, kind };
  for (const f of GRAFANA_FIELDS) {
    const v = (prev as unknown as Record<string, unknown>)[f];
    if (v !== undefined) {
      (next as unknown as Record<string, unknown>)[f] = v;
    }
  }
  for (const field of fieldsFor(spec, source)) {
    const value = pickField(source, field, spec);
    if (value !== undefined) {
      (next as unknown as Record<string, unknown>)[field] = value;
    }
  }
  if (kind === 'sql' && !next.rawSql) {
    next.rawSql = starterSql(prev);
  }
  next.filters = keepFilters(source.filters, spec, next);
  return next;
}

function pickField(source: Partial<LakewatchQuery>, field: QueryField, spec: KindSpec): unknown {
  if (field === 'event') {
    return annotationEvent(source);
  }
  const v: unknown = source[field as keyof LakewatchQuery];
  if (v === undefined || v === null) {
    return undefined;
  }
  switch (field) {
    case 'measure':
      return spec.measures.includes(String(v)) ? v : undefined;
    case 'group_by': {
      const dims = (v as string[]).filter((d) => spec.dimensions.includes(d));
      if (spec.kind === 'annotations') {
        // No grouping is not an annotation grouping: leave it to the backend's default.
        return dims.length > 0 ? dims : undefined;
      }
      return dims.length > 0 || (v as string[]).length === 0 ? dims : undefined;
    }
    case 'view':
      return spec.views?.includes(String(v)) ? v : undefined;
    case 'by': {
      // top_talkers ranks a side; egress_anomaly scores per VPC or ENI; top_blocked ranks clients, URIs or rules.
      const sides =
        spec.kind === 'egress_anomaly' ? ['vpc', 'eni'] : spec.kind === 'top_blocked' ? ['clients', 'uris', 'rules'] : ['src_ip', 'dst_ip', 'either'];
      return sides.includes(String(v)) ? v : undefined;
    }
    case 'format':
      if (spec.formats?.includes(String(v))) {
        return v;
      }
      // table stays table; the two spellings of a time series map onto each other.
      if (v === 'series' && spec.formats?.includes('time_series')) {
        return 'time_series';
      }
      if (v === 'time_series' && spec.formats?.includes('series')) {
        return 'series';
      }
      return undefined;
    case 'limit':
      return spec.kind === 'compliance_status' || Number(v) <= 10_000 ? v : undefined;
    default:
      return v;
  }
}

/** Splits what the user typed in a list box: commas, spaces or new lines. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** A filter's list as the backend likes it: ports as numbers where they are plain numbers. */
export function filterValues(name: FilterName, values: string[]): Array<string | number> {
  const numeric = name === 'ports' || name === 'src_ports' || name === 'dst_ports';
  return values.map((v) => (numeric && /^\d+$/.test(v) ? Number(v) : v));
}

/** A filter value as text for an input box. */
export function filterText(v: FlowFilters[FilterName]): string {
  if (v === undefined || v === null) {
    return '';
  }
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** The number ranges the backend accepts, to check input before it is sent. */
export const NUMBER_RANGES: Partial<Record<QueryField, [number, number]>> = {
  limit: [1, 10_000],
  threshold: [1, 65_535],
  window_minutes: [1, 10_080],
  silent_for_minutes: [1, 129_600],
  lookback_days: [1, 90],
  baseline_days: [3, 28],
  min_score: [1, 1000],
  min_bytes: [0, 1_000_000_000_000],
  min_contacts: [3, 100_000],
  max_jitter_percent: [1, 100],
  min_label_length: [10, 63],
  min_subdomains: [2, 100_000],
};

/** An error text for a number field, or undefined when the value is fine. */
export function numberError(field: QueryField, text: string): string | undefined {
  const range = NUMBER_RANGES[field];
  if (!range || text.trim() === '') {
    return undefined;
  }
  const n = Number(text);
  if (!Number.isInteger(n) || n < range[0] || n > range[1]) {
    return `Enter a whole number from ${range[0]} to ${range[1]}`;
  }
  return undefined;
}
