import React from 'react';
import { act, render, within } from '@testing-library/react';

// Queries against the current document body.
const page = () => within(document.body);
import userEvent from '@testing-library/user-event';
import type { DataSourceSettings } from '@grafana/data';

import { ConfigEditor, settingError } from './ConfigEditor';
import type { LakewatchOptions, LakewatchSecureOptions } from '../types';
import { Stateful, choose, setText } from '../../tests/helpers';

type Options = DataSourceSettings<LakewatchOptions, LakewatchSecureOptions>;

function baseOptions(patch: Partial<Options> = {}): Options {
  return {
    id: 1,
    uid: 'lakewatch-demo',
    orgId: 1,
    name: 'Lakewatch',
    type: 'lakewatch-securitylake-datasource',
    typeName: 'Lakewatch',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...patch,
  } as Options;
}

function setup(initial: Options) {
  const seen: Options[] = [];
  render(
    <Stateful<Options>
      initial={initial}
      seen={seen}
      render={(options, onOptionsChange) => <ConfigEditor options={options} onOptionsChange={onOptionsChange} />}
    />
  );
  return { seen, last: () => seen[seen.length - 1], user: userEvent.setup() };
}

const input = (key: string) => document.getElementById(`lakewatch-${key}`) as HTMLInputElement;

