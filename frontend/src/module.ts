import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { LakewatchDataSource } from './datasource';
import type { LakewatchOptions, LakewatchQuery } from './types';

export const plugin = new DataSourcePlugin<LakewatchDataSource, LakewatchQuery, LakewatchOptions>(LakewatchDataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
