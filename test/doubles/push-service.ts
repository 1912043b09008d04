// A Web Push service (RFC 8030) that checks what a real one checks and then decrypts as the
// browser would: the VAPID `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292: ES256 over P-256,
// `aud` = this service's origin, `exp` within 24 h, `sub` a mailto: or https: contact), the
// `TTL`, `Urgency` and `Content-Encoding: aes128gcm` headers, and the body as RFC 8291 / RFC 8188
// encrypt it — with node's crypto, not with the library Dockrev sends with.
import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify } from 'node:crypto';
import { json, startHttpDouble, type HttpDouble, type ReceivedRequest } from './http-double.js';

export interface PushMessage {
  subscriptionId: string;
  ttl: number;
  urgency?: string;
  jwt: { aud: string; exp: number; sub: string };
  payload: Record<string, any>;
}

export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushDouble extends HttpDouble<PushMessage> {
  /** A new browser subscription on this service (its keys live here, as in a browser). */
  subscribe(id: string): PushSubscriptionJson;
  /** Answer 410 Gone for this subscription from now on, as when the user revoked it. */
  revoke(id: string): void;
}

const b64 = (buffer: Buffer) => buffer.toString('base64url');
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** Verifies the VAPID header; returns the claims or why a push service would refuse. */
function checkVapid(header: string | undefined, origin: string, applicationServerKey: string | undefined): { claims: PushMessage['jwt'] } | { error: string } {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) return { error: 'missing or malformed vapid Authorization' };
  const [token, key] = [match[1]!, match[2]!];
  if (applicationServerKey && key !== applicationServerKey) return { error: 'k is not the key the subscription was made with' };
  const [head, body, signature] = token.split('.');
  if (!head || !body || !signature) return { error: 'malformed JWT' };
  const joseHeader = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string; typ?: string };
  if (joseHeader.alg !== 'ES256') return { error: `JWT alg ${joseHeader.alg} is not ES256` };
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 4) return { error: 'k is not an uncompressed P-256 point' };
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64(point.subarray(1, 33)), y: b64(point.subarray(33)) }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${head}.${body}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))) {
    return { error: 'JWT signature does not verify' };
  }
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PushMessage['jwt'];
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) return { error: `aud ${claims.aud} is not ${origin}` };
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) return { error: 'exp is not within the next 24 hours' };
  if (!/^(mailto:|https?:\/\/)/.test(claims.sub ?? '')) return { error: 'sub is not a mailto: or https: contact' };
  return { claims };
}

/** RFC 8291 §3.4 then RFC 8188: the plaintext, or why decryption failed. */
function decrypt(body: Buffer, keys: { ecdh: ReturnType<typeof createECDH>; auth: Buffer }): Buffer | string {
  if (body.length < 21) return 'body shorter than the aes128gcm header';
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const records = body.subarray(21 + idLength);
  if (idLength !== 65) return 'keyid is not the sender public key';
  if (records.length > recordSize) return 'more than one record (a push message fits one)';
  const userAgentKey = keys.ecdh.getPublicKey();
  const ikm = hmac(hmac(keys.auth, keys.ecdh.computeSecret(senderKey)), Buffer.concat([Buffer.from('WebPush: info\0'), userAgentKey, senderKey, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);
  try {
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(records.subarray(records.length - 16));
    const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end -= 1;
    if (padded[end] !== 2) return 'last record delimiter missing';
    return padded.subarray(0, end);
  } catch (error) {
    return `decryption failed: ${(error as Error).message}`;
  }
}

export async function startPushService(options: { applicationServerKey?: string } = {}): Promise<PushDouble> {
  const subscriptions = new Map<string, { ecdh: ReturnType<typeof createECDH>; auth: Buffer; revoked: boolean }>();
  let origin = '';
  const handle = (request: ReceivedRequest) => {
    const id = /^\/push\/([^/]+)$/.exec(request.path)?.[1];
    const subscription = id ? subscriptions.get(id) : undefined;
    if (request.method !== 'POST' || !id || !subscription) return { answer: json(404, { error: 'no such subscription' }) };
    if (subscription.revoked) return { answer: json(410, { error: 'subscription expired or unsubscribed' }) };
    const vapid = checkVapid(request.headers.authorization, origin, options.applicationServerKey);
    if ('error' in vapid) return { answer: json(401, { error: vapid.error }) };
    const ttl = Number(request.headers.ttl);
    if (!Number.isInteger(ttl) || ttl < 0) return { answer: json(400, { error: 'TTL header missing or not a number' }) };
    const urgency = request.headers.urgency as string | undefined;
    if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency)) return { answer: json(400, { error: 'bad Urgency' }) };
    if (request.headers['content-encoding'] !== 'aes128gcm') return { answer: json(415, { error: 'Content-Encoding must be aes128gcm' }) };
    const plaintext = decrypt(request.body, subscription);
    if (typeof plaintext === 'string') return { answer: json(400, { error: plaintext }) };
    const message: PushMessage = { subscriptionId: id, ttl, ...(urgency ? { urgency } : {}), jwt: vapid.claims, payload: JSON.parse(plaintext.toString('utf8')) };
    return { answer: { status: 201, headers: { Location: `${origin}/message/${randomBytes(6).toString('hex')}` } }, accepted: message };
  };
  const double = await startHttpDouble<PushMessage>(handle);
  origin = double.url;
  return Object.assign(double, {
    subscribe(id: string): PushSubscriptionJson {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ecdh, auth, revoked: false });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: b64(ecdh.getPublicKey()), auth: b64(auth) } };
    },
    revoke(id: string) {
      const subscription = subscriptions.get(id);
      if (subscription) subscription.revoked = true;
    },
  });
}
