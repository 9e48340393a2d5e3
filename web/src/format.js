// Number formats of the dashboard: counts, money and rates, en-US.

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const MONEY = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

// Which format each KPI uses.
export const KPI_KIND = {
  impressions: 'int',
  clicks: 'int',
  ctr: 'pct',
  spend: 'money',
  avg_cpc: 'money',
  conversions: 'int',
  cost_per_conversion: 'money',
  qualified: 'int',
  disqualified: 'int',
  qualified_rate: 'pct',
};

// Formats a value from the API; null (no denominator) shows as a dash.
export function formatValue(kind, v) {
  if (v === null || v === undefined || Number.isNaN(Number(v))) return '—';
  const n = Number(v);
  if (kind === 'money') return MONEY.format(n);
  if (kind === 'pct') return `${MONEY.format(n * 100)}%`;
  return INT.format(n);
}
