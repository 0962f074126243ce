// The provider lookup API: GET <prefix>/api/v1/customer-id?line=<IPv6 address or prefix>, with
// `Authorization: Bearer <token>`. A provider learns a line's お客さまID only while that line has
// 「通知する」 for it; an unknown line and a refused one get the same answer from the same work.
// Tokens are configured as SHA-256 digests (they are long random strings, so a fast hash suffices)
// and compared in constant time against every configured digest. Every lookup is audited.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { lineIdentifier } from '../../domain/line-info.ts';
import { writeAudit } from '../../store/audit.ts';
import { lookupLine } from '../../store/line-info.ts';
import type { SiteDeps } from '../foundation.ts';

const NOT_AVAILABLE = { error: 'not_available' } as const;
/** Under the realm's prefix. */
export const LOOKUP_API_PATH = '/api';

export function lookupApi(deps: SiteDeps) {
  const tokens = deps.config.lineInfo.providerTokens.map((t) => ({ provider: t.provider, digest: Buffer.from(t.sha256, 'hex') }));

  /** The provider a bearer token belongs to. Every digest is compared, so timing says nothing. */
  const providerOf = (authorization: string | undefined): string | undefined => {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization ?? '');
    if (!m) return undefined;
    const digest = createHash('sha256').update(m[1]!).digest();
    let found: string | undefined;
    for (const t of tokens) if (timingSafeEqual(digest, t.digest) && !found) found = t.provider;
    return found;
  };

  return async function (api: FastifyInstance) {
    const json = (reply: FastifyReply, status: number, body: unknown) =>
      reply.code(status).type('application/json; charset=utf-8').header('cache-control', 'no-store').send(JSON.stringify(body));

    api.setNotFoundHandler((_req, reply) => json(reply, 404, { error: 'not_found' }));
    api.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (err.statusCode === 429) return json(reply, 429, { error: 'rate_limited' });
      if (err.statusCode && err.statusCode < 500) return json(reply, err.statusCode, { error: 'bad_request' });
      req.log.error({ err: err.message }, 'line-info lookup failed');
      return json(reply, 503, { error: 'unavailable' });
    });

    const limit = deps.config.lineInfo.lookupRateLimit;
    const rateLimit = {
      max: limit.max,
      timeWindow: limit.windowSec * 1000,
      // Per token (its digest, never the token), or per address for requests without one.
      keyGenerator: (req: FastifyRequest) => {
        const auth = req.headers.authorization;
        return auth ? `token:${createHash('sha256').update(auth).digest('base64url')}` : `ip:${req.ip}`;
      },
    };

    api.get('/v1/customer-id', { config: { rateLimit } }, async (req, reply) => {
      const at = deps.clock.now();
      const asked = (req.query as Record<string, unknown>).line;
      const line = typeof asked === 'string' ? asked.slice(0, 80) : '';
      const provider = providerOf(req.headers.authorization);
      const audit = (action: string, subject: string | null, detail: Record<string, unknown>) =>
        writeAudit(deps.pool, { actor: provider ? `provider:${provider}` : 'anonymous', action, subject, detail: { line, ...detail }, source: req.ip, at });
      if (!provider) {
        await audit('line_info.lookup.unauthorized', null, {});
        return json(reply.header('www-authenticate', 'Bearer realm="line-info"'), 401, { error: 'unauthorized' });
      }
      const identifier = lineIdentifier(line);
      if (!identifier) {
        await audit('line_info.lookup', null, { provider, result: 'bad_request' });
        return json(reply, 400, { error: 'bad_request', message: 'line must be an IPv6 address or prefix' });
      }
      const found = await lookupLine(deps.pool, identifier, provider);
      const provided = found?.allowed === true;
      // Not available: the audit names the line (the operator may know), the answer does not.
      await audit('line_info.lookup', found?.customerId ?? null, { provider, result: provided ? 'provided' : 'not_available' });
      return provided ? json(reply, 200, { customerId: found.customerId }) : json(reply, 404, NOT_AVAILABLE);
    });
  };
}
