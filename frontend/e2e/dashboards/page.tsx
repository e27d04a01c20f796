/**
 * A shipped dashboard drawn as Grafana draws it, from the frames the plugin answers on the demo
 * lake (`frontend/e2e/frames/`, written by `lakewatch dashboard-frames`): `?dashboard=<file>`.
 * Panels sit on Grafana's grid (24 columns, 30 px rows, 8 px gaps) by their gridPos, each in
 * Grafana's PanelChrome with its title. `window.lakewatchReady` turns true once it is drawn;
 * `window.lakewatchShow(file)` draws another dashboard in its place.
 */
import React, { useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { createTheme, dataFrameFromJSON, type DataFrame, type DataFrameJSON, dateTime, type TimeRange } from '@grafana/data';
import { GlobalStyles, PanelChrome, ThemeContext } from '@grafana/ui';
import 'uplot/dist/uPlot.min.css';

import { processFrames } from './fieldConfig';
import { type Mark, Message, Viz } from './panels';

/** Grafana's grid. */
const GRID = { columns: 24, rowHeight: 30, gap: 8 };
/** The page is as wide as the screenshots, the dashboard's grid inside its padding. */
export const PAGE_WIDTH = 1280;
const PADDING = 16;

// One font that Debian always has: text is drawn alike wherever the check runs.
const theme = createTheme({ colors: { mode: 'dark' }, typography: { fontFamily: '"DejaVu Sans", sans-serif', fontFamilyMonospace: '"DejaVu Sans Mono", monospace' } });

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface PanelJSON {
  type: string;
  title: string;
  gridPos: GridPos;
  fieldConfig?: any;
  options?: Record<string, any>;
}

interface Answer {
  index: number;
  title: string;
  frames?: DataFrameJSON[];
  error?: string;
}

interface FramesFile {
  title: string;
  range: { from: number; to: number; raw: { from: string; to: string } };
  panels: Answer[];
  annotations: Answer[];
}

/** The marks of the dashboard's enabled annotations, from their answers. */
function annotationMarks(list: any[], answers: Answer[]): Mark[] {
  return answers.flatMap((answer) => {
    const entry = list[answer.index] ?? {};
    if (entry.enable === false || entry.hide === true) {
      return [];
    }
    return (answer.frames ?? []).flatMap((json) => {
      const frame = dataFrameFromJSON(json);
      const times = frame.fields.find((f) => f.name === 'time')?.values ?? [];
      const ends = frame.fields.find((f) => f.name === 'timeEnd')?.values ?? [];
      return times.map((time, i) => ({ time, timeEnd: ends[i], color: entry.iconColor ?? 'blue' }));
    });
  });
}

function box(pos: GridPos, gridWidth: number) {
  const column = (gridWidth - GRID.gap * (GRID.columns - 1)) / GRID.columns;
  return {
    left: pos.x * (column + GRID.gap),
    top: pos.y * (GRID.rowHeight + GRID.gap),
    width: pos.w * column + (pos.w - 1) * GRID.gap,
    height: pos.h * GRID.rowHeight + (pos.h - 1) * GRID.gap,
  };
}

interface PanelProps {
  panel: PanelJSON;
  index: number;
  answers: Answer[];
  marks: Mark[];
  timeRange: TimeRange;
  gridWidth: number;
}

function Panel({ panel, index, answers, marks, timeRange, gridWidth }: PanelProps) {
  const place = box(panel.gridPos, gridWidth);
  const answer = answers.filter((a) => a.index === index);
  const error = answer.find((a) => a.error)?.error;
  let frames: DataFrame[] = [];
  if (!error) {
    frames = processFrames(
      answer.flatMap((a) => (a.frames ?? []).map((f) => dataFrameFromJSON(f))),
      panel.type,
      panel.fieldConfig,
      theme
    );
  }
  return (
    <div style={{ position: 'absolute', ...place }} data-panel={index} data-type={panel.type} data-error={error ?? ''}>
      <PanelChrome width={place.width} height={place.height} title={panel.title} statusMessage={error}>
        {(width, height) =>
          error ? (
            <Message text={error} />
          ) : (
            <Viz type={panel.type} frames={frames} options={panel.options ?? {}} width={width} height={height} timeRange={timeRange} theme={theme} marks={marks} />
          )
        }
      </PanelChrome>
    </div>
  );
}

interface VariableJSON {
  name: string;
  label?: string;
  type: string;
  hide?: number;
  current?: { text?: string | string[] };
}

/** The name provisioning gives the demo datasource, shown in the datasource picker. */
const DATASOURCE_NAME = 'Lakewatch (demo lake)';

/** The variable pickers above the panels, at their saved values, as Grafana lays them out. */
function Variables({ variables }: { variables: VariableJSON[] }) {
  const shown = variables.filter((v) => v.hide !== 2);
  const label = { background: theme.colors.background.secondary, border: `1px solid ${theme.colors.border.medium}`, padding: '0 8px', lineHeight: '30px', fontSize: 13, color: theme.colors.text.primary, fontWeight: 500 };
  const value = { background: theme.colors.background.canvas, border: `1px solid ${theme.colors.border.medium}`, borderLeft: 0, padding: '0 8px', lineHeight: '30px', fontSize: 13, minWidth: 80 };
  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', gap: 8, marginBottom: 12 }} data-testid="variables">
      {shown.map((v) => {
        const current = v.type === 'datasource' ? DATASOURCE_NAME : v.current?.text;
        return (
          <div key={v.name} style={{ display: 'flex', height: 32, overflow: 'hidden' }}>
            {v.hide !== 1 && <span style={label}>{v.label ?? v.name}</span>}
            <span style={value}>{Array.isArray(current) ? current.join(' + ') : (current ?? '')}</span>
          </div>
        );
      })}
    </div>
  );
}

