import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  color: string;
}

export interface TimeChartProps {
  title: string;
  /** The y axis' unit, shown on the axis and in the legend: "requests", "tokens", "USD", "%", "ms". */
  unit: string;
  /** Bucket starts, unix seconds. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  testId?: string;
}

function formatValue(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (unit === 'USD') return `$${value < 0.01 && value > 0 ? value.toPrecision(2) : value.toFixed(2)}`;
  if (unit === '%') return `${value.toFixed(1)}%`;
  if (unit === 'ms') return `${Math.round(value)} ms`;
  return Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(1)}k` : `${Math.round(value * 100) / 100}`;
}

/**
 * A time-series chart (uPlot): a time x axis, a y axis labelled with its unit, and a legend that shows the values
 * under the cursor. It follows its container's width, so it fits a phone as well as a desktop.
 */
export function TimeChart({ title, unit, x, series, height = 200, testId }: TimeChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const points = series.reduce((total, line) => total + line.values.filter((value) => value !== null && value !== 0).length, 0);

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      // Shares are drawn on their whole 0–100 range, so a flat 100% uptime does not look like a cliff.
      scales: { x: { time: true }, ...(unit === '%' ? { y: { range: [0, 100] as uPlot.Range.MinMax } } : {}) },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, label: unit, size: 56, values: (_chart, ticks) => ticks.map((tick) => formatValue(unit, tick)) },
      ],
      series: [
        { label: 'time' },
        ...series.map((line) => ({ label: `${line.label} (${unit})`, stroke: line.color, fill: `${line.color}22`, width: 2, points: { show: x.length < 80 }, value: (_chart: uPlot, value: number | null) => formatValue(unit, value) })),
      ],
    };
    const chart = new uPlot(options, [x, ...series.map((line) => line.values)] as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, unit, height]);

  return (
    <figure class="chart" data-testid={testId} data-points={points}>
      <figcaption>{title}</figcaption>
      <div ref={holder} class="chart-canvas" />
    </figure>
  );
}
