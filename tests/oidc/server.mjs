// The OpenID provider the interop tests talk to. Everything it knows about
// clients and resources comes from clients.json, which the Python fixture
// reads too, so both sides always agree on ids, secrets and resources.
import { readFileSync } from 'node:fs';
import {
  X509Certificate, createPublicKey, generateKeyPairSync, randomBytes, timingSafeEqual, verify,
} from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const here = dirname(fileURLToPath(import.meta.url));
const config = JSON.parse(readFileSync(join(here, 'clients.json'), 'utf8'));

const port = Number.parseInt(process.env.OIDC_PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('OIDC_PORT must be a TCP port number\n');
  process.exit(2);
}
const accessTokenTTL = Number.parseInt(process.env.OIDC_ACCESS_TOKEN_TTL ?? '300', 10);
const issuer = `http://127.0.0.1:${port}`;

function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

const clients = Object.values(config.clients).map((entry) => {
  const { private_jwk_file: keyFile, self_signed_cert_file: certFile, ...metadata } = entry;
  if (keyFile) {
    const jwk = JSON.parse(readFileSync(join(here, keyFile), 'utf8'));
    metadata.jwks = { keys: [publicJwk(jwk)] };
  }
  if (certFile) {
    // self_signed_tls_client_auth: the certificate is registered as x5c of a JWK.
    const cert = new X509Certificate(readFileSync(join(here, certFile)));
    const jwk = cert.publicKey.export({ format: 'jwk' });
    metadata.jwks = { keys: [{ ...jwk, x5c: [cert.raw.toString('base64')] }] };
  }
  return metadata;
});

// Mutual TLS (RFC 8705) happens in a TLS terminator the tests run in front of
// this server (tests/support/mtls_proxy.py), as in production behind a proxy. It
// passes the client certificate in headers, which are believed only with the
// proxy's secret; mtls_endpoint_aliases point clients with a certificate at it.
const mtlsPort = Number.parseInt(process.env.OIDC_MTLS_PORT ?? '', 10);
const proxySecret = Buffer.from(process.env.OIDC_PROXY_SECRET ?? '');
const mtlsOrigin = Number.isInteger(mtlsPort) && mtlsPort > 0 ? `https://127.0.0.1:${mtlsPort}` : undefined;

function proxiedCertificate(ctx) {
  const pem = ctx.get('x-ssl-client-cert');
  return pem && fromTrustedProxy(ctx) ? decodeURIComponent(pem) : undefined;
}

function fromTrustedProxy(ctx) {
  const given = Buffer.from(ctx.get('x-ssl-proxy-secret'));
  return proxySecret.length > 0 && given.length === proxySecret.length
    && timingSafeEqual(given, proxySecret);
}

// A fresh signing key per run: tests must fetch the JWKS rather than pin a key.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `op-${Date.now()}`, alg: 'RS256', use: 'sig' };

const resources = config.resources;
const defaultResource = config.default_resource;