function Dashboard({ dashboard, answered }: { dashboard: any; answered: FramesFile }) {
  const panels: PanelJSON[] = dashboard.panels ?? [];
  const gridWidth = PAGE_WIDTH - 2 * PADDING;
  const rows = Math.max(0, ...panels.map((p) => p.gridPos.y + p.gridPos.h));
  const height = rows * (GRID.rowHeight + GRID.gap);
  const { from, to, raw } = answered.range;
  const timeRange: TimeRange = { from: dateTime(from), to: dateTime(to), raw };
  const marks = annotationMarks(dashboard.annotations?.list ?? [], answered.annotations ?? []);
  useEffect(() => {
    // uPlot draws on the next frames; give it two before saying the page is drawn.
    requestAnimationFrame(() => requestAnimationFrame(() => ((window as any).lakewatchReady = true)));
  }, []);
  const span = `${new Date(from).toISOString().slice(0, 16).replace('T', ' ')} to ${new Date(to).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return (
    <div style={{ padding: PADDING, width: gridWidth }}>
      {/* Fixed heights: the panels stay where they are whatever the font's line height. */}
      <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', height: 32, marginBottom: 12, overflow: 'hidden' }}>
        <h1 style={{ fontSize: 20, lineHeight: '32px', margin: 0 }}>{dashboard.title}</h1>
        <span style={{ color: theme.colors.text.secondary, fontSize: 13 }}>
          {raw.from} to {raw.to} · {span}
        </span>
      </div>
      <Variables variables={dashboard.templating?.list ?? []} />
      <div style={{ position: 'relative', height }}>
        {panels.map((panel, i) => (
          <Panel key={i} panel={panel} index={i} answers={answered.panels} marks={marks} timeRange={timeRange} gridWidth={gridWidth} />
        ))}
      </div>
    </div>
  );
}

const root = createRoot(document.getElementById('root')!);

/** Draws the dashboard `file` in place of the one shown; `lakewatchReady` says when it is drawn. */
async function show(file: string) {
  const page = window as any;
  page.lakewatchReady = false;
  page.lakewatchFailed = undefined;
  try {
    const [dashboard, answered] = await Promise.all(
      [`./dashboards/${file}`, `./frames/${file}`].map(async (url) => {
        const response = await fetch(url);
        if (!response.ok) {
          throw new Error(`${url}: ${response.status}`);
        }
        return response.json();
      })
    );
    root.render(
      <ThemeContext.Provider value={theme}>
        <GlobalStyles />
        <Dashboard key={file} dashboard={dashboard} answered={answered} />
      </ThemeContext.Provider>
    );
  } catch (e) {
    page.lakewatchFailed = String(e);
  }
}

// One page load draws every dashboard in turn: the bundle is parsed once.
(window as any).lakewatchShow = show;
show(new URLSearchParams(location.search).get('dashboard') ?? '');
