import React from 'react';
import { render, within } from '@testing-library/react';

// Queries against the current document body.
const page = () => within(document.body);
import userEvent from '@testing-library/user-event';

import { QueryEditor } from './QueryEditor';
import type { LakewatchDataSource } from '../datasource';
import type { LakewatchQuery } from '../types';
import { Stateful, choose, setText } from '../../tests/helpers';

const datasource = { listValues: async () => [] } as unknown as LakewatchDataSource;

function setup(initial: LakewatchQuery) {
  const seen: LakewatchQuery[] = [];
  const runs = { count: 0 };
  render(
    <Stateful<LakewatchQuery>
      initial={initial}
      seen={seen}
      render={(query, onChange) => (
        <QueryEditor query={query} onChange={onChange} onRunQuery={() => runs.count++} datasource={datasource} />
      )}
    />
  );
  const last = () => JSON.parse(JSON.stringify(seen[seen.length - 1])) as LakewatchQuery;
  return { seen, runs, last, user: userEvent.setup() };
}

const START: LakewatchQuery = { refId: 'A', kind: 'flow_volume', measure: 'bytes', group_by: [], filters: {} };

describe('QueryEditor builder', () => {
  it('builds a flow_volume query with measure, group-by, top N and filters', async () => {
    const { user, last } = setup(START);
    await user.click(page().getByLabelText('Packets'));
    await choose(user, 'lakewatch-group-by', 'account');
    await choose(user, 'lakewatch-group-by', 'vpc');
    setText(document.getElementById('lakewatch-limit')!, '5');
    await choose(user, 'lakewatch-add-filter', 'Accounts');
    await choose(user, 'lakewatch-filter-accounts', '111122223333');
    await choose(user, 'lakewatch-add-filter', 'Destination ports');
    setText(document.getElementById('lakewatch-filter-dst_ports')!, '443, 80');
    await choose(user, 'lakewatch-add-filter', 'Action');
    await choose(user, 'lakewatch-filter-action', 'REJECT');
    await choose(user, 'lakewatch-add-filter', 'IP or CIDR');
    setText(document.getElementById('lakewatch-filter-ip')!, '10.0.0.0/8 $site');
    expect(last()).toEqual({
      refId: 'A',
      kind: 'flow_volume',
      measure: 'packets',
      group_by: ['account', 'vpc'],
      limit: 5,
      filters: {
        accounts: ['111122223333'],
        dst_ports: [443, 80],
        action: 'REJECT',
        ip: ['10.0.0.0/8', '$site'],
      },
    });
  });

  it('keeps what the new kind accepts when the kind changes, and drops the rest', async () => {
    const { user, last, runs } = setup({
      ...START,
      measure: 'flows',
      group_by: ['dst_port', 'account'],
      limit: 8,
      filters: { action: 'REJECT', regions: ['us-east-1'] },
    });
    await choose(user, 'lakewatch-kind', 'Top talkers');
    expect(last()).toEqual({
      refId: 'A',
      kind: 'top_talkers',
      measure: 'flows',
      limit: 8,
      filters: { action: 'REJECT', regions: ['us-east-1'] },
    });
    await user.click(page().getByLabelText('Either side'));
    expect(last().by).toBe('either');
    await choose(user, 'lakewatch-kind', 'Compliance over time');
    // Compliance takes accounts/regions/vpcs only and its own measures; the group-by comes back
    // from what flow_volume held, as far as compliance accepts it.
    expect(last()).toEqual({
      refId: 'A',
      kind: 'compliance_over_time',
      group_by: ['account'],
      filters: { regions: ['us-east-1'] },
    });
    await choose(user, 'lakewatch-kind', 'Flow volume');
    expect(last()).toEqual({
      refId: 'A',
      kind: 'flow_volume',
      measure: 'flows',
      group_by: ['account'],
      limit: 8,
      filters: { action: 'REJECT', regions: ['us-east-1'] },
    });
    expect(runs.count).toBeGreaterThanOrEqual(3);
  });

  it('builds the compliance and port-scan queries the dashboards use', async () => {
    const { user, last } = setup(START);
    await choose(user, 'lakewatch-kind', 'Compliance status');
    await choose(user, 'lakewatch-controls', 'EC2.6');
    await user.click(page().getByLabelText('Counts'));
    expect(last()).toEqual({ refId: 'A', kind: 'compliance_status', controls: ['EC2.6'], view: 'counts', filters: {} });
    await user.click(page().getByLabelText('Table'));
    await choose(user, 'lakewatch-statuses', 'FAILED');
    expect(last()).toEqual({
      refId: 'A',
      kind: 'compliance_status',
      controls: ['EC2.6'],
      view: 'table',
      statuses: ['FAILED'],
      filters: {},
    });
    await choose(user, 'lakewatch-kind', 'Port scans');
    await user.click(page().getByLabelText('Hosts'));
    setText(document.getElementById('lakewatch-threshold')!, '5');
    setText(document.getElementById('lakewatch-window_minutes')!, '10');
    expect(last()).toEqual({ refId: 'A', kind: 'port_scan', scan_by: 'hosts', threshold: 5, window_minutes: 10, filters: {} });
  });

  it('refuses numbers the backend would reject and says what is accepted', async () => {
    const { seen } = setup({ ...START, limit: 5 });
    const before = seen.length;
    setText(document.getElementById('lakewatch-limit')!, '20000');
    expect(page().getByText('Enter a whole number from 1 to 10000')).toBeInTheDocument();
    expect(seen.length).toBe(before);
    setText(document.getElementById('lakewatch-limit')!, '');
    expect(seen[seen.length - 1].limit).toBeUndefined();
    expect('limit' in seen[seen.length - 1]).toBe(false);
  });
});

