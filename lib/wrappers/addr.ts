/**
 * Address parsing with the quirks libwrap inherits from glibc: inet_aton for IPv4 net/mask
 * fields (octal and hex parts allowed, 255.255.255.255 rejected as INADDR_NONE) and
 * getaddrinfo(AI_NUMERICHOST) for bracketed IPv6.
 */

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
/** C isspace() in the C locale. */
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/** glibc inet_aton: returns the address as an unsigned 32-bit number, or null. */
export function inetAton(s: string): number | null {
  const parts: number[] = [];
  let i = 0;
  let c = s.charCodeAt(0);
  for (;;) {
    if (!isDigit(c)) return null;
    let val = 0;
    let base = 10;
    let digit = false;
    if (c === 48) {
      c = s.charCodeAt(++i);
      if (c === 120 || c === 88) {
        base = 16;
        c = s.charCodeAt(++i);
      } else {
        base = 8;
        digit = true;
      }
    }
    for (;;) {
      if (isDigit(c)) {
        if (base === 8 && c >= 56) return null;
        val = val * base + (c - 48);
        digit = true;
      } else if (base === 16 && isHex(c)) {
        val = val * 16 + ((c | 32) - 87);
        digit = true;
      } else break;
      if (val > 0xffffffff) return null;
      c = s.charCodeAt(++i);
    }
    if (!digit) return null;
    if (c === 46) {
      if (parts.length >= 3 || val > 0xff) return null;
      parts.push(val);
      c = s.charCodeAt(++i);
    } else {
      parts.push(val);
      break;
    }
  }
  if (i < s.length && !isSpace(c)) return null;
  const n = parts.length;
  const last = parts[n - 1] as number;
  const max = [0xffffffff, 0xffffff, 0xffff, 0xff][n - 1] as number;
  if (last > max) return null;
  let addr = last;
  for (let k = 0; k < n - 1; k++) addr += (parts[k] as number) * 2 ** (8 * (3 - k));
  return addr;
}

/**
 * libwrap's dot_quad_addr(): exactly four runs of non-dot characters, then inet_aton.
 * INADDR_NONE (255.255.255.255) doubles as the error value, so that address is refused too.
 */
export function dotQuadAddr(s: string): number | null {
  let runs = 0;
  let inRun = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 46) inRun = false;
    else if (!inRun) {
      inRun = true;
      runs++;
    }
  }
  if (runs !== 4) return null;
  const a = inetAton(s);
  return a === null || a === 0xffffffff ? null : a;
}

/** C atoi(): leading whitespace, sign, decimal digits; the long result truncated to int. */
export function atoi(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let v = 0n;
  const LONG_MAX = (1n << 63n) - 1n;
  let saturated = false;
  while (i < s.length && isDigit(s.charCodeAt(i))) {
    if (!saturated) {
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > LONG_MAX + (neg ? 1n : 0n)) saturated = true;
    }
    i++;
  }
  if (saturated) v = neg ? LONG_MAX + 1n : LONG_MAX;
  return Number(BigInt.asIntN(32, neg ? -v : v));
}

/** Parses an IPv6 address (optionally with a %scope, ignored) into 8 16-bit words. */
export function parseIpv6(input: string): number[] | null {
  let s = input;
  const pct = s.indexOf('%');
  if (pct !== -1) {
    if (!/^%[A-Za-z0-9_.-]+$/.test(s.slice(pct))) return null;
    s = s.slice(0, pct);
  }
  if (s.length === 0 || s.length > 45) return null;
  const words: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parseHalf = (h: string, allowV4: boolean): number[] | null => {
    if (h === '') return [];
    const groups = h.split(':');
    const out: number[] = [];
    for (let g = 0; g < groups.length; g++) {
      const grp = groups[g] as string;
      if (allowV4 && g === groups.length - 1 && grp.includes('.')) {
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(grp)) return null;
        const b = grp.split('.').map(Number);
        if (b.some((x) => x > 255)) return null;
        out.push(((b[0] as number) << 8) | (b[1] as number), ((b[2] as number) << 8) | (b[3] as number));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(grp)) return null;
        out.push(parseInt(grp, 16));
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const all = parseHalf(s, true);
    if (all?.length !== 8) return null;
    return all;
  }
  const head = parseHalf(halves[0] as string, false);
  const tail = parseHalf(halves[1] as string, true);
  if (!head || !tail || head.length + tail.length > 7) return null;
  words.push(...head);
  for (let k = head.length + tail.length; k < 8; k++) words.push(0);
  words.push(...tail);
  return words;
}

/** glibc inet_ntop(AF_INET6) text form. */
export function formatIpv6(w: number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${(w[6] as number) >> 8}.${(w[6] as number) & 255}.${(w[7] as number) >> 8}.${(w[7] as number) & 255}`;
      break;
    }
    out += (w[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Strict dotted-decimal IPv4 (what a socket peer address looks like). */
export function parseIpv4Strict(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (let k = 1; k <= 4; k++) {
    const part = Number(m[k]);
    if (part > 255) return null;
    v = v * 256 + part;
  }
  return v;
}

export function formatIpv4(v: number): string {
  return `${Math.floor(v / 16777216) & 255}.${Math.floor(v / 65536) & 255}.${Math.floor(v / 256) & 255}.${v & 255}`;
}

/** A client address as libwrap sees it: canonical text, family, and numeric form. */
export interface ClientAddress {
  text: string;
  v4: number | null;
  v6: number[] | null;
}

/**
 * Canonicalises a client address the way the peer address reaches libwrap (inet_ntoa /
 * inet_ntop text). IPv4-mapped IPv6 addresses become IPv4, as tcpdmatch and sshd present them.
 * Returns null when `s` is not an IP address.
 */
export function clientAddress(s: string): ClientAddress | null {
  const v4 = parseIpv4Strict(s);
  if (v4 !== null) return { text: formatIpv4(v4), v4, v6: null };
  if (!s.includes(':')) return null;
  const v6 = parseIpv6(s);
  if (!v6) return null;
  if (v6.slice(0, 5).every((x) => x === 0) && v6[5] === 0xffff) {
    const m = (v6[6] as number) * 65536 + (v6[7] as number);
    return { text: formatIpv4(m), v4: m, v6: null };
  }
  return { text: formatIpv6(v6), v4: null, v6 };
}
