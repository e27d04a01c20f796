/**
 * The end-to-end page: the query and config editors rendered with @grafana/ui as Grafana would, the
 * query and settings JSON they produce shown beside them for the Chromium test to read; with
 * `?view=annotations`, the annotation query editor as Grafana's annotation settings show it.
 */
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { AnnotationQuery, DataSourceSettings } from '@grafana/data';
import { setTemplateSrv, type TemplateSrv } from '@grafana/runtime';

import { prepareAnnotation } from '../src/annotations';
import { AnnotationQueryEditor } from '../src/components/AnnotationQueryEditor';
import { ConfigEditor } from '../src/components/ConfigEditor';
import { QueryEditor } from '../src/components/QueryEditor';
import type { LakewatchDataSource } from '../src/datasource';
import type { LakewatchOptions, LakewatchQuery, LakewatchSecureOptions } from '../src/types';

setTemplateSrv({
  getVariables: () => [{ name: 'account' }, { name: 'region' }, { name: 'vpc' }, { name: 'control' }],
  replace: (s: string) => s,
  containsTemplate: () => false,
  updateTimeRange: () => {},
} as unknown as TemplateSrv);

const datasource = {
  listValues: async (resource: string) =>
    resource === 'regions'
      ? [{ text: 'us-east-1', value: 'us-east-1' }, { text: 'eu-west-1', value: 'eu-west-1' }]
      : resource === 'controls'
        ? [{ text: 'EC2.6', value: 'EC2.6' }, { text: 'S3.1', value: 'S3.1' }]
        : [],
} as unknown as LakewatchDataSource;

type Options = DataSourceSettings<LakewatchOptions, LakewatchSecureOptions>;

const START_OPTIONS = {
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
} as Options;

const panel: React.CSSProperties = { padding: 16, marginBottom: 16, background: '#181b1f', border: '1px solid #2c3235', borderRadius: 4 };

function App() {
  const [query, setQuery] = useState<LakewatchQuery>({ refId: 'A', kind: 'flow_volume', measure: 'bytes', group_by: [], filters: {} });
  const [options, setOptions] = useState<Options>(START_OPTIONS);
  const [runs, setRuns] = useState(0);
  return (
    <div style={{ fontFamily: 'Inter, Helvetica, Arial, sans-serif', color: '#ccccdc', background: '#111217', padding: 16, minHeight: '100vh' }}>
      <section id="query-editor" style={panel}>
        <h3>Query editor</h3>
        <QueryEditor query={query} onChange={setQuery} onRunQuery={() => setRuns((r) => r + 1)} datasource={datasource} />
        <pre id="query-json" data-runs={runs}>{JSON.stringify(query)}</pre>
      </section>
      <section id="config-editor" style={panel}>
        <h3>Config editor</h3>
        <ConfigEditor options={options} onOptionsChange={setOptions} />
        <pre id="settings-json">{JSON.stringify({ jsonData: options.jsonData, secureJsonData: options.secureJsonData ?? {} })}</pre>
      </section>
    </div>
  );
}

/** A new annotation as Grafana's annotation settings start it, with the datasource's preparation. */
function Annotations() {
  const [annotation, setAnnotation] = useState<AnnotationQuery<LakewatchQuery>>(() =>
    prepareAnnotation({ name: 'EC2.6 status changes', enable: true, iconColor: 'red' } as AnnotationQuery<LakewatchQuery>)
  );
  const [runs, setRuns] = useState(0);
  return (
    <div style={{ fontFamily: 'Inter, Helvetica, Arial, sans-serif', color: '#ccccdc', background: '#111217', padding: 16, minHeight: '100vh' }}>
      <section id="annotation-editor" style={panel}>
        <h3>Annotation query</h3>
        <AnnotationQueryEditor
          query={annotation.target!}
          onChange={(target) => setAnnotation((a) => ({ ...a, target }))}
          onRunQuery={() => setRuns((r) => r + 1)}
          datasource={datasource}
          annotation={annotation}
          onAnnotationChange={setAnnotation}
        />
        <pre id="annotation-json" data-runs={runs}>{JSON.stringify(annotation)}</pre>
      </section>
    </div>
  );
}

const view = new URLSearchParams(window.location.search).get('view');
createRoot(document.getElementById('root')!).render(view === 'annotations' ? <Annotations /> : <App />);
