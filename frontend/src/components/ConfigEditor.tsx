import React from 'react';
import type { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import { Alert, Field, FieldSet, Input, RadioButtonGroup, SecretInput, Select } from '@grafana/ui';

import type { LakewatchOptions, LakewatchSecureOptions } from '../types';

type Props = DataSourcePluginOptionsEditorProps<LakewatchOptions, LakewatchSecureOptions>;

const AUTH_OPTIONS: Array<SelectableValue<NonNullable<LakewatchOptions['authType']>>> = [
  { label: 'AWS SDK default', value: 'default', description: 'Environment, shared files, web identity, ECS/EC2 role' },
  { label: 'Access and secret key', value: 'keys', description: 'Keys stored encrypted by Grafana' },
  { label: 'Credentials file', value: 'credentials', description: 'A named profile of the shared credentials file' },
  { label: 'EC2 IAM role', value: 'ec2_iam_role', description: 'The role of the instance Grafana runs on' },
];

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;

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
    case 'lookbackDays':
      return whole(1, 90);
    case 'maxRows':
      return whole(1, 10_000_000);
    case 'maxSeries':
      return whole(1, 10_000);
    default:
      return undefined;
  }
}

const NUMERIC_KEYS = new Set<keyof LakewatchOptions>(['queryTimeoutSeconds', 'lookbackDays', 'maxRows', 'maxSeries']);

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
          </FieldSet>
        </>
      )}

      <FieldSet label="Security Lake">
        <Field label="Source version" description="1: OCSF 1.0.0-rc.2 tables (…_1_0), 2: OCSF 1.1.0 tables (…_2_0)">
          <RadioButtonGroup
            options={[
              { label: 'Version 2', value: '2' },
              { label: 'Version 1', value: '1' },
            ]}
            value={json.sourceVersion ?? '2'}
            onChange={(v) => setJson('sourceVersion', v)}
          />
        </Field>
        {text('rollupRegion', 'Rollup region', 'Region whose Glue database holds the Security Lake tables (default: the Athena region)', 'us-east-1', 24)}
        {text('lookbackDays', 'Coverage look-back (days)', 'How far back coverage and freshness look for the last record (1–90, default 7)', '7', 16)}
        {text('maxRows', 'Row limit', 'Most rows a query may return (default 100000)', '100000', 16)}
        {text('maxSeries', 'Series limit', 'Most series a time-series panel may carry (default 100)', '100', 16)}
      </FieldSet>
    </div>
  );
}
