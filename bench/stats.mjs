// Medians and a results table shared by the benchmark scripts.
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function report(results) {
  for (const r of results) {
    console.log(`${r.name}: sdk ${r.sdkMs.toFixed(3)} ms, baseline ${r.baselineMs.toFixed(3)} ms, ratio ${r.ratio.toFixed(2)}× (target ${r.target}) ${r.met ? 'MET' : 'MISSED'}`);
  }
}
