import React from 'react';
import { render, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { AnnotationQueryEditor, annotationTarget } from './AnnotationQueryEditor';
import { QueryEditor } from './QueryEditor';
import { defaultAnnotationQuery } from '../annotations';
import type { LakewatchDataSource } from '../datasource';
import { DEFAULT_QUERY, type LakewatchQuery } from '../types';
import { Stateful, choose, setText } from '../../tests/helpers';

// Queries against the current document body.
const page = () => within(document.body);

const datasource = {
  listValues: async (resource: string) => (resource === 'controls' ? [{ text: 'EC2.10', value: 'EC2.10' }, { text: 'S3.1', value: 'S3.1' }] : []),
} as unknown as LakewatchDataSource;

function setup(initial: LakewatchQuery, annotation = true) {
  const seen: LakewatchQuery[] = [];
  const runs = { count: 0 };
  render(
    <Stateful<LakewatchQuery>
      initial={initial}
      seen={seen}
      render={(query, onChange) =>
        annotation ? (
          <AnnotationQueryEditor query={query} onChange={onChange} onRunQuery={() => runs.count++} datasource={datasource} />
        ) : (
          <QueryEditor query={query} onChange={onChange} onRunQuery={() => runs.count++} datasource={datasource} />
        )
      }
    />
  );
  const last = () => JSON.parse(JSON.stringify(seen[seen.length - 1])) as LakewatchQuery;
  return { seen, runs, last, user: userEvent.setup() };
}

describe('Annotation query editor', () => {
  it('builds a control_status_changes query with a control variable and partition filters', async () => {
    const { user, last, runs } = setup(defaultAnnotationQuery());
    expect(page().getByTestId('lakewatch-annotation-editor')).toBeInTheDocument();
    expect(page().getByTestId('lakewatch-annotation-help')).toHaveTextContent('Each row becomes an annotation from its time to its timeEnd');
    await choose(user, 'lakewatch-control', '$control');
    await choose(user, 'lakewatch-add-filter', 'Accounts');
    await choose(user, 'lakewatch-filter-accounts', '$account');
    await choose(user, 'lakewatch-add-filter', 'Regions');
    await choose(user, 'lakewatch-filter-regions', 'eu-west-1');
    await choose(user, 'lakewatch-add-filter', 'VPCs');
    await choose(user, 'lakewatch-filter-vpcs', '$vpc');
    expect(last()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'control_status_changes',
      control: '$control',
      filters: { accounts: ['$account'], regions: ['eu-west-1'], vpcs: ['$vpc'] },
    });
    // Only the partition and resource filters exist for annotations.
    await user.click(document.getElementById('lakewatch-add-filter')!);
    expect(page().queryByText('Destination ports')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(runs.count).toBeGreaterThan(0);
  });

  it('builds a flow_logs_silent query, and switching events back restores the control', async () => {
    const { user, last } = setup({ ...defaultAnnotationQuery(), control: 'EC2.10', filters: { regions: ['us-east-1'] } });
    await choose(user, 'lakewatch-event', 'Flow logs went silent');
    expect(last()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'flow_logs_silent',
      silent_for_minutes: 60,
      filters: { regions: ['us-east-1'] },
    });
    expect(document.getElementById('lakewatch-control')).toBeNull();
    setText(document.getElementById('lakewatch-silent_for_minutes')!, '90');
    await choose(user, 'lakewatch-group-by', 'account');
    await choose(user, 'lakewatch-group-by', 'region');
    await choose(user, 'lakewatch-group-by', 'vpc');
    expect(last()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'flow_logs_silent',
      silent_for_minutes: 90,
      group_by: ['account', 'region', 'vpc'],
      filters: { regions: ['us-east-1'] },
    });
    // Group-by offers the annotation groupings only.
    await user.click(document.getElementById('lakewatch-group-by')!);
    expect(page().queryByText('dst_port')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    setText(document.getElementById('lakewatch-silent_for_minutes')!, '0');
    expect(page().getByText('Enter a whole number from 1 to 129600')).toBeInTheDocument();
    expect(last().silent_for_minutes).toBe(90);

    await choose(user, 'lakewatch-event', 'Control status changes');
    expect(last()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'control_status_changes',
      control: 'EC2.10',
      filters: { regions: ['us-east-1'] },
    });
    await choose(user, 'lakewatch-event', 'Flow logs went silent');
    expect(last()).toMatchObject({ event: 'flow_logs_silent', silent_for_minutes: 90, group_by: ['account', 'region', 'vpc'] });
    expect('control' in last()).toBe(false);
  });

  it('builds sign-in and new-finding annotations, each offering only the filters its event reads', async () => {
    const { user, last } = setup({ ...defaultAnnotationQuery(), filters: { accounts: ['$account'], vpcs: ['$vpc'] } });
    await choose(user, 'lakewatch-event', 'Console sign-ins');
    expect(last()).toEqual({ refId: 'Anno', kind: 'annotations', event: 'sign_ins', filters: { accounts: ['$account'] } });
    await choose(user, 'lakewatch-add-filter', 'MFA used');
    await choose(user, 'lakewatch-filter-mfa', 'false');
    expect(last()).toEqual({ refId: 'Anno', kind: 'annotations', event: 'sign_ins', filters: { accounts: ['$account'], mfa: 'false' } });
    // Sign-ins carry no VPC.
    await user.click(document.getElementById('lakewatch-add-filter')!);
    expect(page().queryByText('VPCs')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    await choose(user, 'lakewatch-event', 'New findings');
    expect(last()).toEqual({ refId: 'Anno', kind: 'annotations', event: 'new_findings', filters: { accounts: ['$account'] } });
    await user.click(page().getByLabelText('Critical'));
    expect(last()).toEqual({ refId: 'Anno', kind: 'annotations', event: 'new_findings', min_severity: 'Critical', filters: { accounts: ['$account'] } });
  });

  it('keeps the panel defaults Grafana lays under a stored target out of the saved annotation', async () => {
    // StandardAnnotationQueryEditor shows { ...datasource.getDefaultQuery(), ...annotation.target }.
    const stored: LakewatchQuery = { refId: 'Anno', kind: 'annotations', event: 'flow_logs_silent', silent_for_minutes: 30, filters: { vpcs: '$vpc' } };
    const { user, last } = setup({ ...(DEFAULT_QUERY as LakewatchQuery), ...stored });
    await choose(user, 'lakewatch-group-by', 'vpc');
    expect(last()).toEqual({ ...stored, group_by: ['vpc'] });
    expect(annotationTarget({ ...(DEFAULT_QUERY as LakewatchQuery), ...stored })).toEqual(stored);
    const sql: LakewatchQuery = { refId: 'Anno', kind: 'sql', rawSql: 'SELECT 1', format: 'table', filters: {} };
    expect(annotationTarget({ ...(DEFAULT_QUERY as LakewatchQuery), ...sql })).toEqual(sql);
  });

  it('turns a target of another kind into an annotations query and offers only that kind', async () => {
    const { user, last } = setup({ refId: 'Anno', kind: 'flow_volume', measure: 'bytes', filters: { accounts: '$account', dst_ports: [22] } });
    expect(last()).toEqual({
      refId: 'Anno',
      kind: 'annotations',
      event: 'control_status_changes',
      control: 'EC2.6',
      filters: { accounts: '$account' },
    });
    await user.click(document.getElementById('lakewatch-kind')!);
    expect(page().queryByText('Flow volume')).not.toBeInTheDocument();
    await user.keyboard('{Escape}');
  });

  it('names what is wrong with a control that is not one', async () => {
    const { user } = setup(defaultAnnotationQuery());
    await choose(user, 'lakewatch-control', "EC2.6' OR 1=1");
    expect(
      page().getByText(
        `"EC2.6' OR 1=1" is not a control: enter one Security Hub control id such as EC2.6, a Config rule name such as vpc-flow-logs-enabled, or a dashboard variable such as $control`
      )
    ).toBeInTheDocument();
  });
});

describe('Annotations kind in the panel query editor', () => {
  it('takes its control from a compliance query and gives it back', async () => {
    const { user, last } = setup({ refId: 'A', kind: 'compliance_status', controls: ['EC2.10'], view: 'counts', filters: { vpcs: ['$vpc'] } }, false);
    await choose(user, 'lakewatch-kind', 'Annotations');
    expect(last()).toEqual({
      refId: 'A',
      kind: 'annotations',
      event: 'control_status_changes',
      control: 'EC2.10',
      filters: { vpcs: ['$vpc'] },
    });
    await choose(user, 'lakewatch-control', 'S3.1');
    await choose(user, 'lakewatch-kind', 'Compliance over time');
    expect(last()).toEqual({ refId: 'A', kind: 'compliance_over_time', controls: ['S3.1'], filters: { vpcs: ['$vpc'] } });
  });
});
