// A histogram that prom-client's Registry exports exactly as it exports a prom-client Histogram,
// but whose observations are counted in plain numbers the caller already holds. prom-client's
// observe() checks the labels, builds a hash string from them and looks the series up on every call
// (5–7 calls per request: 140–230 k instructions); here a request finds its bucket in a short array
// and adds 1. The Registry only needs a metric's name, help, type, aggregator and get() (prom-client
// builds such plain objects itself for cluster aggregation), so scrapes, `getMetricsAsJSON()` and
// AggregatorRegistry treat this one like any other. test/metering/exposition.test.ts holds the
// exposition byte for byte to what prom-client's Histogram produced.
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/#histograms-and-summaries
import type { Registry } from 'prom-client';
import { seriesKey } from './deferred-counter.js';

/** One exported sample, in the shape prom-client's Registry formats (and its Histogram produces). */
interface Sample {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}
export interface HistogramExport {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: Sample[];
}

/** One series: its labels and its counts, kept by the caller and passed to observe(). */
export interface HistogramCell<T extends string> {
  readonly labels: Readonly<Record<T, string>>;
  /** Observations per bucket, not cumulative; a value above the last bound counts only in `count`. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

export interface DeferredHistogramConfig<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Upper bounds, strictly increasing and finite (+Inf is implied). */
  buckets: readonly number[];
  registers: Registry[];
}

export class DeferredHistogram<T extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly bounds: readonly number[];
  private readonly labelNames: ReadonlySet<string>;
  /** Series in first-observation order (the order prom-client exports them in). Bounded by the labels. */
  private readonly cells = new Map<string, HistogramCell<T>>();

  constructor(config: DeferredHistogramConfig<T>) {
    const bounds = config.buckets;
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new RangeError(`${config.name}: buckets must be finite and strictly increasing`);
    }
    if (config.labelNames?.includes('le')) throw new Error(`${config.name}: le is a reserved label name`);
    this.name = config.name;
    this.help = config.help;
    this.bounds = [...bounds];
    this.labelNames = new Set(config.labelNames ?? []);
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  /** The series with these label values, created (and from then on exported) on first use. */
  cell(labels: Readonly<Record<T, string>>): HistogramCell<T> {
    const key = seriesKey(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      for (const name of Object.keys(labels)) if (!this.labelNames.has(name)) throw new Error(`${this.name}: unknown label ${name}`);
      cell = { labels, buckets: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  /** Count one value in a series. Not a number, or infinite: ignored (prom-client would throw). */
  observe(cell: HistogramCell<T>, value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) cell.buckets[i]! += 1;
    cell.sum += value;
    cell.count += 1;
  }

  /** Forgets every series (as prom-client's reset() does); cells handed out before count no more. */
  reset(): void {
    this.cells.clear();
  }

  /** What a scrape formats: bucket labels carry `le` first and the series labels after, as prom-client's do. */
  getForPromString(): HistogramExport {
    return this.export((le, labels) => ({ labels: le, sharedLabels: labels }));
  }

  /** What getMetricsAsJSON (and so a cluster worker) hands on: labels merged, `le` first. */
  async get(): Promise<HistogramExport> {
    return this.export((le, labels) => ({ labels: { ...le, ...labels } }));
  }

  private export(place: (le: { le?: number | string }, labels: Readonly<Record<string, string>>) => Pick<Sample, 'labels' | 'sharedLabels'>): HistogramExport {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.buckets[i]!;
        values.push({ ...place({ le: this.bounds[i]! }, cell.labels), value: cumulative, metricName: bucket });
      }
      values.push({ ...place({ le: '+Inf' }, cell.labels), value: cell.count, metricName: bucket });
      values.push({ ...place({}, cell.labels), value: cell.sum, metricName: `${this.name}_sum` });
      values.push({ ...place({}, cell.labels), value: cell.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
