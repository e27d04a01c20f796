import { DatasourceWithAsyncBackend } from '@grafana/async-query-data';
import { setTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import { CoreApp, dateTime, type AnnotationQuery, type DataFrame, type DataQueryRequest, type DataSourceInstanceSettings } from '@grafana/data';
import { lastValueFrom, of } from 'rxjs';

import { annotationSupport, defaultAnnotationQuery, prepareAnnotation, prepareAnnotationQuery } from './annotations';
import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { ALL_VALUE, LakewatchDataSource, distinctValues, interpolateQuery, referencedVariables, variableQuery } from './datasource';
import type { LakewatchOptions, LakewatchQuery } from './types';

const INSTANCE = {
  id: 1,
  uid: 'lakewatch-demo',
  type: 'lakewatch-securitylake-datasource',
  name: 'Lakewatch',
  access: 'proxy',
  jsonData: {},
  readOnly: false,
  meta: { id: 'lakewatch-securitylake-datasource', name: 'Lakewatch', type: 'datasource', info: {} },
} as unknown as DataSourceInstanceSettings<LakewatchOptions>;

/** A template service holding these variables, formatting like Grafana's (format function gets value and variable). */
function fakeTemplateSrv(vars: Record<string, string | string[]>): TemplateSrv {
  return {
    getVariables: () => Object.keys(vars).map((name) => ({ name })),
    replace: (target: string, _scoped: unknown, format?: unknown) =>
      target.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => {
        const name = a ?? b;
        if (!(name in vars)) {
          return whole;
        }
        const current = vars[name];
        const isAll = current === ALL_VALUE || (Array.isArray(current) && current.includes(ALL_VALUE));
        const value = isAll ? ['111122223333', '444455556666'] : current;
        return typeof format === 'function' ? format(value, { name, current: { value: current } }) : String(value);
      }),
  } as unknown as TemplateSrv;
}

