// CSRF tokens on every POST, bound to the session they were issued in. A logged-in session keeps
// its own secret in PostgreSQL with the session (a new one with every owner: at login and at each
// privilege change); only a browser without a login (the login pages) keeps its secret in a signed
// cookie — named __Host-csrf when the request came over TLS, so no sibling host can plant one.
// A token is checked against the secret of the session the request carries, never against a
// cookie the request brings along: another browser's cookie and token pair, or a token issued
// before the login, is refused.
import Tokens from '@fastify/csrf';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ownerOf } from './session.ts';

export interface Csrf {
  /** A token for this request's forms (the secret is made when there is none yet). */
  token(req: FastifyRequest, reply: FastifyReply): string;
  /** Throws the CSRF error unless the POST carries a token of its session's secret. */
  check(req: FastifyRequest): void;
  /** A new secret for a session that just got its owner. */
  renew(req: FastifyRequest, reply: FastifyReply): void;
}

export class CsrfError extends Error {
  readonly code = 'FST_CSRF_INVALID_TOKEN';
  readonly statusCode = 403;
}

const tokens = Tokens();
const cookieName = (req: FastifyRequest) => (req.protocol === 'https' ? '__Host-csrf' : 'csrf');

export function csrfProtection(): Csrf {
  // The secret a request's tokens are made from, once per request.
  const secrets = new WeakMap<FastifyRequest, string>();

  const bound = (req: FastifyRequest) => ownerOf(req) !== undefined;
  const cookieSecret = (req: FastifyRequest): string | undefined => {
    const raw = req.cookies[cookieName(req)];
    const unsigned = raw ? req.unsignCookie(raw) : undefined;
    return unsigned?.valid && unsigned.value ? unsigned.value : undefined;
  };
  const secretOf = (req: FastifyRequest) => (bound(req) ? req.session!.get('csrfSecret') : cookieSecret(req));

  return {
    token(req, reply) {
      // A request the router could not read (`GET /%`) never met the cookie parser: its error page has no form.
      if (!req.cookies) return '';
      let secret: string | undefined = secrets.get(req) ?? secretOf(req);
      if (!secret) {
        secret = tokens.secretSync();
        if (bound(req)) req.session!.set('csrfSecret', secret);
        else {
          const https = req.protocol === 'https';
          reply.setCookie(cookieName(req), secret, { path: '/', httpOnly: true, sameSite: 'strict', secure: https, signed: true });
        }
      }
      secrets.set(req, secret);
      return tokens.create(secret);
    },
    check(req) {
      const body = req.body as Record<string, unknown> | undefined;
      const token = typeof body?._csrf === 'string' ? body._csrf : undefined;
      const secret = secretOf(req);
      if (!secret || !token || !tokens.verify(secret, token)) throw new CsrfError('missing or wrong CSRF token');
    },
    renew(req, reply) {
      const secret = tokens.secretSync();
      req.session.set('csrfSecret', secret);
      secrets.set(req, secret);
      // The login page's cookie secret is done with: its tokens mean nothing in this session.
      if (req.cookies[cookieName(req)]) reply.clearCookie(cookieName(req), { path: '/', secure: req.protocol === 'https' });
    },
  };
}
