import { numberError, switchKind } from './queryModel';

describe('the baseline detections in the query model', () => {
  it('keeps a side ranking apart from a per-VPC or per-ENI score when the kind changes', () => {
    const talkers = { refId: 'A', kind: 'top_talkers', by: 'dst_ip' as const, filters: {} };
    expect(switchKind(talkers, 'egress_anomaly')).toEqual({ refId: 'A', kind: 'egress_anomaly', filters: {} });
    const anomaly = { refId: 'A', kind: 'egress_anomaly', by: 'eni' as const, baseline_days: 14, min_score: 5, filters: {} };
    expect(switchKind(anomaly, 'egress_anomaly')).toEqual(anomaly);
    // The baseline carries over to new external peers; the score fields do not.
    expect(switchKind(anomaly, 'new_external_peers')).toEqual({
      refId: 'A',
      kind: 'new_external_peers',
      baseline_days: 14,
      filters: {},
    });
  });

  it('checks the bounds the backend accepts', () => {
    expect(numberError('baseline_days', '2')).toBe('Enter a whole number from 3 to 28');
    expect(numberError('baseline_days', '28')).toBeUndefined();
    expect(numberError('max_jitter_percent', '101')).toBe('Enter a whole number from 1 to 100');
    expect(numberError('min_contacts', '8')).toBeUndefined();
  });
});
