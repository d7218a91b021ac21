// `node --import ./scripts/sh-loader.mjs`: registers scripts/sh-hooks.mjs.
import { register } from 'node:module';

register('./sh-hooks.mjs', import.meta.url);
