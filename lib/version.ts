import pkg from '../package.json';

/** sshdoctor's version, from package.json (bundled at build time). */
export const TOOL_VERSION: string = pkg.version;
