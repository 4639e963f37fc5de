import { type IngestLimits } from './ingest-limits';
import { type NameCharset } from './point.validator';

/** What every decoder is built with; both have defaults (`DEFAULT_INGEST_LIMITS`, the format's charset). */
export interface DecoderOptions {
  readonly limits?: IngestLimits;
  readonly charset?: NameCharset;
}