describe('ConfigEditor', () => {
  it('configures Athena with access keys: settings in jsonData, secrets only in secureJsonData', async () => {
    const { user, last } = setup(baseOptions());
    expect(page().getByLabelText('Local lake')).toBeChecked();
    await user.click(page().getByLabelText('Amazon Athena'));
    setText(input('defaultRegion'), 'eu-west-1');
    await choose(user, 'lakewatch-authType', 'Access and secret key');
    setText(input('accessKey'), 'AKIAEXAMPLE');
    setText(input('secretKey'), 's3cr3t');
    setText(input('assumeRoleArn'), 'arn:aws:iam::111122223333:role/lakewatch-reader');
    setText(input('externalId'), 'ext-1');
    setText(input('workgroup'), 'security');
    setText(input('outputLocation'), 's3://athena-results/lakewatch/');
    setText(input('pricePerTbUsd'), '6.25');
    setText(input('queryTimeoutSeconds'), '90');
    await user.click(page().getByLabelText('Version 1'));
    setText(input('rollupRegion'), 'us-east-1');
    setText(input('lookbackDays'), '14');
    const o = last();
    expect(o.jsonData).toEqual({
      engine: 'athena',
      defaultRegion: 'eu-west-1',
      authType: 'keys',
      assumeRoleArn: 'arn:aws:iam::111122223333:role/lakewatch-reader',
      externalId: 'ext-1',
      workgroup: 'security',
      outputLocation: 's3://athena-results/lakewatch/',
      pricePerTbUsd: '6.25',
      queryTimeoutSeconds: 90,
      sourceVersion: '1',
      rollupRegion: 'us-east-1',
      lookbackDays: 14,
    });
    expect(o.secureJsonData).toEqual({ accessKey: 'AKIAEXAMPLE', secretKey: 's3cr3t' });
    expect(JSON.stringify(o.jsonData)).not.toContain('s3cr3t');
    expect(JSON.stringify(o.jsonData)).not.toContain('AKIAEXAMPLE');
  });

  it('shows the backend-style error for a bad value and warns when a key is missing', async () => {
    const { user } = setup(baseOptions({ jsonData: { engine: 'athena', authType: 'keys' } }));
    expect(page().getByText('Both the access key and the secret key are needed')).toBeInTheDocument();
    setText(input('outputLocation'), 'results');
    expect(page().getByText('Expected an S3 URI such as s3://my-athena-results/lakewatch/')).toBeInTheDocument();
    setText(input('defaultRegion'), 'US-EAST-1');
    expect(page().getByText('An AWS region looks like us-east-1')).toBeInTheDocument();
    await choose(user, 'lakewatch-authType', 'Credentials file');
    setText(input('profile'), 'security-audit');
    expect(page().queryByText('Both the access key and the secret key are needed')).not.toBeInTheDocument();
  });

  it('shows configured secrets as configured and resets them', async () => {
    const { user, last } = setup(
      baseOptions({ jsonData: { engine: 'athena', authType: 'keys' }, secureJsonFields: { accessKey: true, secretKey: true } })
    );
    expect(input('accessKey')).toBeDisabled();
    const resets = page().getAllByRole('button', { name: /reset/i });
    await user.click(resets[0]);
    expect(last().secureJsonFields).toEqual({ accessKey: false, secretKey: true });
    expect(last().secureJsonData).toEqual({ accessKey: '' });
  });

  it('keeps the local engine settings minimal', async () => {
    const { user, last } = setup(baseOptions());
    setText(input('lakePath'), '/var/lib/grafana/demo-lake');
    setText(input('maxRows'), '5000');
    expect(last().jsonData).toEqual({ lakePath: '/var/lib/grafana/demo-lake', maxRows: 5000 });
    setText(input('maxRows'), '');
    expect(last().jsonData).toEqual({ lakePath: '/var/lib/grafana/demo-lake' });
    setText(input('maxRangeDays'), '90');
    setText(input('localQueryMemoryMb'), '512');
    expect(last().jsonData).toEqual({ lakePath: '/var/lib/grafana/demo-lake', maxRangeDays: 90, localQueryMemoryMb: 512 });
    await user.click(page().getByLabelText('Off (query kinds only)'));
    expect(last().jsonData.rawSql).toBe('off');
    await user.click(page().getByLabelText('Security Lake tables only'));
    expect(last().jsonData.rawSql).toBeUndefined();
    setText(input('allowedAccounts'), '111122223333, 4444');
    expect(page().getAllByText('Expected 12-digit account ids separated by commas, e.g. 111122223333, 444455556666').length).toBeGreaterThan(0);
    setText(input('maxPointsPerSeries'), '5');
    expect(page().getAllByText('Enter a whole number from 10 to 100000').length).toBeGreaterThan(0);
  });

  it('names the Glue database and the tables on Athena, each a Glue name', () => {
    const { last } = setup(baseOptions({ jsonData: { engine: 'athena' } }));
    setText(input('database'), 'security_analytics');
    setText(input('tables-vpc_flow'), 'vpc_flow');
    setText(input('tables-sh_findings'), 'sh_findings');
    setText(input('tables-cloud_trail_mgmt'), 'trail_link');
    setText(input('tables-route53'), 'dns_link');
    expect(last().jsonData).toEqual({
      engine: 'athena',
      database: 'security_analytics',
      tables: { vpc_flow: 'vpc_flow', sh_findings: 'sh_findings', cloud_trail_mgmt: 'trail_link', route53: 'dns_link' },
    });
    setText(input('tables-cloud_trail_mgmt'), '');
    setText(input('tables-route53'), '');
    setText(input('tables-vpc_flow'), '');
    expect(last().jsonData.tables).toEqual({ sh_findings: 'sh_findings' });
    setText(input('tables-sh_findings'), '');
    expect('tables' in last().jsonData).toBe(false);
    setText(input('database'), 'Security Analytics');
    const refusal = "Expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)";
    expect(page().getAllByText(refusal).length).toBeGreaterThan(0);
    expect(page().getByTestId('lakewatch-settings-problems')).toHaveTextContent(`Database: ${refusal}`);
  });

  it('leaves the database and tables out on the local lake, which keeps its fixed names', () => {
    setup(baseOptions());
    expect(page().queryByLabelText('Database')).not.toBeInTheDocument();
    expect(page().queryByLabelText('VPC flow table')).not.toBeInTheDocument();
  });

  it('sets the result cache, the scan budgets and the source version (Discover leaves it out)', async () => {
    const { user, last } = setup(baseOptions({ jsonData: { engine: 'athena' } }));
    expect(page().getByLabelText('Discover (newest in the Glue database)')).toBeChecked();
    expect(input('cacheTtlSeconds').placeholder).toBe('300');
    setText(input('cacheTtlSeconds'), '600');
    setText(input('cacheMaxMb'), '512');
    setText(input('scanBudgetQueryGb'), '2.5');
    setText(input('scanBudgetLoadGb'), '20');
    await user.click(page().getByLabelText('Version 1'));
    expect(last().jsonData).toEqual({
      engine: 'athena',
      cacheTtlSeconds: 600,
      cacheMaxMb: 512,
      scanBudgetQueryGb: '2.5',
      scanBudgetLoadGb: '20',
      sourceVersion: '1',
    });
    await user.click(page().getByLabelText('Discover (newest in the Glue database)'));
    setText(input('cacheTtlSeconds'), '0');
    setText(input('scanBudgetLoadGb'), '');
    expect(last().jsonData).toEqual({ engine: 'athena', cacheTtlSeconds: 0, cacheMaxMb: 512, scanBudgetQueryGb: '2.5' });
    expect('sourceVersion' in last().jsonData).toBe(false);
    expect(page().queryByTestId('lakewatch-settings-problems')).not.toBeInTheDocument();
  });

  it('sets the async query flow on Athena: off is saved as false, on leaves it out, limits are checked', async () => {
    const { user, last } = setup(baseOptions({ jsonData: { engine: 'athena' } }));
    expect(page().getByLabelText('On')).toBeChecked();
    expect(input('asyncWaitSeconds').placeholder).toBe('5');
    setText(input('asyncWaitSeconds'), '2');
    setText(input('asyncMaxQueries'), '50');
    setText(input('asyncKeepSeconds'), '300');
    await user.click(page().getByLabelText('Off (wait for every query)'));
    expect(last().jsonData).toEqual({ engine: 'athena', asyncWaitSeconds: 2, asyncMaxQueries: 50, asyncKeepSeconds: 300, asyncQueries: false });
    await user.click(page().getByLabelText('On'));
    expect('asyncQueries' in last().jsonData).toBe(false);
    setText(input('asyncWaitSeconds'), '60');
    expect(page().getAllByText('Enter a whole number from 0 to 50').length).toBeGreaterThan(0);
  });

  it('turns account names from AWS Organizations on as true and off by leaving it out', async () => {
    const { user, last } = setup(baseOptions({ jsonData: { engine: 'athena' } }));
    expect(page().getByLabelText('Only accountNames')).toBeChecked();
    await user.click(page().getByLabelText('Also from AWS Organizations'));
    expect(last().jsonData).toEqual({ engine: 'athena', organizationAccountNames: true });
    await user.click(page().getByLabelText('Only accountNames'));
    expect('organizationAccountNames' in last().jsonData).toBe(false);
  });

  it('shows a provisioned numeric source version as chosen, and the local lake without scan budgets', () => {
    setup(baseOptions({ jsonData: { sourceVersion: 2 as unknown as string } }));
    expect(page().getByLabelText('Version 2')).toBeChecked();
    expect(input('cacheTtlSeconds').placeholder).toBe('0');
    expect(input('cacheMaxMb').placeholder).toBe('256');
    expect(input('scanBudgetQueryGb')).toBeNull();
    expect(input('scanBudgetLoadGb')).toBeNull();
  });

  it('names each refused cache and budget value at its field and again in one list', async () => {
    setup(baseOptions({ jsonData: { engine: 'athena', sourceVersion: '3' } }));
    setText(input('cacheTtlSeconds'), '5m');
    setText(input('cacheMaxMb'), '0');
    setText(input('scanBudgetQueryGb'), '1,5');
    setText(input('scanBudgetLoadGb'), '-2');
    const ttl = '"5m" is not a number of seconds: enter a whole number from 0 to 86400 (300 is five minutes; 0 keeps no results)';
    const size = '"0" is not a size in MB: enter a whole number from 1 to 65536 (1024 is 1 GB)';
    const query = '"1,5" is not an amount of GB: enter a number of gigabytes such as 10 or 2.5 (0 or empty: no budget)';
    const load = '"-2" is not an amount of GB: enter a number of gigabytes such as 10 or 2.5 (0 or empty: no budget)';
    const version = '"3" is not a source version: choose Discover, Version 2 or Version 1';
    for (const message of [ttl, size, query, load, version]) {
      // At the field, and in the summary with the field's name.
      expect(page().getAllByText(message, { exact: false }).length).toBe(2);
    }
    const summary = page().getByTestId('lakewatch-settings-problems');
    expect(page().getByText('5 settings will be refused')).toBeInTheDocument();
    expect(summary).toHaveTextContent(`Keep results (s): ${ttl}`);
    expect(summary).toHaveTextContent(`Cache size (MB): ${size}`);
    expect(summary).toHaveTextContent(`Per query (GB): ${query}`);
    expect(summary).toHaveTextContent(`Per dashboard load (GB): ${load}`);
    expect(summary).toHaveTextContent(`Source version: ${version}`);
    // Let the alert's icon finish loading inside the test.
    await act(async () => {});
  });

  it('checks values as the backend does', () => {
    expect(settingError('workgroup', 'a b')).toBe("A workgroup name has 1 to 128 letters, digits, '.', '_' or '-'");
    expect(settingError('assumeRoleArn', 'reader')).toBe('Expected a role ARN such as arn:aws:iam::111122223333:role/lakewatch-reader');
    expect(settingError('endpoint', 'athena.local')).toBe('Expected a URL such as https://athena.us-east-1.amazonaws.com');
    expect(settingError('queryTimeoutSeconds', '0')).toBe('Enter a whole number from 1 to 3600');
    expect(settingError('resultReuseMinutes', '0')).toBe('Enter a whole number from 1 to 10080');
    expect(settingError('pricePerTbUsd', '5')).toBeUndefined();
    expect(settingError('defaultRegion', 'us-gov-west-1')).toBeUndefined();
    expect(settingError('cacheTtlSeconds', 0)).toBeUndefined();
    expect(settingError('cacheTtlSeconds', '86400')).toBeUndefined();
    expect(settingError('cacheTtlSeconds', '86401')).toContain('enter a whole number from 0 to 86400');
    expect(settingError('cacheMaxMb', 65_536)).toBeUndefined();
    expect(settingError('cacheMaxMb', '65537')).toContain('enter a whole number from 1 to 65536');
    expect(settingError('scanBudgetQueryGb', '0')).toBeUndefined();
    expect(settingError('scanBudgetLoadGb', '0.25')).toBeUndefined();
    expect(settingError('scanBudgetLoadGb', '1e3')).toContain('is not an amount of GB');
  });
});
