import React from 'react';
import type { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import { Alert, Field, FieldSet, Input, RadioButtonGroup, SecretInput, Select } from '@grafana/ui';

import type { LakeTables, LakewatchOptions, LakewatchSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<LakewatchOptions, LakewatchSecureOptions>;

const AUTH_OPTIONS: Array<SelectableValue<NonNullable<LakewatchOptions['authType']>>> = [
  { label: 'AWS SDK default', value: 'default', description: 'Environment, shared files, web identity, ECS/EC2 role' },
  { label: 'Access and secret key', value: 'keys', description: 'Keys stored encrypted by Grafana' },
  { label: 'Credentials file', value: 'credentials', description: 'A named profile of the shared credentials file' },
  { label: 'EC2 IAM role', value: 'ec2_iam_role', description: 'The role of the instance Grafana runs on' },
];

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
const GLUE_NAME = /^[a-z0-9_-]{1,255}$/;

/** The backend's refusal of a database or table name that is not a Glue name. */
export function glueNameError(value: string | undefined): string | undefined {
  const text = value?.trim() ?? '';
  return text === '' || GLUE_NAME.test(text)
    ? undefined
    : "Expected a Glue name: 1 to 255 lowercase letters, digits, '_' or '-' (Glue stores names in lowercase)";
}

/** The message the backend would give for a jsonData value, checked before it is saved. */
export function settingError(key: keyof LakewatchOptions, value: unknown): string | undefined {
  if (value === undefined || value === null || String(value).trim() === '') {
    return undefined;
  }
  const text = String(value).trim();
  const whole = (min: number, max: number) =>
    /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max ? undefined : `Enter a whole number from ${min} to ${max}`;
  switch (key) {
    case 'defaultRegion':
    case 'rollupRegion':
      return REGION.test(text) ? undefined : 'An AWS region looks like us-east-1';
    case 'database':
      return glueNameError(text);
    case 'workgroup':
      return WORKGROUP.test(text) ? undefined : "A workgroup name has 1 to 128 letters, digits, '.', '_' or '-'";
    case 'outputLocation':
      return text.startsWith('s3://') ? undefined : 'Expected an S3 URI such as s3://my-athena-results/lakewatch/';
    case 'assumeRoleArn':
      return text.startsWith('arn:') && text.includes(':role/')
        ? undefined
        : 'Expected a role ARN such as arn:aws:iam::111122223333:role/lakewatch-reader';
    case 'endpoint':
      return /^https?:\/\//.test(text) ? undefined : 'Expected a URL such as https://athena.us-east-1.amazonaws.com';
    case 'pricePerTbUsd': {
      const n = Number(text);
      return Number.isFinite(n) && n >= 0 && n <= 1000 ? undefined : 'Expected US dollars per TB scanned, e.g. 5';
    }
    case 'queryTimeoutSeconds':
      return whole(1, 3600);
    case 'resultReuseMinutes':
      return whole(1, 10_080);
    case 'asyncWaitSeconds':
      return whole(0, 50);
    case 'asyncMaxQueries':
      return whole(1, 10_000);
    case 'asyncKeepSeconds':
      return whole(10, 3600);
    case 'lookbackDays':
      return whole(1, 90);
    case 'maxRows':
      return whole(1, 10_000_000);
    case 'maxSeries':
      return whole(1, 10_000);
    case 'maxRangeDays':
      return whole(1, 3660);
    case 'allowedAccounts':
      return text.split(',').every((a) => /^\d{12}$/.test(a.trim()))
        ? undefined
        : 'Expected 12-digit account ids separated by commas, e.g. 111122223333, 444455556666';
    case 'allowedSources':
      return text.split(',').every((s) => ['vpc_flow', 'sh_findings', 'cloud_trail_mgmt', 'route53', 'waf', 's3_data', 'lambda_execution', 'eks_audit'].includes(s.trim().toLowerCase()))
        ? undefined
        : 'Expected vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution and/or eks_audit, separated by commas';
    case 'maxPointsPerSeries':
      return whole(10, 100_000);
    case 'localQueryMemoryMb':
      return whole(64, 1_048_576);
    case 'cacheTtlSeconds':
      return /^\d+$/.test(text) && Number(text) <= 86_400
        ? undefined
        : `"${text}" is not a number of seconds: enter a whole number from 0 to 86400 (300 is five minutes; 0 keeps no results)`;
    case 'cacheMaxMb':
      return /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 65_536
        ? undefined
        : `"${text}" is not a size in MB: enter a whole number from 1 to 65536 (1024 is 1 GB)`;
    case 'scanBudgetQueryGb':
    case 'scanBudgetLoadGb':
      return /^\d{1,9}(\.\d+)?$/.test(text)
        ? undefined
        : `"${text}" is not an amount of GB: enter a number of gigabytes such as 10 or 2.5 (0 or empty: no budget)`;
    default:
      return undefined;
  }
}

/** Whole-number settings, saved as JSON numbers once valid (decimals such as the price stay text as typed). */
const NUMERIC_KEYS = new Set<keyof LakewatchOptions>([
  'queryTimeoutSeconds',
  'resultReuseMinutes',
  'lookbackDays',
  'maxRows',
  'maxSeries',
  'maxRangeDays',
  'maxPointsPerSeries',
  'localQueryMemoryMb',
  'cacheTtlSeconds',
  'cacheMaxMb',
  'asyncWaitSeconds',
  'asyncMaxQueries',
  'asyncKeepSeconds',
]);

/** What SQL written in a panel may read; Security Lake only (the default) leaves `rawSql` out. */
const RAW_SQL_OPTIONS = [
  { label: 'Security Lake tables only', value: 'securityLake' },
  { label: 'Anything the engine can read', value: 'any' },
  { label: 'Off (query kinds only)', value: 'off' },
];

/** Async queries on Athena; on (the default) leaves `asyncQueries` out. */
const ASYNC_OPTIONS = [
  { label: 'On', value: 'on' },
  { label: 'Off (wait for every query)', value: 'off' },
];

/** Account names from AWS Organizations; off (the default) leaves `organizationAccountNames` out. */
const ORGANIZATION_OPTIONS = [
  { label: 'Only accountNames', value: 'off' },
  { label: 'Also from AWS Organizations', value: 'on' },
];

/** The source-version choices; Discover leaves `sourceVersion` out of jsonData. */
const DISCOVER = 'discover';
const SOURCE_VERSION_OPTIONS = [
  { label: 'Discover (newest in the Glue database)', value: DISCOVER },
  { label: 'Version 2', value: '2' },
  { label: 'Version 1', value: '1' },
];

export function ConfigEditor(props: Props) {
  const { options, onOptionsChange } = props;
  const json = options.jsonData ?? {};
  const secureFields = options.secureJsonFields ?? {};
  const secure = (options.secureJsonData ?? {}) as LakewatchSecureOptions;
  const engine = json.engine ?? 'local';
  const authType = json.authType ?? 'default';

  const setJson = (key: keyof LakewatchOptions, value: string | undefined) => {
    const next: LakewatchOptions = { ...json };
    const text = value?.trim() ?? '';
    if (text === '') {
      delete next[key];
    } else if (NUMERIC_KEYS.has(key) && /^\d+$/.test(text)) {
      (next as Record<string, unknown>)[key] = Number(text);
    } else {
      (next as Record<string, unknown>)[key] = value;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  /** A true/false setting; undefined leaves it out (its default). */
  const setFlag = (key: 'asyncQueries' | 'organizationAccountNames', value: boolean | undefined) => {
    const next: LakewatchOptions = { ...json };
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const setSecret = (key: keyof LakewatchSecureOptions, value: string) => {
    onOptionsChange({ ...options, secureJsonData: { ...secure, [key]: value } });
  };

  const resetSecret = (key: keyof LakewatchSecureOptions) => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureFields, [key]: false },
      secureJsonData: { ...secure, [key]: '' },
    });
  };

  const text = (
    key: keyof LakewatchOptions,
    label: string,
    description: string,
    placeholder: string,
    width = 48
  ) => {
    const value = json[key];
    const error = settingError(key, value);
    const id = `lakewatch-${key}`;
    if (error) {
      problems.push({ key, label, error });
    }
    return (
      <Field label={label} description={description} invalid={!!error} error={error} htmlFor={id}>
        <Input
          id={id}
          width={width}
          value={value === undefined ? '' : String(value)}
          placeholder={placeholder}
          onChange={(e) => setJson(key, e.currentTarget.value)}
        />
      </Field>
    );
  };

  /** Sets one source's table name; an empty name leaves it out, and no names leave `tables` out. */
  const setTable = (source: keyof LakeTables, value: string) => {
    const tables: LakeTables = { ...(json.tables ?? {}) };
    if (value.trim() === '') {
      delete tables[source];
    } else {
      tables[source] = value;
    }
    const next: LakewatchOptions = { ...json, tables };
    if (Object.keys(tables).length === 0) {
      delete next.tables;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const tableField = (source: keyof LakeTables, label: string, placeholder: string) => {
    const value = json.tables?.[source] ?? '';
    const error = glueNameError(value);
    const id = `lakewatch-tables-${source}`;
    if (error) {
      problems.push({ key: 'tables', label, error });
    }
    return (
      <Field
        label={label}
        description={`The ${source} table (or resource link to it) in the database; empty: Security Lake's name, or the resource link found`}
        invalid={!!error}
        error={error}
        htmlFor={id}
      >
        <Input id={id} width={48} value={value} placeholder={placeholder} onChange={(e) => setTable(source, e.currentTarget.value)} />
      </Field>
    );
  };

  const secret = (key: keyof LakewatchSecureOptions, label: string, description: string) => (
    <Field label={label} description={description} htmlFor={`lakewatch-${key}`}>
      <SecretInput
        id={`lakewatch-${key}`}
        width={48}
        isConfigured={!!secureFields[key]}
        value={secure[key] ?? ''}
        placeholder={label}
        onChange={(e) => setSecret(key, e.currentTarget.value)}
        onReset={() => resetSecret(key)}
      />
    </Field>
  );

  // Values the backend would refuse, listed again at the end so none goes unnoticed before saving.
  const problems: Array<{ key: keyof LakewatchOptions; label: string; error: string }> = [];
  const isAthena = engine === 'athena';
  const sourceVersion =
    json.sourceVersion === undefined || json.sourceVersion === null || String(json.sourceVersion).trim() === ''
      ? DISCOVER
      : String(json.sourceVersion).trim();
  const sourceVersionError = ['1', '2', DISCOVER].includes(sourceVersion)
    ? undefined
    : `"${sourceVersion}" is not a source version: choose Discover, Version 2 or Version 1`;
  if (sourceVersionError) {
    problems.push({ key: 'sourceVersion', label: 'Source version', error: sourceVersionError });
  }

  const missingKeys =
    engine === 'athena' &&
    authType === 'keys' &&
    !((secureFields.accessKey || secure.accessKey) && (secureFields.secretKey || secure.secretKey));

  return (
    <div data-testid="lakewatch-config-editor">
      <FieldSet label="Engine">
        <Field label="Query engine" description="The embedded local lake (demo, no AWS account) or Amazon Athena over your Security Lake">
          <RadioButtonGroup
            options={[
              { label: 'Local lake', value: 'local' },
              { label: 'Amazon Athena', value: 'athena' },
            ]}
            value={engine}
            onChange={(v) => setJson('engine', v)}
          />
        </Field>
        {engine === 'local' &&
          text('lakePath', 'Lake folder', 'The folder holding aws/ in the Security Lake layout (default: $LAKEWATCH_LAKE, else ./demo-lake)', '/var/lib/grafana/lakewatch/demo-lake')}
      </FieldSet>

      {engine === 'athena' && (
        <>
          <FieldSet label="AWS connection">
            {text('defaultRegion', 'Region', 'Region of the Athena API', 'us-east-1', 24)}
            <Field label="Authentication" description="How the plugin gets AWS credentials" htmlFor="lakewatch-authType">
              <Select
                inputId="lakewatch-authType"
                width={48}
                options={AUTH_OPTIONS}
                value={authType}
                onChange={(v) => setJson('authType', v.value)}
              />
            </Field>
            {authType === 'keys' && (
              <>
                {secret('accessKey', 'Access key ID', 'Stored encrypted; never sent back to the browser')}
                {secret('secretKey', 'Secret access key', 'Stored encrypted; never sent back to the browser')}
                {secret('sessionToken', 'Session token', 'Only for temporary keys')}
                {missingKeys && <Alert severity="warning" title="Both the access key and the secret key are needed" />}
              </>
            )}
            {authType === 'credentials' && text('profile', 'Profile', 'Profile name in the shared credentials file', 'default', 32)}
            {text('assumeRoleArn', 'Assume role ARN', 'Optional role to assume on top of the credentials', 'arn:aws:iam::111122223333:role/lakewatch-reader')}
            {text('externalId', 'External ID', 'Optional external id the role trust policy requires', '')}
            {text('endpoint', 'Endpoint', 'Optional endpoint override (VPC endpoint)', 'https://athena.us-east-1.amazonaws.com')}
          </FieldSet>
          <FieldSet label="Athena">
            {text('workgroup', 'Workgroup', 'Athena workgroup (default primary)', 'primary', 32)}
            {text('outputLocation', 'Output location', "S3 location for results; the workgroup's when empty", 's3://my-athena-results/lakewatch/')}
            {text('catalog', 'Data catalog', 'Default AwsDataCatalog', 'AwsDataCatalog', 32)}
            {text('pricePerTbUsd', 'Price per TB scanned (USD)', 'Used for the cost shown on each panel', '5', 16)}
            {text('queryTimeoutSeconds', 'Query timeout (s)', 'Queries running longer are stopped (1–3600)', '300', 16)}
            {text(
              'resultReuseMinutes',
              'Athena result reuse (min)',
              "Let Athena answer from its own result of the same query up to this many minutes old: no scan, no bill (1–10080; empty: off)",
              'off',
              16
            )}
          </FieldSet>
          <FieldSet label="Glue database and tables">
            {text(
              'database',
              'Database',
              "The Glue database holding the Security Lake tables or resource links to them (a subscriber's or delegated admin's own); empty: Security Lake's own for the rollup region, else the first database found holding them (Save & test says which)",
              'amazon_security_lake_glue_db_us_east_1'
            )}
            {tableField('vpc_flow', 'VPC flow table', 'amazon_security_lake_table_us_east_1_vpc_flow_2_0')}
            {tableField('sh_findings', 'Security Hub findings table', 'amazon_security_lake_table_us_east_1_sh_findings_2_0')}
            {tableField('cloud_trail_mgmt', 'CloudTrail management events table', 'amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0')}
            {tableField('route53', 'Route 53 Resolver query logs table', 'amazon_security_lake_table_us_east_1_route53_2_0')}
            {tableField('waf', 'AWS WAF logs table (source version 2 only)', 'amazon_security_lake_table_us_east_1_waf_2_0')}
            {tableField('s3_data', 'CloudTrail S3 data events table', 'amazon_security_lake_table_us_east_1_s3_data_2_0')}
            {tableField('lambda_execution', 'CloudTrail Lambda data events table', 'amazon_security_lake_table_us_east_1_lambda_execution_2_0')}
            {tableField('eks_audit', 'EKS audit logs table (source version 2 only)', 'amazon_security_lake_table_us_east_1_eks_audit_2_0')}
          </FieldSet>
          <FieldSet label="Account names">
            <Field
              label="Names from AWS Organizations"
              description="Label accounts with their names and OUs from AWS Organizations (the management or a delegated administrator account; needs organizations:ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent). Names set in accountNames win"
            >
              <RadioButtonGroup
                options={ORGANIZATION_OPTIONS}
                value={json.organizationAccountNames === true ? 'on' : 'off'}
                onChange={(v) => setFlag('organizationAccountNames', v === 'on' ? true : undefined)}
              />
            </Field>
          </FieldSet>
          <FieldSet label="Async queries">
            <Field
              label="Async queries"
              description="Panels poll for long Athena queries instead of holding one request open, so no request outlives Amazon Managed Grafana's 60 s proxy; alert rules and expressions always wait"
            >
              <RadioButtonGroup
                options={ASYNC_OPTIONS}
                value={json.asyncQueries === false ? 'off' : 'on'}
                onChange={(v) => setFlag('asyncQueries', v === 'off' ? false : undefined)}
              />
            </Field>
            {text('asyncWaitSeconds', 'Wait per request (s)', 'How long one request waits for its query before answering "running", 0–50 seconds (default 5); keep it well under the proxy\'s 60 s', '5', 16)}
            {text('asyncMaxQueries', 'Async queries held', 'Most async queries held for this datasource, running or finished and not yet collected, 1–10000 (default 100); more are refused', '100', 16)}
            {text('asyncKeepSeconds', 'Keep unpolled (s)', 'An async query nobody asked about for this long is stopped on Athena and dropped, 10–3600 seconds (default 120)', '120', 16)}
          </FieldSet>
          <FieldSet label="Scan budget">
            {text(
              'scanBudgetQueryGb',
              'Per query (GB)',
              "Most GB one query may scan; a query over it is refused (decimals allowed, e.g. 2.5; empty or 0: no budget)",
              'no budget',
              16
            )}
            {text(
              'scanBudgetLoadGb',
              'Per dashboard load (GB)',
              'Most GB the panels of one dashboard load may scan together (decimals allowed; empty or 0: no budget)',
              'no budget',
              16
            )}
          </FieldSet>
        </>
      )}

      <FieldSet label="Security Lake">
        <Field
          label="Source version"
          invalid={!!sourceVersionError}
          error={sourceVersionError}
          description={
            'Version 1: OCSF 1.0.0-rc.2 tables (…_1_0); version 2: OCSF 1.1.0 tables (…_2_0); Discover: ' +
            (isAthena
              ? 'the newest version with a VPC flow table in the Glue database, looked up again every 10 minutes'
              : 'the local lake uses version 2')
          }
        >
          <RadioButtonGroup
            options={SOURCE_VERSION_OPTIONS}
            value={sourceVersion}
            onChange={(v) => setJson('sourceVersion', v === DISCOVER ? undefined : v)}
          />
        </Field>
        {text('rollupRegion', 'Rollup region', 'Region whose Glue database holds the Security Lake tables (default: the Athena region)', 'us-east-1', 24)}
        {text('lookbackDays', 'Coverage look-back (days)', 'How far back coverage and freshness look for the last record (1–90, default 7)', '7', 16)}
        {text('maxRows', 'Row limit', 'Most rows a query may return (default 100000)', '100000', 16)}
        {text('maxSeries', 'Series limit', 'Most series a time-series panel may carry (default 100)', '100', 16)}
        <Field
          label="SQL in panels"
          description="What a panel's own SQL (kind sql) may read: only the Security Lake tables of this datasource's Glue database (default), anything the engine's credentials can read, or nothing"
        >
          <RadioButtonGroup
            options={RAW_SQL_OPTIONS}
            value={json.rawSql ?? 'securityLake'}
            onChange={(v) => setJson('rawSql', v === 'securityLake' ? undefined : v)}
          />
        </Field>
        {text('allowedAccounts', 'Allowed accounts', "Per-team scoping: the only accounts this datasource reads, comma-separated (empty: all); every panel, variable and SQL is held to them", '111122223333, 444455556666', 40)}
        {text('allowedSources', 'Allowed sources', 'Per-team scoping: the only Security Lake sources this datasource reads: vpc_flow, sh_findings, cloud_trail_mgmt, route53, waf, s3_data, lambda_execution, eks_audit (empty: all)', 'vpc_flow', 40)}
        {text('maxRangeDays', 'Range limit (days)', 'Longest time range a query may ask for, 1–3660 days (default 400); a longer one is refused', '400', 16)}
        {text('maxPointsPerSeries', 'Points per series', "Most points per series, 10–100000 (default 10000): Grafana's max data points is clamped to it", '10000', 16)}
        {!isAthena &&
          text('localQueryMemoryMb', 'Query memory (MB)', "Most memory one query's sorts, joins and aggregations may hold on the local lake, 64–1048576 MB (default 2048); past it the query fails", '2048', 16)}
      </FieldSet>

      <FieldSet label="Result cache">
        {text(
          'cacheTtlSeconds',
          'Keep results (s)',
          `How long a finished query result is reused by identical panel queries, 0–86400 seconds (default ${isAthena ? '300 on Athena' : '0 on the local lake'}); 0: only identical queries running at the same time share one run`,
          isAthena ? '300' : '0',
          16
        )}
        {text('cacheMaxMb', 'Cache size (MB)', 'Most memory the kept results may take, 1–65536 MB (default 256); the least recently used go first', '256', 16)}
      </FieldSet>

      {problems.length > 0 && (
        <Alert severity="error" title={problems.length === 1 ? 'One setting will be refused' : `${problems.length} settings will be refused`}>
          <div data-testid="lakewatch-settings-problems">
            {problems.map((p) => (
              <div key={p.key}>
                <strong>{p.label}</strong>: {p.error}
              </div>
            ))}
          </div>
        </Alert>
      )}
    </div>
  );
}
