import React, { useEffect, useMemo, useRef, useState } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import {
  Button,
  InlineField,
  InlineFieldRow,
  Input,
  MultiSelect,
  RadioButtonGroup,
  Select,
  TextArea,
} from '@grafana/ui';

import type { LakewatchDataSource } from '../datasource';
import {
  ANNOTATION_EVENTS,
  DEFAULT_CONTROL,
  DEFAULT_SILENT_MINUTES,
  FILTER_INFO,
  KINDS,
  SQL_MACROS,
  annotationEvent,
  fieldsFor,
  filterText,
  filtersFor,
  filterValues,
  kindSpec,
  numberError,
  splitList,
  switchKind,
  withEventDefaults,
  type QueryField,
} from '../queryModel';
import type { AnnotationEvent, FilterName, FlowFilters, LakewatchOptions, LakewatchQuery, QueryKind } from '../types';

type Props = QueryEditorProps<LakewatchDataSource, LakewatchQuery, LakewatchOptions> & {
  /** In Grafana's annotation editor: the builder offers the annotations kind only (SQL stays available). */
  annotationMode?: boolean;
};

const LABEL_WIDTH = 20;
const BUILDER_KINDS = KINDS.filter((k) => k.kind !== 'sql');
/** How each `format` value is offered. */
/** The severities a finding threshold may name, lowest first. */
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High', 'Critical', 'Fatal'];

const FORMAT_LABELS: Record<string, string> = {
  table: 'Table',
  series: 'Series (alerts)',
  node_graph: 'Node graph',
  logs: 'Logs (Explore)',
};
const kindOption = (k: (typeof KINDS)[number]): SelectableValue<QueryKind> => ({
  label: k.label,
  value: k.kind,
  description: k.description,
});
const KIND_OPTIONS: Array<SelectableValue<QueryKind>> = BUILDER_KINDS.map(kindOption);
const ANNOTATION_KIND_OPTIONS: Array<SelectableValue<QueryKind>> = BUILDER_KINDS.filter((k) => k.kind === 'annotations').map(kindOption);
const EVENT_OPTIONS: Array<SelectableValue<AnnotationEvent>> = ANNOTATION_EVENTS.map((e) => ({
  label: e.label,
  value: e.value,
  description: e.description,
}));
/** A control id (EC2.6), a Config rule name, or a template variable. */
const CONTROL_TEXT = /^(\$\{?\w+(:\w+)?\}?|\[\[\w+\]\]|[A-Za-z0-9][A-Za-z0-9._:/-]{0,255})$/;

/** The message for a control the backend would not take, or undefined. */
export function controlError(control: string | undefined): string | undefined {
  if (control === undefined || CONTROL_TEXT.test(control)) {
    return undefined;
  }
  return `"${control}" is not a control: enter one Security Hub control id such as EC2.6, a Config rule name such as vpc-flow-logs-enabled, or a dashboard variable such as $control`;
}
const MODE_OPTIONS = [
  { label: 'Builder', value: 'builder' },
  { label: 'SQL', value: 'sql' },
];
const MEASURE_LABELS: Record<string, string> = {
  bytes: 'Bytes',
  packets: 'Packets',
  flows: 'Flows',
  pass_rate: 'Pass rate',
  failing: 'Failing',
  passing: 'Passing',
};
const VIEW_LABELS: Record<string, string> = {
  over_time: 'Over time',
  top_sources: 'Top sources',
  table: 'Table',
  counts: 'Counts',
};
const STATUS_OPTIONS = ['PASSED', 'FAILED', 'WARNING', 'NOT_AVAILABLE'].map((s) => ({ label: s, value: s }));
/** Filters offered as dropdowns (values from the backend and from dashboard variables). */
const DROPDOWN_FILTERS: Partial<Record<FilterName, 'accounts' | 'regions' | 'vpcs'>> = {
  accounts: 'accounts',
  regions: 'regions',
  vpcs: 'vpcs',
};

function variableOptions(): Array<SelectableValue<string>> {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Dashboard variable' }));
  } catch {
    return [];
  }
}

