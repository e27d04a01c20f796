import type { AnnotationQuery, AnnotationSupport } from '@grafana/data';

import { AnnotationQueryEditor } from './components/AnnotationQueryEditor';
import { DEFAULT_ANNOTATION_QUERY, type LakewatchQuery } from './types';

/** The refId an annotation query runs under (Grafana's own choice for annotation targets). */
export const ANNOTATION_REF_ID = 'Anno';

/** The query a new annotation starts with: EC2.6 status changes. */
export function defaultAnnotationQuery(): LakewatchQuery {
  return { refId: ANNOTATION_REF_ID, ...DEFAULT_ANNOTATION_QUERY } as LakewatchQuery;
}

/**
 * The stored annotation with a Lakewatch query in `target`: an annotation saved before it had one
 * (a new annotation, or one from another datasource) gets the default query; anything else is kept
 * as it is, so nothing the user set is lost.
 */
export function prepareAnnotation(json: AnnotationQuery<LakewatchQuery>): AnnotationQuery<LakewatchQuery> {
  if (json.target && typeof json.target === 'object') {
    return json;
  }
  return { ...json, target: defaultAnnotationQuery() };
}

/** The query to run for an annotation; none (skipped quietly) when it has no query. */
export function prepareAnnotationQuery(anno: AnnotationQuery<LakewatchQuery>): LakewatchQuery | undefined {
  if (!anno.target) {
    return undefined;
  }
  return { ...anno.target, refId: anno.target.refId || ANNOTATION_REF_ID };
}

/** Grafana's annotation support for the Lakewatch datasource (events from frames: the standard mapping). */
export const annotationSupport: AnnotationSupport<LakewatchQuery> = {
  QueryEditor: AnnotationQueryEditor,
  getDefaultQuery: defaultAnnotationQuery,
  prepareAnnotation,
  prepareQuery: prepareAnnotationQuery,
};
