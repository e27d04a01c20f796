import type { DataSourceInstanceSettings, MetricFindValue, ScopedVars } from '@grafana/data';
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

  /** The label a query shows in the query inspector and in collapsed rows. */
  getQueryDisplayText(query: LakewatchQuery): string {
    return query.kind === 'sql' ? (query.rawSql ?? '') : kindSpec(query.kind).label;
  }
}
