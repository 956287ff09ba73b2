/**
 * Numbers as log lines show them. Durations in milliseconds keep three decimals (microseconds: below that is timer
 * noise), so `4.975051000000001` is written `4.975`. Amounts (spend, budgets) keep 12 significant digits, which drops
 * binary noise (`0.30000000000000004` → `0.3`) without rounding a tiny cost to zero.
 */
export function roundMs(milliseconds: number): number {
  return Math.round(milliseconds * 1000) / 1000;
}

export function roundAmount(amount: number): number {
  return Number.isFinite(amount) ? Number(amount.toPrecision(12)) : amount;
}