describe('template variables', () => {
  const srv = fakeTemplateSrv({ account: ['111122223333', '444455556666'], region: 'eu-west-1', vpc: [ALL_VALUE], port: '443' });

  it('expands builder filters into value lists, All into $__all', () => {
    const q: LakewatchQuery = {
      refId: 'A',
      kind: 'flow_volume',
      filters: { accounts: '$account', regions: ['${region}', 'us-east-1'], vpcs: '$vpc', dst_ports: ['$port', 22], ip: '10.0.0.0/8' },
    };
    expect(interpolateQuery(srv, q, {}).filters).toEqual({
      accounts: ['111122223333', '444455556666'],
      regions: ['eu-west-1', 'us-east-1'],
      vpcs: ALL_VALUE,
      dst_ports: ['443', 22],
      ip: '10.0.0.0/8',
    });
  });

  it('leaves SQL text alone and sends the values of the variables it uses', () => {
    const q: LakewatchQuery = {
      refId: 'A',
      kind: 'sql',
      rawSql: "SELECT * FROM $__table(vpc_flow) WHERE $__partitionFilter AND accountid IN ($account) AND region = '[[region]]' AND vpc = ${vpc:csv} AND $unknown",
    };
    const out = interpolateQuery(srv, q, {});
    expect(out.rawSql).toBe(q.rawSql);
    expect(out.variables).toEqual({ account: ['111122223333', '444455556666'], region: 'eu-west-1', vpc: ALL_VALUE });
    expect(referencedVariables('$__timeFilter(t) $a ${b} [[c]] ${d:sqlstring}')).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('variable queries', () => {
  it('become variable queries of the backend, narrowed by $account and $region', () => {
    expect(variableQuery('vpcs $account $region')).toEqual({
      refId: 'variable',
      kind: 'variable',
      values: 'vpcs',
      filters: { accounts: '$account', regions: '$region' },
    });
    expect(variableQuery('regions ${account}')).toEqual({ refId: 'variable', kind: 'variable', values: 'regions', filters: { accounts: '${account}' } });
    const lists = ['accounts', 'regions', 'vpcs', 'subnets', 'interfaces', 'enis', 'controls', ' Controls '].map((t) => variableQuery(t).values);
    expect(lists).toEqual(['accounts', 'regions', 'vpcs', 'subnets', 'enis', 'enis', 'controls', 'controls']);
    expect(variableQuery('controls $region').filters).toEqual({ regions: '$region' });
  });

  it('say what to write for an unknown list or narrowing', () => {
    expect(variableQuery('buckets $account').values).toEqual('buckets');
    expect(variableQuery('functions').values).toEqual('functions');
    expect(() => variableQuery('tables')).toThrow(
      'Unknown variable query "tables": write one of accounts, regions, vpcs, subnets, interfaces, controls, principals, principal_types, services, operations, domains, query_types, rcodes, products, finding_types, severities, web_acls, rules, actions, countries, buckets, functions, optionally followed by $account and/or $region to narrow it (e.g. "vpcs $account $region")'
    );
    expect(() => variableQuery('vpcs $site')).toThrow(
      'Variable query "vpcs $site" cannot narrow by "$site": write one of accounts, regions, vpcs, subnets, interfaces, controls, principals, principal_types, services, operations, domains, query_types, rcodes, products, finding_types, severities, web_acls, rules, actions, countries, buckets, functions, optionally followed by $account and/or $region to narrow it (e.g. "vpcs $account $region")'
    );
  });

  it('answer with the distinct sorted values of the value column', () => {
    const frame = {
      fields: [
        { name: 'value', values: ['vpc-b', 'vpc-a', 'vpc-b', null, ''] },
        { name: 'records', values: [3, 2, 1, 4, 5] },
      ],
      length: 5,
    } as unknown as DataFrame;
    expect(distinctValues([frame])).toEqual([
      { text: 'vpc-a', value: 'vpc-a' },
      { text: 'vpc-b', value: 'vpc-b' },
    ]);
  });

  it('run through the backend as one variable query over the dashboard range', async () => {
    const ds = new LakewatchDataSource(INSTANCE);
    const frames = [
      {
        fields: [
          { name: 'value', values: ['EC2.6', 'EC2.10'] },
          { name: 'records', values: [40, 12] },
        ],
        length: 2,
      },
    ];
    const sent: DataQueryRequest<LakewatchQuery>[] = [];
    vi.spyOn(ds, 'query').mockImplementation((request: DataQueryRequest<LakewatchQuery>) => {
      sent.push(request);
      return of({ data: frames });
    });
    const range = { from: dateTime(1717200000000), to: dateTime(1718452800000), raw: { from: 'now-14d', to: 'now' } };
    const values = await ds.metricFindQuery({ query: 'controls $account' }, { range });
    expect(values).toEqual([
      { text: 'EC2.10', value: 'EC2.10' },
      { text: 'EC2.6', value: 'EC2.6' },
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0].targets).toEqual([{ refId: 'variable', kind: 'variable', values: 'controls', filters: { accounts: '$account' } }]);
    expect(sent[0].range).toBe(range);
    expect(ds.getQueryDisplayText(sent[0].targets[0])).toBe('Values of controls');
  });

  it('report the backend error of the variable query', async () => {
    const ds = new LakewatchDataSource(INSTANCE);
    vi.spyOn(ds, 'query').mockReturnValue(of({ data: [], errors: [{ message: 'query field `values` has the value "x"' }] }));
    await expect(ds.metricFindQuery('accounts')).rejects.toThrow('query field `values` has the value "x"');
  });
});

describe('annotations', () => {
  it('are offered with the query editor, starting with EC2.6 status changes', () => {
    const ds = new LakewatchDataSource(INSTANCE);
    expect(ds.annotations).toBe(annotationSupport);
    expect(ds.annotations?.QueryEditor).toBe(AnnotationQueryEditor);
    expect(ds.getDefaultQuery(CoreApp.Dashboard, 'annotations')).toEqual({
      kind: 'annotations',
      event: 'control_status_changes',
      control: 'EC2.6',
      filters: {},
    });
    expect(ds.getDefaultQuery(CoreApp.PanelEditor)).toEqual({ kind: 'flow_volume', measure: 'bytes', group_by: [], filters: {} });
    expect(ds.annotations?.getDefaultQuery?.()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'control_status_changes',
      control: 'EC2.6',
      filters: {},
    });
  });

  it('give a stored annotation without a query the default one, and keep one that has a query', () => {
    const bare = { name: 'EC2.6 changes', enable: true, iconColor: 'red' } as AnnotationQuery<LakewatchQuery>;
    expect(prepareAnnotation(bare)).toEqual({ ...bare, target: defaultAnnotationQuery() });
    const stored = {
      ...bare,
      target: { refId: 'A', kind: 'annotations', event: 'flow_logs_silent', silent_for_minutes: 90, filters: { vpcs: '$vpc' } },
    } as AnnotationQuery<LakewatchQuery>;
    expect(prepareAnnotation(stored)).toBe(stored);
  });

  it('run the annotation target (refId Anno when it has none), or nothing without one', () => {
    const target = { kind: 'annotations', event: 'control_status_changes', control: '$control' } as LakewatchQuery;
    expect(prepareAnnotationQuery({ enable: true, iconColor: 'red', name: 'a', target })).toEqual({ ...target, refId: 'Anno' });
    expect(prepareAnnotationQuery({ enable: true, iconColor: 'red', name: 'a', target: { ...target, refId: 'B' } })?.refId).toBe('B');
    expect(prepareAnnotationQuery({ enable: true, iconColor: 'red', name: 'a' })).toBeUndefined();
  });

  it('expand a control variable to its value, or the list of a multi-value one', () => {
    const srv = fakeTemplateSrv({ control: 'EC2.10', controls: ['EC2.6', 'EC2.10'], region: ALL_VALUE });
    const q: LakewatchQuery = {
      refId: 'Anno',
      kind: 'annotations',
      event: 'control_status_changes',
      control: '$control',
      filters: { regions: '$region' },
    };
    expect(interpolateQuery(srv, q, {})).toEqual({ ...q, control: 'EC2.10', filters: { regions: ALL_VALUE } });
    expect(interpolateQuery(srv, { ...q, control: '${controls}' }, {}).control).toEqual(['EC2.6', 'EC2.10']);
    expect(interpolateQuery(srv, { ...q, control: 'EC2.6' }, {}).control).toBe('EC2.6');
  });
});

describe('async queries (docs/async-queries.md)', () => {
  const range = { from: dateTime(1717200000000), to: dateTime(1718452800000), raw: { from: 'now-14d', to: 'now' } };
  const request = {
    targets: [{ refId: 'A', kind: 'flow_volume' }],
    range,
    scopedVars: {},
    interval: '1h',
    intervalMs: 3_600_000,
    maxDataPoints: 100,
    requestId: 'panel-1',
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  } as unknown as DataQueryRequest<LakewatchQuery>;
  const statusFrame = (status: string) => ({ fields: [], length: 0, meta: { custom: { queryID: 'lw-1', status } } });
  const dataFrame = { fields: [{ name: 'bytes', values: [1000] }], length: 1, meta: { custom: { queryID: 'lw-1', status: 'finished' } } };

  // The backend call the async class makes for each request (its parent's query). Vitest loads
  // the package's own copy of @grafana/runtime, so the parent is looked up, not imported.
  const backendQuery = () => vi.spyOn(Object.getPrototypeOf(DatasourceWithAsyncBackend.prototype), 'query');

  beforeEach(() => {
    setTemplateSrv(fakeTemplateSrv({}));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('send meta.queryFlow async, poll with the queryID while running, and show the finished frames', async () => {
    const ds = new LakewatchDataSource(INSTANCE);
    const answers = [statusFrame('running'), statusFrame('running'), dataFrame];
    // The async fields the frontend adds are not part of LakewatchQuery (the backend strips them).
    const sent: Array<Record<string, unknown>> = [];
    backendQuery().mockImplementation((r: unknown) => {
      sent.push((r as DataQueryRequest<LakewatchQuery>).targets[0] as unknown as Record<string, unknown>);
      return of({ data: [answers.shift()] });
    });
    const response = await lastValueFrom(ds.query(request));
    expect(sent).toHaveLength(3);
    expect(sent.map((q) => [q.meta, q.queryID])).toEqual([
      [{ queryFlow: 'async' }, undefined],
      [{ queryFlow: 'async' }, 'lw-1'],
      [{ queryFlow: 'async' }, 'lw-1'],
    ]);
    expect(response.data).toEqual([dataFrame]);
  });

  it('cancel a running query through the backend when the panel stops listening', async () => {
    const ds = new LakewatchDataSource(INSTANCE);
    backendQuery().mockReturnValue(of({ data: [statusFrame('running')] }));
    const posted: Array<[string, unknown]> = [];
    vi.spyOn(ds, 'postResource').mockImplementation(async (path: string, body?: unknown) => {
      posted.push([path, body]);
      return {};
    });
    const subscription = ds.query(request).subscribe(() => {});
    await new Promise((resolve) => setTimeout(resolve, 5));
    subscription.unsubscribe();
    expect(posted).toEqual([['cancel', { queryId: 'lw-1' }]]);
  });
});
