import React from 'react';
import type { AnnotationQuery, QueryEditorProps } from '@grafana/data';

import type { LakewatchDataSource } from '../datasource';
import type { LakewatchOptions, LakewatchQuery } from '../types';
import { QueryEditor } from './QueryEditor';

type Props = QueryEditorProps<LakewatchDataSource, LakewatchQuery, LakewatchOptions> & {
  annotation?: AnnotationQuery<LakewatchQuery>;
  onAnnotationChange?: (annotation: AnnotationQuery<LakewatchQuery>) => void;
};

/**
 * The query editor in Grafana's annotation settings: the builder with the annotations kind
 * (control status changes, flow logs going silent) or SQL giving time, timeEnd, text and tags.
 */
export function AnnotationQueryEditor(props: Props) {
  const { annotation: _annotation, onAnnotationChange: _onAnnotationChange, ...rest } = props;
  return (
    <div data-testid="lakewatch-annotation-editor">
      <QueryEditor {...rest} annotationMode />
    </div>
  );
}
