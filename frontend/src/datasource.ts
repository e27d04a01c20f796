import type { DataFrame, DataQueryRequest, DataSourceInstanceSettings, MetricFindValue, ScopedVars, TimeRange } from '@grafana/data';
import { lastValueFrom } from 'rxjs';
import { DataSourceWithBackend, getTemplateSrv, type TemplateSrv } from '@grafana/runtime';

import { kindSpec } from './queryModel';
import { DEFAULT_QUERY, type FilterValue, type FlowFilters, type LakewatchOptions, type LakewatchQuery } from './types';

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

/** What a variable query may ask for, and the coverage grouping that lists it. */
export const VARIABLE_TARGETS: Record<string, string> = {
  accounts: 'account',
  regions: 'region',
  vpcs: 'vpc',
  subnets: 'subnet',
  interfaces: 'eni',
};

/**
 * The coverage query that lists the values of a variable query (`accounts`, `regions`, `vpcs`,
 * `subnets`, `interfaces`, optionally narrowed by other variables, e.g. `vpcs` of `$account`).
 */
export function variableQuery(text: string): LakewatchQuery {
  const [what, ...rest] = text.trim().split(/\s+/);
  const dim = VARIABLE_TARGETS[what?.toLowerCase() ?? ''];
  if (!dim) {
    throw new Error(
      `Unknown variable query "${text}": write one of ${Object.keys(VARIABLE_TARGETS).join(', ')} (optionally followed by $account $region to narrow it)`
    );
  }
  const filters: FlowFilters = {};
  for (const ref of rest) {
    const m = /^\$\{?(account|region)s?\}?$/.exec(ref);
    if (m) {
      filters[m[1] === 'account' ? 'accounts' : 'regions'] = ref;
    }
  }
  return { refId: 'variable', kind: 'coverage', group_by: [dim], format: 'table', filters };
}

/** The distinct, sorted values of `field` in the frames. */
export function distinctValues(frames: DataFrame[], field: string): MetricFindValue[] {
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

/** The Lakewatch datasource: queries run in the backend; this class shapes them on the way. */
export class LakewatchDataSource extends DataSourceWithBackend<LakewatchQuery, LakewatchOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<LakewatchOptions>) {
    super(instanceSettings);
  }

  getDefaultQuery(): Partial<LakewatchQuery> {
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
   * Dashboard query variables: `accounts`, `regions`, `vpcs`, `subnets` or `interfaces` (with
   * optional `$account`/`$region` narrowing), answered by a coverage query over the time range.
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
    return distinctValues(response.data as DataFrame[], VARIABLE_TARGETS[text.trim().split(/\s+/)[0].toLowerCase()]);
  }

  /** The label a query shows in the query inspector and in collapsed rows. */
  getQueryDisplayText(query: LakewatchQuery): string {
    return query.kind === 'sql' ? (query.rawSql ?? '') : kindSpec(query.kind).label;
  }
}
