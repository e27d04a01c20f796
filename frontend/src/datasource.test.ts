import type { TemplateSrv } from '@grafana/runtime';
import type { DataFrame } from '@grafana/data';

import { ALL_VALUE, distinctValues, interpolateQuery, referencedVariables, variableQuery } from './datasource';
import type { LakewatchQuery } from './types';

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
  it('become coverage queries grouped by the asked dimension', () => {
    expect(variableQuery('vpcs $account $region')).toEqual({
      refId: 'variable',
      kind: 'coverage',
      group_by: ['vpc'],
      format: 'table',
      filters: { accounts: '$account', regions: '$region' },
    });
    expect(variableQuery('accounts').group_by).toEqual(['account']);
    expect(() => variableQuery('buckets')).toThrow(
      'Unknown variable query "buckets": write one of accounts, regions, vpcs, subnets, interfaces (optionally followed by $account $region to narrow it)'
    );
  });

  it('answer with the distinct sorted values of the column', () => {
    const frame = { fields: [{ name: 'vpc', values: ['vpc-b', 'vpc-a', 'vpc-b', null] }], length: 4 } as unknown as DataFrame;
    expect(distinctValues([frame], 'vpc')).toEqual([
      { text: 'vpc-a', value: 'vpc-a' },
      { text: 'vpc-b', value: 'vpc-b' },
    ]);
  });
});
