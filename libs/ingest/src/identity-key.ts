/**
 * The cache key of a metric name and its labels as given (in their order): every part
 * prefixed by its length, so no two different inputs share a key whatever they contain.
 */
export function rawIdentityKey(metric: string, labels: Readonly<Record<string, string>> | undefined): string {
  let key = `${metric.length}:${metric}`;
  if (labels !== undefined) {
    for (const name in labels) {
      const value = labels[name];
      key += `${name.length}:${name}${value.length}:${value}`;
    }
  }
  return key;
}
