/**
 * Every shipped dashboard checked against the dashboard schema of @grafana/schema (the keys each
 * object may have are typed from its Dashboard, Panel, RowPanel, VariableModel and GridPos types,
 * so a schema change that renames or drops a key fails the typecheck here), and against what
 * Lakewatch needs: our datasource on every panel and target, account/region/VPC variables wired
 * into every query, and queries the editor can represent without losing a field.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultDashboard,
  type AnnotationQuery,
  type DataSourceRef,
  type Dashboard,
  type GridPos,
  type Panel,
  type RowPanel,
  type VariableModel,
  type VariableType,
} from '@grafana/schema';

import { kindSpec, switchKind } from '../src/queryModel';
import { variableQuery } from '../src/datasource';
import type { LakewatchQuery } from '../src/types';

const repo = join(__dirname, '..', '..');
const PLUGIN = JSON.parse(readFileSync(join(repo, 'plugin.json'), 'utf8'));
const OUR_TYPE = PLUGIN.id as string;
/** Dashboards name no datasource uid: every reference goes through the `datasource` variable. */
const OUR_UID = '${datasource}';

const keys = <T>(k: Record<keyof T, true>) => new Set(Object.keys(k));
const DASHBOARD_KEYS = keys<Dashboard>({
  annotations: true, description: true, editable: true, fiscalYearStartMonth: true, gnetId: true,
  graphTooltip: true, id: true, links: true, liveNow: true, panels: true, preload: true, refresh: true,
  revision: true, schemaVersion: true, snapshot: true, tags: true, templating: true, time: true,
  timepicker: true, timezone: true, title: true, uid: true, version: true, weekStart: true,
});
const PANEL_KEYS = keys<Panel>({
  autoMigrateFrom: true, cacheTimeout: true, datasource: true, description: true, fieldConfig: true,
  gridPos: true, hideTimeOverride: true, id: true, interval: true, libraryPanel: true, links: true,
  maxDataPoints: true, maxPerRow: true, options: true, pluginVersion: true, queryCachingTTL: true,
  repeat: true, repeatDirection: true, targets: true, timeCompare: true, timeFrom: true, timeShift: true,
  title: true, transformations: true, transparent: true, type: true,
});
const ROW_KEYS = keys<RowPanel>({ collapsed: true, datasource: true, gridPos: true, id: true, panels: true, repeat: true, title: true, type: true });
const VARIABLE_KEYS = keys<VariableModel>({
  allValue: true, allowCustomValue: true, current: true, datasource: true, description: true,
  enableGroupBy: true, hide: true, includeAll: true, label: true, multi: true, name: true, options: true,
  query: true, refresh: true, regex: true, regexApplyTo: true, skipUrlSync: true, sort: true,
  staticOptions: true, staticOptionsOrder: true, type: true, valuesFormat: true,
});
const GRID_KEYS = keys<GridPos>({ h: true, static: true, w: true, x: true, y: true });
const ANNOTATION_KEYS = keys<AnnotationQuery>({
  builtIn: true, datasource: true, enable: true, filter: true, hide: true, iconColor: true, name: true,
  placement: true, snapshotData: true, target: true, type: true,
});
const VARIABLE_TYPES = keys<Record<VariableType, true>>({
  query: true, adhoc: true, groupby: true, constant: true, datasource: true, interval: true, textbox: true,
  custom: true, system: true, snapshot: true, switch: true,
} as Record<keyof Record<VariableType, true>, true>);
// Keys Grafana itself writes on variables and templates beyond the schema's (kept by its exports).
const VARIABLE_EXTRA = new Set(['definition']);

const files = readdirSync(join(repo, 'dashboards')).filter((f) => f.endsWith('.json')).sort();

function unknownKeys(obj: object, allowed: Set<string>, extra: Set<string> = new Set()): string[] {
  return Object.keys(obj).filter((k) => !allowed.has(k) && !extra.has(k));
}

function isOurs(ds: DataSourceRef | null | undefined): boolean {
  return !!ds && ds.type === OUR_TYPE && ds.uid === OUR_UID;
}

