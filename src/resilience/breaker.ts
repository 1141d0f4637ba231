// Circuit breaker (outlier ejection) of one target. `consecutiveFailures` failures in a row eject it
// for `cooldownMs`; then one request at a time is let through as a probe. A successful probe closes
// the circuit; a failed one ejects the target again for `probeIntervalMs`. So a recovered target is
// back in use at most `probeIntervalMs` after its recovery (once the first cooldown has passed).
import type { BreakerConfig } from '../config/resilience.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Permission to send one request; exactly one of its methods should be called when it ends. */
export interface BreakerTicket {
  readonly probe: boolean;
  success(): void;
  failure(): void;
  /** Ended without a verdict on the target (client abort, a 400). */
  release(): void;
}

export class CircuitBreaker {
  private failures = 0;
  private ejectedUntil = 0;
  private probing = false;
  private ejected = false;

  constructor(private readonly now: () => number = Date.now) {}

  get state(): BreakerState {
    if (!this.ejected) return 'closed';
    return this.now() < this.ejectedUntil || this.probing ? 'open' : 'half-open';
  }

  /** Milliseconds until a probe may go, 0 when the target may be used now. */
  waitMs(): number {
    if (!this.ejected) return 0;
    return Math.max(0, this.ejectedUntil - this.now());
  }

  /** A ticket to use the target, or undefined while it is ejected (or its one probe is in flight). */
  acquire(config: BreakerConfig): BreakerTicket | undefined {
    if (!this.ejected) return new Ticket(this, config, false);
    if (this.probing || this.now() < this.ejectedUntil) return undefined;
    this.probing = true;
    return new Ticket(this, config, true);
  }

  /** @internal A ticket's verdict (each ticket reports once). */
  settle(config: BreakerConfig, probe: boolean, verdict: 'success' | 'failure' | 'none'): void {
    if (probe) this.probing = false;
    if (verdict === 'success') {
      this.failures = 0;
      this.ejected = false;
    } else if (verdict === 'failure') {
      this.failures += 1;
      if (probe) this.eject(config.probeIntervalMs);
      else if (!this.ejected && this.failures >= config.consecutiveFailures) this.eject(config.cooldownMs);
    }
  }

  private eject(ms: number): void {
    this.ejected = true;
    this.ejectedUntil = this.now() + ms;
  }
}

/** A class rather than three closures: every attempt takes one. */
class Ticket implements BreakerTicket {
  private done = false;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly config: BreakerConfig,
    readonly probe: boolean,
  ) {}

  success(): void {
    this.end('success');
  }

  failure(): void {
    this.end('failure');
  }

  release(): void {
    this.end('none');
  }

  private end(verdict: 'success' | 'failure' | 'none'): void {
    if (this.done) return;
    this.done = true;
    this.breaker.settle(this.config, this.probe, verdict);
  }
}
