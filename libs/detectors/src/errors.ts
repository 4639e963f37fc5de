export enum DetectorErrorCode {
  INVALID_PARAMETER = 'INVALID_PARAMETER',
  INVALID_POINT = 'INVALID_POINT',
  UNKNOWN_DETECTOR = 'UNKNOWN_DETECTOR',
  UNSUPPORTED_SNAPSHOT = 'UNSUPPORTED_SNAPSHOT',
  CORRUPT_SNAPSHOT = 'CORRUPT_SNAPSHOT',
}

/** Every error the detector library throws: a code to branch on and a message naming the field. */
export class DetectorError extends Error {
  constructor(
    readonly code: DetectorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DetectorError';
  }
}