describe.each(files)('dashboards/%s', (file) => {
  const dash = JSON.parse(readFileSync(join(repo, 'dashboards', file), 'utf8')) as Dashboard;

  it('follows the current dashboard schema', () => {
    expect(unknownKeys(dash, DASHBOARD_KEYS)).toEqual([]);
    expect(dash.schemaVersion).toBe(defaultDashboard.schemaVersion);
    expect(typeof dash.title).toBe('string');
    expect(dash.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dash.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    for (const a of dash.annotations?.list ?? []) {
      expect(unknownKeys(a, ANNOTATION_KEYS)).toEqual([]);
    }
    const ids = new Set<number>();
    for (const p of dash.panels ?? []) {
      expect(unknownKeys(p, p.type === 'row' ? ROW_KEYS : PANEL_KEYS), `panel ${p.title}`).toEqual([]);
      expect(typeof p.type).toBe('string');
      expect(typeof p.id).toBe('number');
      expect(ids.has(p.id!), `panel id ${p.id} is unique`).toBe(false);
      ids.add(p.id!);
      const g = p.gridPos!;
      expect(unknownKeys(g, GRID_KEYS)).toEqual([]);
      for (const n of [g.h, g.w, g.x, g.y]) {
        expect(Number.isInteger(n) && n >= 0).toBe(true);
      }
      expect(g.w >= 1 && g.x + g.w <= 24, `panel ${p.title} fits the 24-column grid`).toBe(true);
    }
  });

  it('uses the Lakewatch datasource on every panel and target, with queries the editor keeps whole', () => {
    const panels = (dash.panels ?? []).filter((p) => p.type !== 'row') as Panel[];
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      expect(isOurs(p.datasource), `panel ${p.title} datasource`).toBe(true);
      const targets = (p.targets ?? []) as unknown as LakewatchQuery[];
      expect(targets.length, `panel ${p.title} has targets`).toBeGreaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
      for (const t of targets) {
        expect(isOurs(t.datasource), `panel ${p.title} target datasource`).toBe(true);
        const spec = kindSpec(t.kind);
        expect(spec.kind, `panel ${p.title} kind`).toBe(t.kind ?? 'flow_volume');
        // The editor, re-selecting the same kind, keeps every field the dashboard set.
        expect(switchKind(t, spec.kind), `panel ${p.title}`).toEqual({ ...t, filters: t.filters ?? {} });
      }
    }
  });

  it('has annotations on the Lakewatch datasource that the annotation editor keeps whole', () => {
    for (const a of dash.annotations?.list ?? []) {
      const ds = a.datasource as DataSourceRef | undefined;
      if (a.builtIn || ds?.type !== OUR_TYPE) {
        continue;
      }
      expect(isOurs(ds), `annotation ${a.name} datasource`).toBe(true);
      const t = a.target as unknown as LakewatchQuery | undefined;
      expect(t, `annotation ${a.name} has a query`).toBeDefined();
      // The annotation editor offers the annotations kind and SQL; any other kind would be replaced.
      expect(['annotations', 'sql'], `annotation ${a.name} kind`).toContain(t!.kind);
      expect(switchKind(t!, t!.kind!), `annotation ${a.name}`).toEqual({ ...t, filters: t!.filters ?? {} });
    }
  });

  it('has account and region variables (and VPC, where a query reads flows or findings) wired into every query', () => {
    const vars = dash.templating?.list ?? [];
    for (const v of vars) {
      expect(unknownKeys(v, VARIABLE_KEYS, VARIABLE_EXTRA), `variable ${v.name}`).toEqual([]);
      expect(VARIABLE_TYPES.has(v.type)).toBe(true);
      if (v.type === 'query') {
        expect(isOurs(v.datasource as DataSourceRef)).toBe(true);
        expect(() => variableQuery(String(v.query))).not.toThrow();
      }
    }
    const names = vars.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['account', 'region']));
    // A query of a kind that filters by VPC (flows, findings) takes the dashboard's VPC; the
    // CloudTrail kinds have no VPC to filter by.
    const readsVpcs = (t: LakewatchQuery) => t.kind !== 'sql' && kindSpec(t.kind).filters.includes('vpcs');
    const panels = (dash.panels ?? []) as Panel[];
    if (panels.some((p) => ((p.targets ?? []) as unknown as LakewatchQuery[]).some(readsVpcs))) {
      expect(names).toContain('vpc');
    }
    const ds = vars.find((v) => v.type === 'datasource');
    expect(ds?.name).toBe('datasource');
    expect(ds?.query).toBe(OUR_TYPE);
    expect(Object.keys(ds?.current ?? {})).toEqual([]);
    for (const p of (dash.panels ?? []) as Panel[]) {
      for (const t of (p.targets ?? []) as unknown as LakewatchQuery[]) {
        expect(t.filters?.accounts, `panel ${p.title}`).toBe('$account');
        expect(t.filters?.regions, `panel ${p.title}`).toBe('$region');
        if (readsVpcs(t)) {
          expect(t.filters?.vpcs, `panel ${p.title}`).toBe('$vpc');
        }
      }
    }
  });
});

it('plugin.json includes exactly the shipped dashboards', () => {
  const included = (PLUGIN.includes as Array<{ type: string; path: string }>)
    .filter((i) => i.type === 'dashboard')
    .map((i) => i.path)
    .sort();
  expect(included).toEqual(files.map((f) => `dashboards/${f}`));
});
