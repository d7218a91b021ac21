/** Pure CIDR matching for IPv4 and IPv6, used by the security-group and network-acl checks. */
import { isIP } from 'node:net';

function toBigInt(ip: string): { family: 4 | 6; value: bigint } | null {
  const family = isIP(ip);
  if (family === 4) {
    const value = ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    return { family: 4, value };
  }
  if (family === 6) {
    let text = ip;
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4?.[1]) {
      const n = v4[1].split('.').map(Number);
      text = `${text.slice(0, -v4[1].length)}${((n[0]! << 8) | n[1]!).toString(16)}:${((n[2]! << 8) | n[3]!).toString(16)}`;
    }
    const [head = '', tail] = text.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
    return { family: 6, value };
  }
  return null;
}

/** True when `ip` lies in `cidr` (`10.0.0.0/8`, `::/0`, or a bare address). False across families. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [addr = '', lenText] = cidr.split('/');
  const net = toBigInt(addr);
  const host = toBigInt(ip);
  if (!net || !host || net.family !== host.family) return false;
  const bits = net.family === 4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) return false;
  const shift = BigInt(bits - len);
  return net.value >> shift === host.value >> shift;
}

/** `/32` or `/128` block for one address. */
export function hostCidr(ip: string): string {
  return `${ip}/${isIP(ip) === 6 ? 128 : 32}`;
}