/** A whole-number input checked against the backend's range; an empty box removes the field. */
function NumberField(props: {
  field: QueryField;
  label: string;
  tooltip: string;
  value: number | undefined;
  placeholder?: string;
  onChange: (value: number | undefined) => void;
}) {
  const [text, setText] = useState(props.value === undefined ? '' : String(props.value));
  useEffect(() => setText(props.value === undefined ? '' : String(props.value)), [props.value]);
  const error = numberError(props.field, text);
  const id = `lakewatch-${props.field}`;
  return (
    <InlineField label={props.label} labelWidth={LABEL_WIDTH} tooltip={props.tooltip} invalid={!!error} error={error} htmlFor={id}>
      <Input
        id={id}
        width={16}
        value={text}
        placeholder={props.placeholder}
        onChange={(e) => {
          const t = e.currentTarget.value;
          setText(t);
          if (t.trim() === '') {
            props.onChange(undefined);
          } else if (!numberError(props.field, t)) {
            props.onChange(Number(t));
          }
        }}
      />
    </InlineField>
  );
}

/** A comma-separated list input (IPs, ports…). */
function ListInput(props: { id: string; value: string; placeholder: string; onChange: (values: string[]) => void; width?: number }) {
  const [text, setText] = useState(props.value);
  useEffect(() => {
    if (splitList(text).join(', ') !== splitList(props.value).join(', ')) {
      setText(props.value);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.value]);
  return (
    <Input
      id={props.id}
      width={props.width ?? 40}
      value={text}
      placeholder={props.placeholder}
      onChange={(e) => {
        setText(e.currentTarget.value);
        props.onChange(splitList(e.currentTarget.value));
      }}
    />
  );
}

export function QueryEditor(props: Props) {
  const { query, onChange, onRunQuery, datasource, annotationMode } = props;
  const spec = kindSpec(query.kind);
  const isSql = spec.kind === 'sql';
  // What earlier kinds held, so that switching back and forth loses nothing.
  const remembered = useRef<Partial<LakewatchQuery>>({});
  const lastBuilderKind = useRef<QueryKind>(annotationMode ? 'annotations' : isSql ? 'flow_volume' : spec.kind);

  // An annotation whose query is of a kind that gives no events starts as an annotations query.
  useEffect(() => {
    if (annotationMode && spec.kind !== 'annotations' && spec.kind !== 'sql') {
      onChange(withEventDefaults(switchKind(query, 'annotations')));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [annotationMode, spec.kind]);
  const [resourceOptions, setResourceOptions] = useState<Record<string, Array<SelectableValue<string>>>>({});
  const sqlRef = useRef<HTMLTextAreaElement | null>(null);

  useEffect(() => {
    let cancelled = false;
    if (typeof datasource?.listValues !== 'function') {
      return;
    }
    for (const resource of ['accounts', 'regions', 'vpcs', 'controls'] as const) {
      datasource.listValues(resource).then((values) => {
        if (!cancelled && values.length > 0) {
          setResourceOptions((prev) => ({
            ...prev,
            [resource]: values.map((v) => ({ label: String(v.text), value: String(v.value ?? v.text) })),
          }));
        }
      });
    }
    return () => {
      cancelled = true;
    };
  }, [datasource]);

  const variables = useMemo(variableOptions, []);

  const update = (patch: Partial<LakewatchQuery>, run = false) => {
    const next: LakewatchQuery = { ...query, ...patch };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) {
        delete (next as unknown as Record<string, unknown>)[k];
      }
    }
    onChange(next);
    if (run) {
      onRunQuery();
    }
  };

  const changeKind = (kind: QueryKind) => {
    // Filters the current kind cannot hold stay remembered; the ones it can hold are as the user left them.
    const memoryFilters: FlowFilters = { ...(remembered.current.filters ?? {}) };
    for (const f of filtersFor(spec, query)) {
      delete memoryFilters[f];
    }
    const filters = { ...memoryFilters, ...(query.filters ?? {}) };
    remembered.current = { ...remembered.current, ...query, filters };
    if (kind !== 'sql') {
      lastBuilderKind.current = kind;
    }
    onChange(withEventDefaults(switchKind({ ...query, filters }, kind, remembered.current)));
    onRunQuery();
  };

  const changeEvent = (event: AnnotationEvent) => {
    // The other event's fields are dropped from the query but remembered for switching back.
    remembered.current = { ...remembered.current, ...query };
    onChange(withEventDefaults(switchKind({ ...query, event }, 'annotations', remembered.current)));
    onRunQuery();
  };

  const setFilter = (name: FilterName, values: Array<string | number> | string | undefined) => {
    const filters: FlowFilters = { ...(query.filters ?? {}) };
    if (values === undefined || (Array.isArray(values) && values.length === 0) || values === '') {
      delete filters[name];
    } else {
      (filters as Record<string, unknown>)[name] = values;
    }
    update({ filters });
  };

  const fields = fieldsFor(spec, query);
  const has = (f: QueryField) => fields.includes(f);
  const isAnnotations = spec.kind === 'annotations';
  const control = Array.isArray(query.control) ? query.control.join(', ') : query.control;

  const optionsWith = (base: Array<SelectableValue<string>>, current: string[] | undefined) => {
    const seen = new Set(base.map((o) => o.value));
    const extra = (current ?? []).filter((v) => !seen.has(v)).map((v) => ({ label: v, value: v }));
    return [...base, ...extra];
  };

  const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

  const filterRow = (name: FilterName) => {
    const info = FILTER_INFO[name];
    const id = `lakewatch-filter-${name}`;
    const value = query.filters?.[name];
    let control: React.ReactElement<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (info.single) {
      control = (
        <Select
          inputId={id}
          width={24}
          isClearable
          placeholder="Any"
          options={info.single.map((s) => ({ label: s, value: s }))}
          value={typeof value === 'string' ? value : null}
          onChange={(v) => setFilter(name, v?.value)}
        />
      );
    } else if (DROPDOWN_FILTERS[name]) {
      const resource = DROPDOWN_FILTERS[name]!;
      const current = asList(value);
      control = (
        <MultiSelect
          inputId={id}
          width={40}
          allowCustomValue
          placeholder={info.placeholder}
          options={optionsWith([...variables, ...(resourceOptions[resource] ?? [])], current)}
          value={current}
          onChange={(vs) => setFilter(name, vs.map((v) => String(v.value)))}
        />
      );
    } else {
      control = (
        <ListInput
          id={id}
          value={filterText(value)}
          placeholder={info.placeholder}
          onChange={(vs) => setFilter(name, filterValues(name, vs))}
        />
      );
    }
    return (
      <InlineFieldRow key={name}>
        <InlineField label={info.label} labelWidth={LABEL_WIDTH} htmlFor={id}>
          {control}
        </InlineField>
      </InlineFieldRow>
    );
  };

  // Filters shown: the ones set, plus the ones the user added with "Add filter".
  const [shownFilters, setShownFilters] = useState<FilterName[]>([]);
  const kindFilters = filtersFor(spec, query);
  const visibleFilters = kindFilters.filter((f) => query.filters?.[f] !== undefined || shownFilters.includes(f));
  const addableFilters = kindFilters
    .filter((f) => !visibleFilters.includes(f))
    .map((f) => ({ label: FILTER_INFO[f].label, value: f }));

  const insertMacro = (text: string) => {
    const sql = query.rawSql ?? '';
    const el = sqlRef.current;
    const at = el && typeof el.selectionStart === 'number' && document.activeElement === el ? el.selectionStart : sql.length;
    const sep = at === sql.length && sql.length > 0 && !/\s$/.test(sql) ? ' ' : '';
    update({ rawSql: sql.slice(0, at) + sep + text + sql.slice(at) });
  };

  return (
    <div data-testid="lakewatch-query-editor">
      <InlineFieldRow>
        <InlineField label="Editor" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup
            options={MODE_OPTIONS}
            value={isSql ? 'sql' : 'builder'}
            onChange={(mode) => changeKind(mode === 'sql' ? 'sql' : lastBuilderKind.current)}
          />
        </InlineField>
        {!isSql && (
          <InlineField label="Query kind" labelWidth={14} htmlFor="lakewatch-kind" tooltip={spec.description}>
            <Select
              inputId="lakewatch-kind"
              width={32}
              options={annotationMode ? ANNOTATION_KIND_OPTIONS : KIND_OPTIONS}
              value={spec.kind}
              onChange={(v) => v.value && changeKind(v.value)}
            />
          </InlineField>
        )}
      </InlineFieldRow>

      {isSql ? (
        <>
          <InlineFieldRow>
            <InlineField label="Format" labelWidth={LABEL_WIDTH}>
              <RadioButtonGroup
                options={[
                  { label: 'Table', value: 'table' },
                  { label: 'Time series', value: 'time_series' },
                ]}
                value={query.format ?? 'table'}
                onChange={(v) => update({ format: v }, true)}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineField label="SQL" labelWidth={LABEL_WIDTH} grow htmlFor="lakewatch-sql" tooltip="Athena (Trino) SQL on AWS, DataFusion on the local lake; macros expand for the engine">
            <TextArea
              id="lakewatch-sql"
              ref={sqlRef}
              rows={8}
              style={{ fontFamily: 'monospace' }}
              value={query.rawSql ?? ''}
              placeholder="SELECT count(*) FROM $__table(vpc_flow) WHERE $__partitionFilter"
              onChange={(e) => update({ rawSql: e.currentTarget.value })}
              onBlur={() => onRunQuery()}
            />
          </InlineField>
          <div data-testid="lakewatch-macros" style={{ margin: '4px 0 8px' }}>
            <div style={{ fontSize: 12, marginBottom: 4 }}>Macros (click to insert; every time is UTC):</div>
            <table style={{ fontSize: 12 }}>
              <tbody>
                {SQL_MACROS.map((m) => (
                  <tr key={m.macro}>
                    <td style={{ paddingRight: 8 }}>
                      <Button size="sm" variant="secondary" fill="text" onClick={() => insertMacro(m.insert)} aria-label={`Insert ${m.macro}`}>
                        <code>{m.macro}</code>
                      </Button>
                    </td>
                    <td>{m.doc}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div style={{ fontSize: 12 }}>
              Template variables ($account, ${'{'}region{'}'}, [[vpc]]) reach the SQL as checked, escaped literals.
            </div>
          </div>
        </>
      ) : (
        <>
          <InlineFieldRow>
            {spec.measures.length > 0 && (
              <InlineField label="Measure" labelWidth={LABEL_WIDTH} tooltip="What the query adds up or ranks by">
                <RadioButtonGroup
                  options={spec.measures.map((m) => ({ label: MEASURE_LABELS[m] ?? m, value: m }))}
                  value={query.measure ?? (spec.kind === 'compliance_over_time' ? undefined : spec.measures[0])}
                  onChange={(v) => update({ measure: v as LakewatchQuery['measure'] }, true)}
                />
              </InlineField>
            )}
            {has('view') && spec.views && (
              <InlineField label="View" labelWidth={10}>
                <RadioButtonGroup
                  options={spec.views.map((v) => ({ label: VIEW_LABELS[v] ?? v, value: v }))}
                  value={query.view ?? spec.views[0]}
                  onChange={(v) => update({ view: v }, true)}
                />
              </InlineField>
            )}
            {has('by') && spec.kind === 'top_blocked' && (
              <InlineField label="Rank" labelWidth={10}>
                <RadioButtonGroup
                  options={[
                    { label: 'Clients', value: 'clients' },
                    { label: 'URIs', value: 'uris' },
                    { label: 'Rules', value: 'rules' },
                  ]}
                  value={query.by ?? 'clients'}
                  onChange={(v) => update({ by: v as LakewatchQuery['by'] }, true)}
                />
              </InlineField>
            )}
            {has('by') && spec.kind !== 'egress_anomaly' && spec.kind !== 'top_blocked' && (
              <InlineField label="Rank" labelWidth={10}>
                <RadioButtonGroup
                  options={[
                    { label: 'Sources', value: 'src_ip' },
                    { label: 'Destinations', value: 'dst_ip' },
                    { label: 'Either side', value: 'either' },
                  ]}
                  value={query.by ?? 'src_ip'}
                  onChange={(v) => update({ by: v as LakewatchQuery['by'] }, true)}
                />
              </InlineField>
            )}
            {has('by') && spec.kind === 'egress_anomaly' && (
              <InlineField label="Score per" labelWidth={10}>
                <RadioButtonGroup
                  options={[
                    { label: 'VPC', value: 'vpc' },
                    { label: 'Interface', value: 'eni' },
                  ]}
                  value={query.by ?? 'vpc'}
                  onChange={(v) => update({ by: v as LakewatchQuery['by'] }, true)}
                />
              </InlineField>
            )}
            {has('scan_by') && (
              <InlineField label="Count distinct" labelWidth={16}>
                <RadioButtonGroup
                  options={[
                    { label: 'Ports', value: 'ports' },
                    { label: 'Hosts', value: 'hosts' },
                  ]}
                  value={query.scan_by ?? 'ports'}
                  onChange={(v) => update({ scan_by: v as LakewatchQuery['scan_by'] }, true)}
                />
              </InlineField>
            )}
            {has('format') && spec.formats && (
              <InlineField label="Format" labelWidth={10}>
                <RadioButtonGroup
                  options={spec.formats.map((f) => ({ label: FORMAT_LABELS[f] ?? f, value: f }))}
                  value={query.format ?? spec.formats[0]}
                  onChange={(v) => update({ format: v }, true)}
                />
              </InlineField>
            )}
          </InlineFieldRow>

          {has('event') && (
            <InlineFieldRow>
              <InlineField label="Event" labelWidth={LABEL_WIDTH} htmlFor="lakewatch-event" tooltip="What each annotation marks">
                <Select
                  inputId="lakewatch-event"
                  width={32}
                  options={EVENT_OPTIONS}
                  value={annotationEvent(query)}
                  onChange={(v) => v.value && changeEvent(v.value)}
                />
              </InlineField>
              {has('control') && (
                <InlineField
                  label="Control"
                  labelWidth={12}
                  htmlFor="lakewatch-control"
                  tooltip="One Security Hub control id (EC2.6), Config rule name, or dashboard variable ($control)"
                  invalid={!!controlError(control)}
                  error={controlError(control)}
                >
                  <Select
                    inputId="lakewatch-control"
                    width={32}
                    allowCustomValue
                    placeholder={DEFAULT_CONTROL}
                    options={optionsWith(
                      [
                        { label: 'EC2.6', value: 'EC2.6', description: 'VPC flow logging should be enabled in all VPCs' },
                        { label: 'EC2.10', value: 'EC2.10' },
                        ...variables,
                        ...(resourceOptions.controls ?? []),
                      ].filter((o, i, all) => all.findIndex((x) => x.value === o.value) === i),
                      control ? [control] : []
                    )}
                    value={control ?? null}
                    onChange={(v) => update({ control: v?.value ? String(v.value) : undefined }, true)}
                  />
                </InlineField>
              )}
            </InlineFieldRow>
          )}

          {has('group_by') && spec.dimensions.length > 0 && (
            <InlineFieldRow>
              <InlineField
                label="Group by"
                labelWidth={LABEL_WIDTH}
                htmlFor="lakewatch-group-by"
                tooltip={spec.defaultGroupBy ? `Default: ${spec.defaultGroupBy.join(', ')}` : 'One series per group; none: one series'}
              >
                <MultiSelect
                  inputId="lakewatch-group-by"
                  width={48}
                  placeholder={spec.defaultGroupBy ? spec.defaultGroupBy.join(', ') : 'No grouping'}
                  options={spec.dimensions.map((d) => ({ label: d, value: d }))}
                  value={query.group_by ?? []}
                  onChange={(vs) => {
                    const dims = vs.map((v) => String(v.value));
                    // An annotation grouping left empty is the backend's default, not "no grouping".
                    update({ group_by: isAnnotations && dims.length === 0 ? undefined : dims }, true);
                  }}
                />
              </InlineField>
            </InlineFieldRow>
          )}

          {has('controls') && (
            <InlineFieldRow>
              <InlineField label="Controls" labelWidth={LABEL_WIDTH} htmlFor="lakewatch-controls" tooltip="Security Hub control ids (EC2.6) or Config rule names; default EC2.6">
                <MultiSelect
                  inputId="lakewatch-controls"
                  width={48}
                  allowCustomValue
                  placeholder="EC2.6"
                  options={optionsWith(
                    [
                      { label: 'EC2.6', value: 'EC2.6', description: 'VPC flow logging should be enabled in all VPCs' },
                      { label: 'EC2.10', value: 'EC2.10' },
                      ...variables,
                      ...(resourceOptions.controls ?? []),
                    ],
                    query.controls
                  )}
                  value={query.controls ?? []}
                  onChange={(vs) => update({ controls: vs.map((v) => String(v.value)) }, true)}
                />
              </InlineField>
            </InlineFieldRow>
          )}
          {has('statuses') && (
            <InlineFieldRow>
              <InlineField label="Statuses" labelWidth={LABEL_WIDTH} htmlFor="lakewatch-statuses" tooltip="Only resources in these states; none: every state">
                <MultiSelect
                  inputId="lakewatch-statuses"
                  width={48}
                  placeholder="Any status"
                  options={STATUS_OPTIONS}
                  value={query.statuses ?? []}
                  onChange={(vs) => update({ statuses: vs.map((v) => String(v.value)) }, true)}
                />
              </InlineField>
            </InlineFieldRow>
          )}
          {has('own_cidrs') && (
            <InlineFieldRow>
              <InlineField label="Own address blocks" labelWidth={LABEL_WIDTH} htmlFor="lakewatch-own-cidrs" tooltip="Public blocks that are yours, not the internet">
                <ListInput
                  id="lakewatch-own-cidrs"
                  value={(query.own_cidrs ?? []).join(', ')}
                  placeholder="198.51.100.0/24"
                  onChange={(vs) => update({ own_cidrs: vs.length ? vs : undefined })}
                />
              </InlineField>
            </InlineFieldRow>
          )}

          <InlineFieldRow>
            {has('limit') && (
              <NumberField
                field="limit"
                label={spec.kind === 'flow_volume' || spec.kind === 'rejected' ? 'Top N series' : 'Top N rows'}
                tooltip="How many rows (or series, the rest folded into other) to keep"
                placeholder={spec.defaultLimit ? String(spec.defaultLimit) : 'all'}
                value={query.limit}
                onChange={(v) => update({ limit: v })}
              />
            )}
            {has('threshold') && (
              <NumberField field="threshold" label="Threshold" tooltip="Report sources above this distinct count" placeholder="20" value={query.threshold} onChange={(v) => update({ threshold: v })} />
            )}
            {has('window_minutes') && (
              <NumberField field="window_minutes" label="Window (min)" tooltip="Count within windows of this many minutes; empty: the whole range" placeholder="range" value={query.window_minutes} onChange={(v) => update({ window_minutes: v })} />
            )}
            {has('silent_for_minutes') && (
              <NumberField
                field="silent_for_minutes"
                label="Silent for (min)"
                tooltip={
                  isAnnotations
                    ? 'An annotation for each time a group sent no flow record for longer than this many minutes'
                    : 'Only groups with no flow record for longer than this'
                }
                placeholder={isAnnotations ? String(DEFAULT_SILENT_MINUTES) : 'any'}
                value={query.silent_for_minutes}
                onChange={(v) => update({ silent_for_minutes: v })}
              />
            )}
            {has('lookback_days') && (
              <NumberField field="lookback_days" label="Look back (days)" tooltip="How far back to look for the last record; default: the datasource setting" placeholder="7" value={query.lookback_days} onChange={(v) => update({ lookback_days: v })} />
            )}
            {has('baseline_days') && (
              <NumberField field="baseline_days" label="Baseline (days)" tooltip="Whole days before the range the range is compared with" placeholder="7" value={query.baseline_days} onChange={(v) => update({ baseline_days: v })} />
            )}
            {has('min_score') && (
              <NumberField field="min_score" label="Min score" tooltip="An hour is anomalous from this many scaled MADs above its baseline median" placeholder="4" value={query.min_score} onChange={(v) => update({ min_score: v })} />
            )}
            {has('min_contacts') && (
              <NumberField field="min_contacts" label="Min contacts" tooltip="A beacon calls its destination at least this many times (distinct start times)" placeholder="8" value={query.min_contacts} onChange={(v) => update({ min_contacts: v })} />
            )}
            {has('max_jitter_percent') && (
              <NumberField field="max_jitter_percent" label="Max jitter (%)" tooltip="The standard deviation of the intervals between calls, in percent of their mean" placeholder="20" value={query.max_jitter_percent} onChange={(v) => update({ max_jitter_percent: v })} />
            )}
            {has('min_severity') && (
              <InlineField label="Min severity" labelWidth={14} tooltip="Only findings at or above this severity">
                <RadioButtonGroup
                  options={SEVERITIES.map((v) => ({ label: v, value: v }))}
                  value={query.min_severity ?? (query.kind === 'active_findings' ? 'Medium' : query.kind === 'annotations' ? 'High' : undefined)}
                  onChange={(v) => update({ min_severity: v }, true)}
                />
              </InlineField>
            )}
            {has('min_label_length') && (
              <NumberField field="min_label_length" label="Min label length" tooltip="Only names whose leftmost label has at least this many characters count" placeholder="30" value={query.min_label_length} onChange={(v) => update({ min_label_length: v })} />
            )}
            {has('min_subdomains') && (
              <NumberField field="min_subdomains" label="Min subdomains" tooltip="A suspect looks up at least this many distinct long labels under one domain" placeholder="20" value={query.min_subdomains} onChange={(v) => update({ min_subdomains: v })} />
            )}
            {has('min_bytes') && (
              <NumberField field="min_bytes" label="Min bytes" tooltip="An anomalous hour sent at least this much (small VPCs do not alarm)" placeholder="100000000" value={query.min_bytes} onChange={(v) => update({ min_bytes: v })} />
            )}
          </InlineFieldRow>
        </>
      )}

      {annotationMode && (
        <div data-testid="lakewatch-annotation-help" style={{ fontSize: 12, margin: '4px 0 8px' }}>
          Each row becomes an annotation from its <code>time</code> to its <code>timeEnd</code>, with its <code>text</code> and{' '}
          <code>tags</code>.{isSql && ' Name the columns of your SQL so.'}
        </div>
      )}

      <div data-testid="lakewatch-filters">
        {visibleFilters.map((f) => (
          <div key={f} style={{ display: 'flex', alignItems: 'flex-start' }}>
            {filterRow(f)}
            <Button
              size="sm"
              variant="secondary"
              fill="text"
              icon="times"
              aria-label={`Remove ${FILTER_INFO[f].label} filter`}
              onClick={() => {
                setShownFilters((s) => s.filter((x) => x !== f));
                setFilter(f, undefined);
              }}
            />
          </div>
        ))}
        {addableFilters.length > 0 && (
          <InlineFieldRow>
            <InlineField label="Add filter" labelWidth={LABEL_WIDTH} htmlFor="lakewatch-add-filter">
              <Select
                inputId="lakewatch-add-filter"
                width={32}
                placeholder={isSql ? 'Accounts or regions ($__partitionFilter)' : 'Choose a filter'}
                options={addableFilters}
                value={null}
                onChange={(v) => v.value && setShownFilters((s) => [...s, v.value as FilterName])}
              />
            </InlineField>
          </InlineFieldRow>
        )}
      </div>
    </div>
  );
}
