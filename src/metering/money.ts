// Exact money. Every amount inside metering is an integer number of pico-dollars (1e-12 USD) held
// in a bigint. A price of P USD per 1M tokens is P·1e6 pico-dollars per token, an integer whenever
// P has at most 6 decimal places (the config schema rejects more), so tokens × price is exact and
// sums over any number of records are exact. Conversion to a JS number happens only at the edges
// (ledger record, Prometheus), always from the exact decimal string.

export type Pico = bigint;

/** Pico-dollars in one USD. */
export const PICO_PER_USD = 1_000_000_000_000n;
/** Decimal places a price (USD per 1M tokens) may carry and stay exact. */
export const PRICE_DECIMALS = 6;

const DECIMAL = /^(-)?(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/** Parse a decimal (string or number) into an integer scaled by 10^scale. Throws if it does not fit exactly. */
export function parseScaled(value: string | number, scale: number): bigint {
  const text = typeof value === 'number' ? numberToString(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(value)}`);
  const [, sign, int = '0', frac = '', exp = '0'] = m;
  let digits = int + frac;
  const point = int.length + Number(exp); // position of the decimal point within digits
  // Shift so that exactly `scale` digits follow the point.
  const fracLen = digits.length - point;
  if (fracLen > scale) {
    const cut = digits.slice(digits.length - (fracLen - scale));
    if (/[^0]/.test(cut)) throw new RangeError(`${text} has more than ${scale} decimal places`);
    digits = digits.slice(0, digits.length - (fracLen - scale));
  } else {
    digits = digits + '0'.repeat(scale - fracLen);
  }
  const n = BigInt(digits === '' ? '0' : digits);
  return sign ? -n : n;
}

function numberToString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return String(n); // shortest round-trip form, possibly with an exponent
}

/** Format an integer scaled by 10^scale as a plain decimal string with trailing zeros trimmed (min `minDecimals`). */
export function formatScaled(value: bigint, scale: number, minDecimals = 0): string {
  const neg = value < 0n;
  const abs = neg ? -value : value;
  const s = abs.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  let frac = s.slice(s.length - scale).replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  return (neg ? '-' : '') + int + (frac ? '.' + frac : '');
}

/** Exact decimal USD string of a pico amount ("0.000012345678"). */
export const picoToUsdString = (pico: Pico, minDecimals = 0): string => formatScaled(pico, 12, minDecimals);

/** Largest pico amount a double holds exactly (2^53 pico-dollars ≈ $9 007). */
const EXACT_PICO = 2n ** 53n;

/** USD as a JS number: the double nearest to the exact amount, the same as parsing its exact decimal
 * string. Exact for amounts with at most 15 significant digits (any single request). Up to 2^53
 * pico-dollars, Number(pico) is exact and IEEE division rounds pico / 1e12 to the nearest double,
 * as string parsing does, so the per-request path skips formatting a string. */
export const picoToUsdNumber = (pico: Pico): number =>
  pico <= EXACT_PICO && pico >= -EXACT_PICO ? Number(pico) / 1e12 : Number(picoToUsdString(pico));

/** A USD amount (number from a ledger record, or a numeric string from PostgreSQL) back to pico-dollars. */
export const usdToPico = (usd: string | number): Pico => parseScaled(usd, 12);

/** Round half away from zero to `decimals` places and format with exactly that many decimals. */
export function roundUsd(pico: Pico, decimals: number): string {
  const unit = 10n ** BigInt(12 - decimals);
  const neg = pico < 0n;
  const abs = neg ? -pico : pico;
  const rounded = ((abs + unit / 2n) / unit) * unit;
  return (neg && rounded > 0n ? '-' : '') + picoToUsdString(rounded, decimals);
}
