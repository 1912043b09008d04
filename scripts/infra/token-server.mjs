#!/usr/bin/env node
// Dockrev test infrastructure: a small Docker registry token server (node built-ins only).
//
// Speaks the Docker Registry v2 token protocol:
//   GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&account=U]
//        Authorization: Basic ... (optional: anonymous gets only what the policy allows)
//   POST /token  (OAuth2 form: grant_type=password, username, password, service, scope)
//   -> 200 {"token","access_token","expires_in","issued_at"}
//   Bad credentials -> 401 with a Basic challenge; wrong/missing service -> 400.
// Tokens are JWTs signed ES256 with the key whose certificate the registry trusts
// (auth.token.rootcertbundle); the header's "kid" is the libtrust key id of that key.
//
// Policy:
//   - a user from the users file gets the requested actions it is allowed ("*" = all);
//   - anonymous gets "pull" on repositories whose name starts with "public/";
//   - registry:catalog:* is granted to users allowed "*".
//
// Test helpers (loopback only, like the server itself):
//   GET  /_admin/stats  -> {"issued":N,"requests":[{time,user,service,scopes,granted,status}]}
//   POST /_admin/reset  -> clears the counters
//   GET  /healthz       -> 200 "ok"
//
// Configuration via environment:
//   TOKEN_ADDR (127.0.0.1), TOKEN_PORT (5104), TOKEN_KEY (PEM EC P-256 private key file),
//   TOKEN_CERT (PEM certificate file), TOKEN_ISSUER, TOKEN_SERVICE, TOKEN_USERS (JSON file:
//   {"user":{"password":"pw","actions":["pull","push","delete","*"]}}), TOKEN_TTL (seconds, 300).

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, timingSafeEqual, X509Certificate } from 'node:crypto';

const addr = process.env.TOKEN_ADDR ?? '127.0.0.1';
const port = Number(process.env.TOKEN_PORT ?? 5104);
const issuer = process.env.TOKEN_ISSUER ?? 'dockrev-test-token-issuer';
const service = process.env.TOKEN_SERVICE ?? 'dockrev-test-registry';
const ttl = Number(process.env.TOKEN_TTL ?? 300);
const key = createPrivateKey(readFileSync(required('TOKEN_KEY')));
const cert = new X509Certificate(readFileSync(required('TOKEN_CERT')));
const users = JSON.parse(readFileSync(required('TOKEN_USERS'), 'utf8'));

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`token-server: ${name} is required`);
    process.exit(2);
  }
  return v;
}

// libtrust key id: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, groups of 4.
function libtrustKeyId(publicKey) {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const b32 = base32(createHash('sha256').update(der).digest().subarray(0, 30));
  return b32.match(/.{4}/g).join(':');
}

function base32(buf) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

const certKey = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
const kid = libtrustKeyId(certKey);
if (libtrustKeyId(createPublicKey(key)) !== kid) {
  console.error('token-server: TOKEN_KEY does not match TOKEN_CERT');
  process.exit(2);
}

const b64url = (b) => Buffer.from(b).toString('base64url');

