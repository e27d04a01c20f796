import type { CoreApp, DataFrame, DataQueryRequest, DataSourceInstanceSettings, MetricFindValue, ScopedVars, TimeRange } from '@grafana/data';
import { lastValueFrom } from 'rxjs';
import { DatasourceWithAsyncBackend } from '@grafana/async-query-data';
import { getTemplateSrv, type TemplateSrv } from '@grafana/runtime';

import { annotationSupport, defaultAnnotationQuery } from './annotations';
import { kindSpec } from './queryModel';
import {
  DEFAULT_QUERY,
  type FilterValue,
  type FlowFilters,
  type LakewatchOptions,
  type LakewatchQuery,
  type VariableValues,
} from './types';

/** The value Grafana's "All" becomes; the backend reads it as "no restriction". */
export const ALL_VALUE = '$__all';

/** Matches `$name`, `${name}`, `${name:format}` and `[[name]]` references in SQL text. */
const VARIABLE_REF = /\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]/g;

/**
 * Expands the template variables in one filter value to the list of values they stand for.
 * A variable set to "All" (with no custom all value) gives `$__all`.
 */
export function expandValue(templateSrv: TemplateSrv, value: string, scopedVars: ScopedVars): string[] {
  if (!value.includes('$') && !value.includes('[[')) {
    return [value];
  }
  const parts: string[] = [];
  let sawAll = false;
  const text = templateSrv.replace(value, scopedVars, (v: string | string[], variable?: { current?: { value?: unknown } }) => {
    const current = variable?.current?.value;
    if (current === ALL_VALUE || (Array.isArray(current) && current.includes(ALL_VALUE))) {
      sawAll = true;
    }
    const list = Array.isArray(v) ? v : [v];
    parts.push(...list.map(String));
    return '\u001f';
  });
  if (sawAll) {
    return [ALL_VALUE];
  }
  if (!text.includes('\u001f')) {
    return [text];
  }
  // The reference was the whole value: its values; otherwise keep the surrounding text around each.
  const [before, after] = [text.slice(0, text.indexOf('\u001f')), text.slice(text.indexOf('\u001f') + 1)];
  return parts.map((p) => `${before}${p}${after.replace(/\u001f/g, '')}`);
}

function expandFilter(templateSrv: TemplateSrv, value: FilterValue, scopedVars: ScopedVars): FilterValue {
  const items = Array.isArray(value) ? value : [value];
  const out: Array<string | number> = [];
  for (const item of items) {
    if (typeof item === 'number') {
      out.push(item);
    } else {
      out.push(...expandValue(templateSrv, item, scopedVars));
    }
  }
  if (out.includes(ALL_VALUE)) {
    return ALL_VALUE;
  }
  return Array.isArray(value) || out.length !== 1 ? out : out[0];
}

/** The names of the variables a SQL text refers to (not Grafana's own `$__` macros). */
export function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(VARIABLE_REF)) {
    const name = m[1] ?? m[2] ?? m[3];
    if (name && !name.startsWith('__')) {
      names.add(name);
    }
  }
  return [...names];
}

/**
 * Interpolates a query's template variables the Lakewatch way: builder filters get the values
 * as lists; SQL text is left untouched and the values of the variables it uses travel in
 * `variables`, so the backend validates each value and renders it as an escaped literal.
 */