const configuration = {
  clients,
  jwks: { keys: [signingKey] },
  scopes: config.scopes,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub, name: sub, preferred_username: sub, email: `${sub}@example.test`, email_verified: true,
        };
      },
    };
  },
  // Signed cookies silence the dev warning and make tampering fail loudly.
  cookies: { keys: ['h2oauth-lite-test-cookie-key-0123456789abcdef'] },
  async extraTokenClaims(ctx, token) {
    const act = exchangeActors.get(token);
    return act ? { act } : undefined;
  },
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  rotateRefreshToken: true,
  async issueRefreshToken(ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  ttl: {
    AccessToken: accessTokenTTL,
    ClientCredentials: accessTokenTTL,
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 86400,
    Grant: 30 * 86400,
    RefreshToken: 30 * 86400,
  },
  // RSA proofs too (the default list is ES256 and EdDSA); ES384 stays out, so
  // the tests have a proof the provider refuses.
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'] },
  clientAuthMethods: [
    'client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none',
    'tls_client_auth', 'self_signed_tls_client_auth',
  ],
  discovery: mtlsOrigin ? {
    mtls_endpoint_aliases: {
      token_endpoint: `${mtlsOrigin}/token`,
      revocation_endpoint: `${mtlsOrigin}/token/revocation`,
      introspection_endpoint: `${mtlsOrigin}/token/introspection`,
    },
  } : {},
  features: {
    devInteractions: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: proxiedCertificate,
      certificateAuthorized(ctx) {
        return fromTrustedProxy(ctx) && ctx.get('x-ssl-client-verify') === 'SUCCESS';
      },
      certificateSubjectMatches(ctx, property, expected) {
        if (property !== 'tls_client_auth_subject_dn') {
          return false;
        }
        const pem = proxiedCertificate(ctx);
        return Boolean(pem) && new X509Certificate(pem).subject === expected;
      },
    },
    // Nonces required on every DPoP proof: the strictest server a client meets.
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    // On by default in 9.x; said here because the PAR tests depend on it.
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: { enabled: true },
    resourceIndicators: {
      enabled: true,
      async defaultResource(ctx, client, oneOf) {
        return oneOf ?? defaultResource;
      },
      // Without this a refresh would fall back to an opaque userinfo token.
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(ctx, resourceIndicator) {
        const server = resources[resourceIndicator];
        if (!server) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: server.scope,
          audience: resourceIndicator,
          accessTokenTTL,
          accessTokenFormat: server.accessTokenFormat,
          ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
        };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
// A 500 says nothing to the client; the log the fixture shows on failure should.
provider.on('server_error', (ctx, err) => {
  process.stderr.write(`server_error on ${ctx.method} ${ctx.path}: ${err.stack}\n`);
});

// Token exchange (RFC 8693), which oidc-provider leaves to the deployment.
// The subject (and actor) token must be a live access token this provider
// issued: a JWT is checked as a resource server checks it (signature with
// this provider's key, issuer, expiry); an opaque one is looked up through
// the provider's own ClientCredentials / AccessToken models (so a revoked one
// is refused). The new token is an access token for the requested resource,
// with the subject's sub, the requested scope narrowed to what the subject
// token and the resource allow, and an act claim naming the actor, if any.
// The act claim of an exchanged token; read by extraTokenClaims when it is saved.
const exchangeActors = new WeakMap();
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const publicSigningKey = createPublicKey({ key: signingKey, format: 'jwk' });

function jwtPayload(value) {
  const parts = value.split('.');
  if (parts.length !== 3) {
    return undefined;
  }
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  if (!verify('RSA-SHA256', signed, publicSigningKey, signature)) {
    return null;
  }
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  return payload.iss === issuer ? payload : null;
}

async function findIssuedToken(value, what) {
  if (typeof value !== 'string' || !value) {
    throw new errors.InvalidRequest(`${what} missing`);
  }
  const payload = jwtPayload(value);
  if (payload === null) {
    throw new errors.InvalidGrant(`${what} invalid`);
  }
  if (payload) {
    // A JWT access token is not stored (its jti finds nothing): it is checked
    // the way a resource server checks it, signature, issuer and expiry.
    if (typeof payload.exp !== 'number' || payload.exp <= Math.floor(Date.now() / 1000)) {
      throw new errors.InvalidGrant(`${what} expired`);
    }
    return { accountId: payload.sub, clientId: payload.client_id, scope: payload.scope };
  }
  const found = (await provider.ClientCredentials.find(value))
    ?? (await provider.AccessToken.find(value));
  if (!found || found.isExpired) {
    throw new errors.InvalidGrant(`${what} invalid or expired`);
  }
  return found;
}

async function tokenExchange(ctx) {
  const { client, params } = ctx.oidc;
  for (const [name, type] of [
    ['subject_token_type', params.subject_token_type],
    ['requested_token_type', params.requested_token_type],
    ['actor_token_type', params.actor_token_type],
  ]) {
    if (type !== undefined && type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest(`unsupported ${name}`);
    }
  }
  if (!params.subject_token_type) {
    throw new errors.InvalidRequest('subject_token_type missing');
  }
  if (params.actor_token && !params.actor_token_type) {
    throw new errors.InvalidRequest('actor_token_type missing');
  }
  const subject = await findIssuedToken(params.subject_token, 'subject_token');
  const actor = params.actor_token
    ? await findIssuedToken(params.actor_token, 'actor_token') : undefined;

  const targets = [params.resource, params.audience].flat().filter(Boolean);
  if (targets.length > 1) {
    throw new errors.InvalidTarget('only one resource or audience is supported');
  }
  const target = targets[0] ?? defaultResource;
  const server = resources[target];
  if (!server) {
    throw new errors.InvalidTarget();
  }
  const allowed = new Set(server.scope.split(' '));
  const held = new Set((subject.scope ?? '').split(' '));
  const requested = params.scope ? params.scope.split(' ') : [...held];
  const scope = requested.filter((s) => allowed.has(s) && held.has(s));
  if (params.scope && scope.length !== requested.length) {
    throw new errors.InvalidScope('requested scope exceeds the subject token', params.scope);
  }

  const token = new provider.AccessToken({
    client,
    accountId: subject.accountId ?? subject.clientId,
    scope: scope.join(' ') || undefined,
    gty: 'token_exchange',
  });
  if (actor) {
    exchangeActors.set(token, { sub: actor.accountId ?? actor.clientId });
  }
  token.resourceServer = {
    audience: target,
    scope: server.scope,
    accessTokenTTL,
    accessTokenFormat: server.accessTokenFormat,
    jwt: server.accessTokenFormat === 'jwt' ? { sign: { alg: 'RS256' } } : undefined,
    get scopes() { return allowed; },
    identifier() { return target; },
  };
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}

provider.registerGrantType(
  TOKEN_EXCHANGE,
  tokenExchange,
  ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
    'requested_token_type', 'audience', 'resource', 'scope'],
  ['audience', 'resource'],
);

// oidc-provider accepts client_secret_basic and client_secret_post
// interchangeably. Real providers often do not, and the tests must catch a
// client that sends its secret the wrong way, so the registered method is
// enforced here before the provider sees the request.
const secretMethods = new Map(
  clients
    .filter((c) => ['client_secret_basic', 'client_secret_post'].includes(c.token_endpoint_auth_method))
    .map((c) => [c.client_id, c.token_endpoint_auth_method]),
);
const authenticatedPaths = new Set(['/token', '/token/introspection', '/token/revocation', '/device/auth']);

async function readAll(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !authenticatedPaths.has(ctx.path)
    || !ctx.is('application/x-www-form-urlencoded')) {
    return next();
  }
  const raw = await readAll(ctx.req);
  ctx.request.body = raw;
  const form = new URLSearchParams(raw.toString('utf8'));
  const header = ctx.get('authorization');
  let used;
  let clientId;
  if (/^basic /i.test(header)) {
    used = 'client_secret_basic';
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    clientId = decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
  } else if (form.has('client_secret')) {
    used = 'client_secret_post';
    clientId = form.get('client_id');
  }
  const registered = clientId === undefined ? undefined : secretMethods.get(clientId);
  if (used && registered && used !== registered) {
    ctx.status = 401;
    if (used === 'client_secret_basic') {
      ctx.set('WWW-Authenticate', 'Basic realm="' + issuer + '"');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    };
    return undefined;
  }
  return next();
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`listen failed: ${err.message}\n`);
  process.exit(1);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}

// The parent holds our stdin; when it goes away (even by SIGKILL) we follow.
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
