import React, { useMemo } from 'react';
import type { AnnotationQuery, QueryEditorProps } from '@grafana/data';

import type { LakewatchDataSource } from '../datasource';
import { switchKind } from '../queryModel';
import type { LakewatchOptions, LakewatchQuery } from '../types';
import { QueryEditor } from './QueryEditor';

type Props = QueryEditorProps<LakewatchDataSource, LakewatchQuery, LakewatchOptions> & {
  annotation?: AnnotationQuery<LakewatchQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<LakewatchQuery>) => void;
};

/**
 * The query an annotation editor works on. Grafana lays the datasource's default query (a panel
 * query: measure, group_by…) under the stored target; only what the target's kind reads is kept,
 * so none of those panel fields reaches the saved annotation.
 */
export function annotationTarget(query: LakewatchQuery): LakewatchQuery {
  return query.kind === 'annotations' || query.kind === 'sql' ? switchKind(query, query.kind) : query;
}

/**
 * The query editor in Grafana's annotation settings: the builder with the annotations kind
 * (control status changes, flow logs going silent) or SQL giving time, timeEnd, text and tags.
 */
export function AnnotationQueryEditor(props: Props) {
  const { annotation: _annotation, onAnnotationChange: _onAnnotationChange, query, ...rest } = props;
  const target = useMemo(() => annotationTarget(query), [query]);
  return (
    <div data-testid="lakewatch-annotation-editor">
      <QueryEditor {...rest} query={target} annotationMode />
    </div>
  );
}
