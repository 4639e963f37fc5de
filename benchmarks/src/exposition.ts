/**
 * The value of an unlabelled sample in a Prometheus text exposition (what `GET /metrics`
 * answers), or undefined when the exposition has no such sample. The benchmarks read the
 * server's own counters this way, as an operator's scraper would, rather than reaching
 * into its runtime.
 */
export function sampleValue(exposition: string, name: string): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    // `name 42`, optionally followed by a timestamp; `name_bucket` or `name{...}` are other samples.
    const match = /^ (\S+)(?: \S+)?$/.exec(rest);
    if (!match) continue;
    const value = Number(match[1]);
    return Number.isNaN(value) && match[1] !== 'NaN' ? undefined : value;
  }
  return undefined;
}
