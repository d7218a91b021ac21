/**
 * Loads zod's English messages. `zod/mini` loads no locale (every built-in message would read
 * "Invalid input"); classic zod loaded English, and users see these texts in 400 answers
 * (`payload: Invalid input: expected string, received undefined`). Only `en` is imported:
 * `z.locales.en()` would pull every locale into the Lambda bundles.
 *
 * Imported for its effect by every module that parses with zod. Messages are built at parse
 * time, so the order of imports does not matter.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
