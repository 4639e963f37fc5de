export * from './series-csv.error';
export * from './series-csv.reader';
export * from './timestamp';
