/**
 * A panel's field config applied to its frames as Grafana's panel renderer does (applyFieldOverrides
 * with the standard options a dashboard JSON uses), plus the defaults each panel plugin adds to
 * its own `custom` options — Grafana keeps those in the panel plugins, which this page has not.
 */
import {
  applyFieldOverrides,
  type DataFrame,
  type FieldConfigPropertyItem,
  FieldConfigOptionsRegistry,
  type FieldConfigSource,
  type GrafanaTheme2,
} from '@grafana/data';

/** The standard field options (not plugin-specific) the shipped dashboards set, by path. */
const STANDARD = ['unit', 'decimals', 'min', 'max', 'color', 'thresholds', 'displayName', 'noValue', 'mappings', 'links'];

const registry = new FieldConfigOptionsRegistry(() =>
  STANDARD.map(
    (path) =>
      ({
        id: path,
        path,
        name: path,
        process: (value: unknown) => value,
        shouldApply: () => true,
      }) as unknown as FieldConfigPropertyItem
  )
);

/** What Grafana's own panel plugins default to, for the panel types the dashboards use. */
const PLUGIN_DEFAULTS: Record<string, { color?: object; custom?: object }> = {
  timeseries: {
    color: { mode: 'palette-classic' },
    custom: {
      drawStyle: 'line',
      lineInterpolation: 'linear',
      lineWidth: 1,
      fillOpacity: 0,
      gradientMode: 'none',
      showPoints: 'never',
      pointSize: 5,
      spanNulls: false,
      axisPlacement: 'auto',
      axisBorderShow: false,
      axisCenteredZero: false,
      axisColorMode: 'text',
      axisLabel: '',
      barAlignment: 0,
      stacking: { mode: 'none', group: 'A' },
      thresholdsStyle: { mode: 'off' },
      scaleDistribution: { type: 'linear' },
      hideFrom: { legend: false, tooltip: false, viz: false },
    },
  },
  table: { color: { mode: 'thresholds' }, custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false } },
  bargauge: { color: { mode: 'thresholds' } },
  stat: { color: { mode: 'thresholds' } },
};

const THRESHOLDS = { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 80 }] };

/** The panel's field config with its plugin's defaults under it. */
export function withPluginDefaults(type: string, source: FieldConfigSource | undefined): FieldConfigSource {
  const plugin = PLUGIN_DEFAULTS[type] ?? {};
  const defaults = source?.defaults ?? {};
  return {
    defaults: {
      thresholds: THRESHOLDS as FieldConfigSource['defaults']['thresholds'],
      ...(plugin.color ? { color: plugin.color } : {}),
      ...defaults,
      custom: { ...(plugin.custom ?? {}), ...(defaults.custom ?? {}) },
    } as FieldConfigSource['defaults'],
    overrides: source?.overrides ?? [],
  };
}

/** The frames with the panel's field config applied: display names, units, colours. */
export function processFrames(frames: DataFrame[], type: string, source: FieldConfigSource | undefined, theme: GrafanaTheme2): DataFrame[] {
  const fieldConfig = withPluginDefaults(type, source);
  const custom = fieldConfig.defaults.custom;
  // Plugin options live under `custom`; the registry here knows only the standard ones.
  const seeded = frames.map((frame) => ({
    ...frame,
    fields: frame.fields.map((field) => ({ ...field, config: { ...field.config, custom: { ...custom, ...(field.config.custom ?? {}) } } })),
  }));
  return applyFieldOverrides({
    data: seeded,
    fieldConfig,
    fieldConfigRegistry: registry,
    replaceVariables: (text: string) => text,
    theme,
    timeZone: 'utc',
  });
}