describe('QueryEditor SQL', () => {
  it('switches to SQL keeping the partition filters, lists the macros, and switches back losslessly', async () => {
    const { user, last } = setup({
      ...START,
      measure: 'packets',
      group_by: ['vpc'],
      filters: { accounts: ['111122223333'], dst_ports: [22] },
    });
    await user.click(page().getByLabelText('SQL'));
    const sql = last();
    expect(sql).toEqual({
      refId: 'A',
      kind: 'sql',
      rawSql: [
        "SELECT $__timeGroup(time_dt, '5m') AS time, sum(traffic.packets) AS packets",
        'FROM $__table(vpc_flow)',
        'WHERE $__partitionFilter AND $__timeFilter(time_dt)',
        'GROUP BY 1',
        'ORDER BY 1',
      ].join('\n'),
      filters: { accounts: ['111122223333'] },
    });
    const macros = page().getByTestId('lakewatch-macros');
    for (const m of [
      '$__timeFilter(column)',
      '$__timeFrom()',
      '$__timeTo()',
      '$__timeGroup(column, interval)',
      '$__unixEpochFilter(column)',
      '$__table(source)',
      '$__database',
      '$__partitionFilter',
    ]) {
      expect(macros).toHaveTextContent(m);
    }
    setText(document.getElementById('lakewatch-sql')!, 'SELECT count(*) AS flows FROM $__table(vpc_flow) WHERE');
    await user.click(page().getByRole('button', { name: 'Insert $__partitionFilter' }));
    await user.click(page().getByLabelText('Time series'));
    expect(last()).toEqual({
      refId: 'A',
      kind: 'sql',
      rawSql: 'SELECT count(*) AS flows FROM $__table(vpc_flow) WHERE $__partitionFilter',
      format: 'time_series',
      filters: { accounts: ['111122223333'] },
    });
    await user.click(page().getByLabelText('Builder'));
    expect(last()).toEqual({
      refId: 'A',
      kind: 'flow_volume',
      measure: 'packets',
      group_by: ['vpc'],
      filters: { accounts: ['111122223333'], dst_ports: [22] },
    });
    await user.click(page().getByLabelText('SQL'));
    expect(last().rawSql).toBe('SELECT count(*) AS flows FROM $__table(vpc_flow) WHERE $__partitionFilter');
    expect(last().format).toBe('time_series');
  });
});
