/**
 * One panel's visualisation from its processed frames: Grafana's own components from @grafana/ui
 * (TimeSeries on uPlot, Table, BigValue, BarGauge) where they stand alone, and a plain SVG or list
 * for the node graph and logs panels, whose components live in Grafana itself.
 */
import React from 'react';
import {
  type DataFrame,
  type DisplayValue,
  type Field,
  FieldType,
  getFieldDisplayName,
  type GrafanaTheme2,
  reduceField,
  type TimeRange,
  VizOrientation,
} from '@grafana/data';
import { BarGaugeDisplayMode, LegendDisplayMode, type VizLegendOptions } from '@grafana/schema';
import { BarGauge, BigValue, BigValueColorMode, BigValueGraphMode, BigValueTextMode, Table, TimeSeries, type UPlotConfigBuilder } from '@grafana/ui';
import type uPlot from 'uplot';

/** One annotation as Grafana marks it on a graph: a time (and an end for a region) in a colour. */
export interface Mark {
  time: number;
  timeEnd?: number | null;
  color: string;
}

/** What a panel gets to draw. */
export interface VizProps {
  type: string;
  frames: DataFrame[];
  options: Record<string, any>;
  width: number;
  height: number;
  timeRange: TimeRange;
  theme: GrafanaTheme2;
  /** The dashboard's annotations, drawn on time series as Grafana does. */
  marks: Mark[];
}

/** The panel's visualisation, by panel type. */
export function Viz(props: VizProps) {
  switch (props.type) {
    case 'timeseries':
      return <Series {...props} />;
    case 'table':
      return <TableViz {...props} />;
    case 'stat':
      return <Stat {...props} />;
    case 'bargauge':
      return <Bars {...props} />;
    case 'nodeGraph':
      return <NodeGraph {...props} />;
    case 'logs':
      return <Logs {...props} />;
    default:
      return <Message text={`No picture for a ${props.type} panel`} />;
  }
}

export function Message({ text }: { text: string }) {
  return <div style={{ padding: 8, fontSize: 14, opacity: 0.8 }}>{text}</div>;
}

function Series({ frames, options, width, height, timeRange, marks, theme }: VizProps) {
  const series = frames.filter((f) => f.fields.some((x) => x.type === FieldType.time) && f.fields.some((x) => x.type === FieldType.number));
  if (series.length === 0) {
    return <Message text="No data" />;
  }
  const legend: VizLegendOptions = {
    displayMode: options.legend?.displayMode ?? LegendDisplayMode.List,
    placement: options.legend?.placement ?? 'bottom',
    calcs: options.legend?.calcs ?? [],
    showLegend: options.legend?.showLegend ?? true,
  };
  return (
    <TimeSeries frames={series} width={width} height={height} timeRange={timeRange} timeZone="utc" legend={legend} options={options}>
      {(builder) => markAnnotations(builder, marks, theme)}
    </TimeSeries>
  );
}

const marked = new WeakSet<UPlotConfigBuilder>();

/**
 * Draws the annotations over the plot once it is drawn: a dashed line at each time (a shaded band
 * to its end for a region) and a triangle under the axis, as Grafana's annotation markers look.
 * The hook goes in while the graph renders, before uPlot is created from the builder.
 */
function markAnnotations(builder: UPlotConfigBuilder, marks: Mark[], theme: GrafanaTheme2) {
  if (marks.length === 0 || marked.has(builder)) {
    return null;
  }
  marked.add(builder);
  builder.addHook('draw', (u: uPlot) => {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    ctx.save();
    for (const mark of marks) {
      const color = theme.visualization.getColorByName(mark.color);
      const x = u.valToPos(mark.time, 'x', true);
      if (mark.timeEnd != null) {
        const end = u.valToPos(mark.timeEnd, 'x', true);
        ctx.fillStyle = color;
        ctx.globalAlpha = 0.1;
        ctx.fillRect(x, top, end - x, height);
        ctx.globalAlpha = 1;
      }
      ctx.strokeStyle = color;
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(x, top + height);
      ctx.lineTo(x - 5, top + height + 7);
      ctx.lineTo(x + 5, top + height + 7);
      ctx.fill();
    }
    ctx.restore();
  });
  return null;
}

function TableViz({ frames, width, height, options }: VizProps) {
  const frame = frames[0];
  if (!frame || frame.length === 0) {
    return <Message text="No data" />;
  }
  return <Table data={frame} width={width} height={height} cellHeight={options.cellHeight ?? 'sm'} />;
}

/** Each number field reduced as the panel's reduceOptions say (the last value by default). */
function reduced(frames: DataFrame[], options: Record<string, any>): Array<{ field: Field; display: DisplayValue }> {
  const calc = options.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  return frames.flatMap((frame) =>
    frame.fields
      .filter((field) => field.type === FieldType.number)
      .map((field) => {
        const value = reduceField({ field, reducers: [calc] })[calc];
        const display = field.display!(value);
        return { field, display: { ...display, title: getFieldDisplayName(field, frame, frames) } };
      })
  );
}

function Stat({ frames, options, width, height, theme }: VizProps) {
  const values = reduced(frames, options);
  if (values.length === 0) {
    return <Message text="No data" />;
  }
  const gap = 8;
  const each = (width - gap * (values.length - 1)) / values.length;
  return (
    <div style={{ display: 'flex', gap }}>
      {values.map(({ display }, i) => (
        <BigValue
          key={i}
          value={display}
          width={each}
          height={height}
          theme={theme}
          colorMode={options.colorMode === 'value' ? BigValueColorMode.Value : BigValueColorMode.Background}
          graphMode={BigValueGraphMode.None}
          textMode={options.textMode === 'value' ? BigValueTextMode.Value : BigValueTextMode.ValueAndName}
        />
      ))}
    </div>
  );
}

