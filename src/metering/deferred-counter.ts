// A prom-client Counter whose per-request increments are added up in plain numbers and handed to
// prom-client when it collects: at every scrape, and when a cluster worker answers the primary's
// AggregatorRegistry (both go through the metric's get(), which runs collect() first). prom-client
// validates and hashes the labels on every inc(); here a request adds to a number it already holds,
// and prom-client does that work once per series per scrape. The exported values are the same:
// increments are whole numbers (requests, tokens), whose sums are exact in any grouping.
import { Counter, type CounterConfiguration } from 'prom-client';

/** One series: its labels and what was added since the last collection. */
export interface CounterCell<T extends string> {
  readonly labels: Readonly<Record<T, string>>;
  pending: number;
}

/** A series' key in a deferred metric's map: its label values in the order the caller's label
 * objects hold them (callers reuse one label object per series). */
export const seriesKey = (labels: Readonly<Record<string, string>>): string => Object.values(labels).join('\0');

export class DeferredCounter<T extends string> {
  /** Every series incremented at least once, by its label values, in first-increment order (the
   * order prom-client then exports them in). As many as the counter's series: bounded by the labels. */
  private readonly cells = new Map<string, CounterCell<T>>();
  readonly counter: Counter<T>;

  constructor(config: Omit<CounterConfiguration<T>, 'collect'>) {
    const cells = this.cells;
    this.counter = new Counter<T>({
      ...config,
      collect() {
        // inc(labels, 0) still creates the series: one incremented by 0 is exported, as before.
        for (const cell of cells.values()) {
          this.inc(cell.labels, cell.pending);
          cell.pending = 0;
        }
      },
    });
  }

  /** The series with these label values (created on first use; keep it and add to `pending`). A
   * series exists, and is exported, from the first call on, as after a first inc(). */
  cell(labels: Readonly<Record<T, string>>): CounterCell<T> {
    const key = seriesKey(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { labels, pending: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }
}
