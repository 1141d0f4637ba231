// lazyChild: the child logger is made on first use, and logs exactly as base.child() would.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../src/logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write: (chunk, _e, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
  return { lines, logger: createLogger({ level, destination: destination as never }) };
}

describe('lazyChild', () => {
  it('logs with its bindings, the base bindings and redaction, like base.child()', () => {
    const { lines, logger } = capture('info');
    const lazy = lazyChild(logger, { requestId: 'req_1' });
    lazy.info({ headers: { authorization: 'Bearer sk-secret' } }, 'hello');
    lazy.child({ backend: 'azure' }).warn('nested');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ service: 'stateroute', requestId: 'req_1', msg: 'hello', headers: { authorization: '[REDACTED]' } });
    expect(lines[1]).toMatchObject({ requestId: 'req_1', backend: 'azure', msg: 'nested', level: 40 });
    expect(lazy.bindings()).toEqual(logger.child({ requestId: 'req_1' }).bindings());
    expect(lazy.isLevelEnabled('debug')).toBe(false);
  });

  it('never makes the child when nothing is logged at an enabled level', () => {
    const { lines, logger } = capture('warn');
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChild(logger, { requestId: 'req_2' });
    lazy.info('dropped');
    lazy.debug('dropped');
    expect(child).not.toHaveBeenCalled();
    lazy.error('kept');
    lazy.error('kept again');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => l.msg)).toEqual(['kept', 'kept again']);
  });
});
