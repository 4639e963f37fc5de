import pkg from '../../../package.json';

/** Seismo's version, from package.json (copied next to the build by tsc, so it works from dist/ too). */
export const SEISMO_VERSION: string = pkg.version;