export function interpolateQuery(templateSrv: TemplateSrv, query: LakewatchQuery, scopedVars: ScopedVars): LakewatchQuery {
  const out: LakewatchQuery = { ...query };
  if (query.filters) {
    const filters: FlowFilters = {};
    for (const [name, value] of Object.entries(query.filters) as Array<[keyof FlowFilters, FilterValue]>) {
      if (value !== undefined && value !== null) {
        (filters as Record<string, FilterValue>)[name] = expandFilter(templateSrv, value, scopedVars);
      }
    }
    out.filters = filters;
  }
  for (const field of ['controls', 'statuses', 'own_cidrs', 'group_by'] as const) {
    const list = query[field];
    if (Array.isArray(list)) {
      const expanded = list.flatMap((v) => expandValue(templateSrv, v, scopedVars)).filter((v) => v !== ALL_VALUE);
      (out as unknown as Record<string, string[]>)[field] = expanded;
    }
  }
  if (typeof query.control === 'string' && query.control !== '') {
    const values = expandValue(templateSrv, query.control, scopedVars);
    out.control = values.length === 1 ? values[0] : values;
  }
  if (query.kind === 'sql' && query.rawSql) {
    const known = new Set(templateSrv.getVariables().map((v) => v.name));
    const variables: Record<string, string | string[]> = {};
    for (const name of referencedVariables(query.rawSql)) {
      if (known.has(name) || scopedVars[name]) {
        const values = expandValue(templateSrv, `\${${name}}`, scopedVars);
        variables[name] = values.length === 1 ? values[0] : values;
      }
    }
    out.variables = variables;
  }
  return out;
}

/** The words a variable query may start with, and what the backend's `variable` kind lists for each. */
export const VARIABLE_TARGETS: Record<string, VariableValues> = {
  accounts: 'accounts',
  regions: 'regions',
  vpcs: 'vpcs',
  subnets: 'subnets',
  interfaces: 'enis',
  enis: 'enis',
  controls: 'controls',
  principals: 'principals',
  principal_types: 'principal_types',
  services: 'services',
  operations: 'operations',
  domains: 'domains',
  query_types: 'query_types',
  rcodes: 'rcodes',
  products: 'products',
  finding_types: 'finding_types',
  severities: 'severities',
  web_acls: 'web_acls',
  rules: 'rules',
  actions: 'actions',
  countries: 'countries',
  buckets: 'buckets',
  functions: 'functions',
};

/** The words shown in messages (`enis` is accepted as another spelling of `interfaces`). */
const VARIABLE_WORDS = [
  'accounts',
  'regions',
  'vpcs',
  'subnets',
  'interfaces',
  'controls',
  'principals',
  'principal_types',
  'services',
  'operations',
  'domains',
  'query_types',
  'rcodes',
  'products',
  'finding_types',
  'severities',
  'web_acls',
  'rules',
  'actions',
  'countries',
  'buckets',
  'functions',
];

/** The column of a `variable` frame that holds the values (the other one, `records`, counts them). */
export const VARIABLE_VALUE_FIELD = 'value';

/**
 * The `variable` query that lists the values of a dashboard variable query: `accounts`,
 * `regions`, `vpcs`, `subnets`, `interfaces`, `controls`, or of CloudTrail `principals`,
 * `principal_types`, `services` or `operations`, of Route 53 `domains`, `query_types` or `rcodes`, of findings `products`, `finding_types` or `severities`, of WAF `web_acls`, `rules`, `actions` or `countries`, of the data events `buckets` or `functions`, optionally narrowed by other
 * variables, e.g. `vpcs $account $region`.
 */
export function variableQuery(text: string): LakewatchQuery {
  const [what, ...rest] = text.trim().split(/\s+/);
  const values = VARIABLE_TARGETS[what?.toLowerCase() ?? ''];
  const usage = `write one of ${VARIABLE_WORDS.join(', ')}, optionally followed by $account and/or $region to narrow it (e.g. "vpcs $account $region")`;
  if (!values) {
    throw new Error(`Unknown variable query "${text.trim()}": ${usage}`);
  }
  const filters: FlowFilters = {};
  for (const ref of rest) {
    const m = /^\$\{?(account|region)s?\}?$/.exec(ref);
    if (!m) {
      throw new Error(`Variable query "${text.trim()}" cannot narrow by "${ref}": ${usage}`);
    }
    filters[m[1] === 'account' ? 'accounts' : 'regions'] = ref;
  }
  return { refId: 'variable', kind: 'variable', values, filters };
}