function signJwt(claims) {
  const header = { typ: 'JWT', alg: 'ES256', kid };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function safeEqual(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// Returns {user} (null for anonymous) or {error}.
function authenticate(username, password) {
  if (username === undefined) return { user: null };
  const u = Object.prototype.hasOwnProperty.call(users, username) ? users[username] : undefined;
  if (!u || !safeEqual(u.password, password)) return { error: 'invalid credentials' };
  return { user: username };
}

function parseBasic(header) {
  if (!header || !/^basic /i.test(header)) return {};
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return {};
  return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

// "repository:library/foo:pull,push" -> {type, name, actions}; names never contain ':' but
// a resource type may carry a class ("repository(plugin)").
function parseScope(s) {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || last === first) return null;
  const actions = s.slice(last + 1).split(',').filter(Boolean);
  return { type: s.slice(0, first), name: s.slice(first + 1, last), actions };
}

function grant(user, scope) {
  const allowed = user === null ? [] : (users[user].actions ?? []);
  let granted;
  if (scope.type === 'registry') {
    granted = allowed.includes('*') && scope.name === 'catalog' ? scope.actions : [];
  } else if (scope.type.startsWith('repository')) {
    if (user === null) {
      granted = scope.name.startsWith('public/') ? scope.actions.filter((a) => a === 'pull') : [];
    } else if (allowed.includes('*')) {
      granted = scope.actions;
    } else {
      granted = scope.actions.filter((a) => allowed.includes(a));
    }
  } else {
    granted = [];
  }
  return { type: scope.type, name: scope.name, actions: granted };
}

const stats = { issued: 0, requests: [] };
const MAX_LOG = 5000;

function record(entry) {
  stats.requests.push({ time: new Date().toISOString(), ...entry });
  if (stats.requests.length > MAX_LOG) stats.requests.splice(0, stats.requests.length - MAX_LOG);
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function issue(res, { username, password, svc, scopes, method }) {
  const scopeStrings = scopes.flatMap((s) => s.split(' ')).filter(Boolean);
  if (svc !== service) {
    record({ method, user: username ?? null, service: svc ?? null, scopes: scopeStrings, granted: [], status: 400 });
    return send(res, 400, { errors: [{ code: 'DENIED', message: `unknown service ${JSON.stringify(svc ?? null)}` }] });
  }
  const auth = authenticate(username, password);
  if (auth.error) {
    record({ method, user: username, service: svc, scopes: scopeStrings, granted: [], status: 401 });
    return send(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: auth.error }] }, {
      'WWW-Authenticate': 'Basic realm="dockrev-test-token"',
    });
  }
  const access = [];
  for (const s of scopeStrings) {
    const parsed = parseScope(s);
    if (!parsed) {
      record({ method, user: auth.user, service: svc, scopes: scopeStrings, granted: [], status: 400 });
      return send(res, 400, { errors: [{ code: 'DENIED', message: `bad scope ${JSON.stringify(s)}` }] });
    }
    access.push(grant(auth.user, parsed));
  }
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt({
    iss: issuer,
    sub: auth.user ?? '',
    aud: service,
    exp: now + ttl,
    nbf: now - 10,
    iat: now,
    jti: randomUUID(),
    access,
  });
  stats.issued += 1;
  record({ method, user: auth.user, service: svc, scopes: scopeStrings, granted: access, status: 200 });
  send(res, 200, { token, access_token: token, expires_in: ttl, issued_at: new Date(now * 1000).toISOString() });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 65536) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return send(res, 200, 'ok');
    if (url.pathname === '/_admin/stats' && req.method === 'GET') return send(res, 200, stats);
    if (url.pathname === '/_admin/reset' && req.method === 'POST') {
      stats.issued = 0;
      stats.requests = [];
      return send(res, 204, '');
    }
    if (url.pathname !== '/token') return send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
    if (req.method === 'GET') {
      const { username, password } = parseBasic(req.headers.authorization);
      return issue(res, {
        method: 'GET',
        username,
        password,
        svc: url.searchParams.get('service') ?? undefined,
        scopes: url.searchParams.getAll('scope'),
      });
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const grantType = form.get('grant_type');
      if (grantType !== 'password') {
        return send(res, 400, { error: 'unsupported_grant_type' });
      }
      return issue(res, {
        method: 'POST',
        username: form.get('username') ?? undefined,
        password: form.get('password') ?? '',
        svc: form.get('service') ?? undefined,
        scopes: form.getAll('scope'),
      });
    }
    send(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
  } catch (err) {
    send(res, 500, { errors: [{ code: 'UNKNOWN', message: String(err?.message ?? err) }] });
  }
});

server.listen(port, addr, () => {
  console.log(`token-server listening on http://${addr}:${port} service=${service} issuer=${issuer} kid=${kid}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