function Bars({ frames, options, width, height, theme }: VizProps) {
  const values = reduced(frames, options);
  if (values.length === 0) {
    return <Message text="No data" />;
  }
  const gap = 4;
  const each = Math.max(16, (height - gap * (values.length - 1)) / values.length);
  return (
    <div style={{ display: 'flex', flexDirection: 'column', gap }}>
      {values.map(({ field, display }, i) => (
        <BarGauge
          key={i}
          value={display}
          field={field.config}
          display={field.display}
          width={width}
          height={each}
          theme={theme}
          orientation={VizOrientation.Horizontal}
          displayMode={(options.displayMode as BarGaugeDisplayMode) ?? BarGaugeDisplayMode.Gradient}
          showUnfilled={options.showUnfilled ?? true}
          itemSpacing={gap}
        />
      ))}
    </div>
  );
}

function column(frame: DataFrame | undefined, name: string): any[] {
  return frame?.fields.find((f) => f.name === name)?.values ?? [];
}

/** Grafana's node graph frames (`nodes`, `edges`) with the nodes on a circle. */
function NodeGraph({ frames, width, height, theme }: VizProps) {
  const nodes = frames.find((f) => f.name === 'nodes' || f.meta?.custom?.frameType === 'nodes');
  const edges = frames.find((f) => f.name === 'edges' || f.meta?.custom?.frameType === 'edges');
  const ids = column(nodes, 'id');
  if (ids.length === 0) {
    return <Message text="No data" />;
  }
  const titles = column(nodes, 'title');
  const stats = column(nodes, 'mainstat');
  const mainstat = nodes?.fields.find((f) => f.name === 'mainstat');
  // An ellipse as wide as the panel: the labels under the nodes keep clear of each other.
  const [rx, ry] = [width / 2 - 90, height / 2 - 40];
  const at = new Map<string, [number, number]>();
  ids.forEach((id, i) => {
    const angle = (2 * Math.PI * i) / ids.length - Math.PI / 2;
    at.set(String(id), [width / 2 + rx * Math.cos(angle), height / 2 + ry * Math.sin(angle)]);
  });
  const sources = column(edges, 'source');
  const targets = column(edges, 'target');
  const line = theme.colors.border.strong;
  const show = (i: number) => (mainstat?.display ? mainstat.display(stats[i]).text + (mainstat.display(stats[i]).suffix ?? '') : String(stats[i] ?? ''));
  return (
    <svg width={width} height={height} data-testid="node-graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill={line} />
        </marker>
      </defs>
      {sources.map((s, i) => {
        const [a, b] = [at.get(String(s)), at.get(String(targets[i]))];
        if (!a || !b) {
          return null;
        }
        // From rim to rim, so that the arrow head shows at the target.
        const length = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1;
        const [dx, dy] = [((b[0] - a[0]) / length) * 20, ((b[1] - a[1]) / length) * 20];
        return <line key={i} x1={a[0] + dx} y1={a[1] + dy} x2={b[0] - dx} y2={b[1] - dy} stroke={line} strokeWidth={1.5} markerEnd="url(#arrow)" />;
      })}
      {ids.map((id, i) => {
        const [x, y] = at.get(String(id))!;
        return (
          <g key={String(id)}>
            <circle cx={x} cy={y} r={20} fill={theme.colors.background.primary} stroke={theme.visualization.getColorByName('green')} strokeWidth={3} />
            <text x={x} y={y + 34} textAnchor="middle" fontSize={11} fill={theme.colors.text.primary}>
              {String(titles[i] ?? id)}
            </text>
            <text x={x} y={y + 4} textAnchor="middle" fontSize={8} fill={theme.colors.text.secondary}>
              {show(i)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The colour of a log level's bar, as Grafana's logs panel marks levels. */
function levelColor(level: unknown, theme: GrafanaTheme2): string {
  const name = String(level ?? '').toLowerCase();
  const color = /crit|err/.test(name) ? 'red' : /warn/.test(name) ? 'yellow' : /info/.test(name) ? 'green' : 'text';
  return color === 'text' ? theme.colors.text.disabled : theme.visualization.getColorByName(color);
}

/** A logs frame as Grafana's logs panel lists it: a level bar, the time and the line. */
function Logs({ frames, height, theme }: VizProps) {
  const frame = frames[0];
  const times = frame?.fields.find((f) => f.type === FieldType.time)?.values ?? [];
  const body = frame?.fields.find((f) => f.name === 'body' || f.name === 'line') ?? frame?.fields.find((f) => f.type === FieldType.string);
  const levels = frame?.fields.find((f) => f.name === 'severity' || f.name === 'level')?.values ?? [];
  if (!body || times.length === 0) {
    return <Message text="No data" />;
  }
  return (
    <div style={{ height, overflow: 'hidden', fontFamily: theme.typography.fontFamilyMonospace, fontSize: 12, lineHeight: '20px' }} data-testid="logs">
      {times.map((t, i) => (
        <div key={i} style={{ whiteSpace: 'nowrap', borderLeft: `3px solid ${levelColor(levels[i], theme)}`, paddingLeft: 8 }}>
          <span style={{ color: theme.colors.text.secondary }}>{new Date(t).toISOString().replace('T', ' ').slice(0, 19)}</span> {String(body.values[i])}
        </div>
      ))}
    </div>
  );
}