/** The distinct, sorted values of `field` in the frames. */
export function distinctValues(frames: DataFrame[], field: string = VARIABLE_VALUE_FIELD): MetricFindValue[] {
  const seen = new Set<string>();
  for (const frame of frames) {
    const f = frame.fields.find((x) => x.name === field);
    for (const v of f?.values ?? []) {
      if (v !== null && v !== undefined && String(v) !== '') {
        seen.add(String(v));
      }
    }
  }
  return [...seen].sort().map((v) => ({ text: v, value: v }));
}

/**
 * The Lakewatch datasource: queries run in the backend; this class shapes them on the way.
 *
 * Panel queries use the async flow of `@grafana/async-query-data` (docs/async-queries.md): each
 * query is sent with `meta.queryFlow: "async"`; while the backend answers `meta.custom.status`
 * `running` the query is sent again with its `queryID`, and leaving the panel cancels it through
 * the backend's `cancel` resource. So no request outlives Amazon Managed Grafana's 60 s proxy.
 */
export class LakewatchDataSource extends DatasourceWithAsyncBackend<LakewatchQuery, LakewatchOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<LakewatchOptions>) {
    super(instanceSettings);
    // Grafana's annotation editor shows our query editor (annotations kind) and runs the query
    // through the backend; frames with time, timeEnd, text and tags become annotations.
    this.annotations = annotationSupport;
  }

  /** A new panel's query; a new annotation's (newer Grafana versions say which they ask for). */
  getDefaultQuery(_app?: CoreApp, kind?: string): Partial<LakewatchQuery> {
    if (kind === 'annotations') {
      const { refId: _refId, ...query } = defaultAnnotationQuery();
      return query;
    }
    return DEFAULT_QUERY;
  }

  /** Hidden queries and SQL queries without text are not sent. */
  filterQuery(query: LakewatchQuery): boolean {
    if (query.hide) {
      return false;
    }
    return !(query.kind === 'sql' && !query.rawSql?.trim());
  }

  applyTemplateVariables(query: LakewatchQuery, scopedVars: ScopedVars): LakewatchQuery {
    return interpolateQuery(getTemplateSrv(), query, scopedVars);
  }

  /**
   * Values for the builder's dropdowns (accounts, regions, vpcs, controls) from the backend's
   * resources; an empty list when the backend does not offer that resource.
   */
  async listValues(resource: 'accounts' | 'regions' | 'vpcs' | 'controls'): Promise<MetricFindValue[]> {
    try {
      const answer: unknown = await this.getResource(resource);
      const list = Array.isArray(answer) ? answer : (answer as { values?: unknown[] })?.values;
      return (list ?? []).map((v) => (typeof v === 'string' ? { text: v, value: v } : (v as MetricFindValue)));
    } catch {
      return [];
    }
  }

  /**
   * Dashboard query variables: `accounts`, `regions`, `vpcs`, `subnets`, `interfaces` or
   * `controls` (with optional `$account`/`$region` narrowing), answered by the backend's `variable`
   * kind: the values seen in the dashboard's time range.
   */
  async metricFindQuery(query: string | { query?: string }, options?: { range?: TimeRange; scopedVars?: ScopedVars }): Promise<MetricFindValue[]> {
    const text = typeof query === 'string' ? query : (query?.query ?? '');
    const target = variableQuery(text);
    const request = {
      targets: [target],
      range: options?.range,
      scopedVars: options?.scopedVars ?? {},
      interval: '1m',
      intervalMs: 60_000,
      maxDataPoints: 1000,
      requestId: 'lakewatch-variable',
      timezone: 'utc',
      app: 'dashboard',
      startTime: Date.now(),
    } as unknown as DataQueryRequest<LakewatchQuery>;
    const response = await lastValueFrom(this.query(request));
    if (response.errors?.length) {
      throw new Error(response.errors[0].message ?? 'variable query failed');
    }
    return distinctValues(response.data as DataFrame[]);
  }

  /** The label a query shows in the query inspector and in collapsed rows. */
  getQueryDisplayText(query: LakewatchQuery): string {
    if (query.kind === 'sql') {
      return query.rawSql ?? '';
    }
    if (query.kind === 'variable') {
      return `Values of ${query.values ?? '?'}`;
    }
    return kindSpec(query.kind).label;
  }
}
