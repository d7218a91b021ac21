/**
 * Where the service may post a chat callback (Slack `response_url`, DingTalk `sessionWebhook`):
 * only the chat service's own hosts, over https. The lists are configuration so that tests and
 * `npm start` can point them at a loopback stand-in; plain http is accepted only for loopback.
 */
import { ConfigError, ValidationError } from '../errors';

export interface CallbackOrigins {
  slack: readonly string[];
  dingtalk: readonly string[];
}

/** Slack posts `response_url`s on hooks.slack.com; DingTalk's sessionWebhook is on oapi.dingtalk.com. */
export const DEFAULT_CALLBACK_ORIGINS: CallbackOrigins = {
  slack: ['https://hooks.slack.com'],
  dingtalk: ['https://oapi.dingtalk.com'],
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/** Parses a comma-separated list of origins (`https://host[:port]`; `http://` only for loopback). */
export function parseCallbackOrigins(text: string | undefined, variable: string, fallback: readonly string[]): readonly string[] {
  if (text === undefined || text.trim() === '') return fallback;
  return text.split(',').map((raw) => {
    const entry = raw.trim();
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new ConfigError(variable, `'${entry}' must be an origin such as https://hooks.slack.com`);
    }
    if (url.origin !== entry.replace(/\/$/, '') || url.pathname !== '/')
      throw new ConfigError(variable, `'${entry}' must be an origin (scheme, host, optional port), no path`);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
      throw new ConfigError(variable, `'${entry}' must use https (http only for a loopback stand-in)`);
    }
    return url.origin;
  });
}

/**
 * The callback URL if its origin is one of `origins` (exact scheme, host and port); otherwise a
 * ValidationError naming `field`, so nothing is ever posted to an address of the caller's choosing.
 */
export function allowedCallbackUrl(value: string, origins: readonly string[], field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(field, 'must be a URL');
  }
  if (url.username || url.password || !origins.includes(url.origin)) {
    throw new ValidationError(field, `must be an https URL on ${origins.map((o) => new URL(o).host).join(' or ')}`);
  }
  return url.href;
}
