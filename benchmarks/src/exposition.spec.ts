import { sampleValue } from './exposition';

const EXPOSITION = `# HELP seismo_engine_points_stored_total Points scored by the engine and stored
# TYPE seismo_engine_points_stored_total counter
seismo_engine_points_stored_total 2000000
seismo_engine_points_stored_total_extra 5
seismo_ingest_points_total{format="json",outcome="accepted"} 12
seismo_engine_series 1e+4 1700000000000
`;

describe('sampleValue', () => {
  it('reads an unlabelled sample, with or without a timestamp', () => {
    expect(sampleValue(EXPOSITION, 'seismo_engine_points_stored_total')).toBe(2_000_000);
    expect(sampleValue(EXPOSITION, 'seismo_engine_series')).toBe(10_000);
  });

  it('does not take a longer name or a labelled sample for the one asked', () => {
    expect(sampleValue(EXPOSITION, 'seismo_ingest_points_total')).toBeUndefined();
    expect(sampleValue(EXPOSITION, 'seismo_engine_points')).toBeUndefined();
    expect(sampleValue('', 'seismo_engine_points_stored_total')).toBeUndefined();
  });
});
