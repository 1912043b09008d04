// IP ranges (CIDR) for the trusted-proxy list: parsing and membership, IPv4 and IPv6.
import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  bytes: Buffer;
  prefix: number;
}

export function parseCidr(raw: string): Cidr | undefined {
  const [address, prefixText] = raw.split('/');
  const family = isIP(address ?? '');
  if (family !== 4 && family !== 6) return undefined;
  const maxPrefix = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    return undefined;
  }
  return { family, bytes: ipToBytes(address!, family), prefix };
}

export function ipToBytes(address: string, family: 4 | 6): Buffer {
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  // Expand '::' and any embedded IPv4 tail into eight 16-bit groups.
  let text = address;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail[1]!.split('.').map(Number);
    text = text.slice(0, -v4Tail[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16) || 0, index * 2));
  return bytes;
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  let text = address;
  // IPv4 peers often arrive as IPv4-mapped IPv6 (::ffff:127.0.0.1).
  if (cidr.family === 4 && text.startsWith('::ffff:') && isIP(text.slice(7)) === 4) text = text.slice(7);
  const family = isIP(text);
  if (family !== cidr.family) return false;
  const bytes = ipToBytes(text, family as 4 | 6);
  const fullBytes = Math.floor(cidr.prefix / 8);
  if (!bytes.subarray(0, fullBytes).equals(cidr.bytes.subarray(0, fullBytes))) return false;
  const remainingBits = cidr.prefix % 8;
  if (remainingBits === 0) return true;
  const mask = (0xff << (8 - remainingBits)) & 0xff;
  return (bytes[fullBytes]! & mask) === (cidr.bytes[fullBytes]! & mask);
}

