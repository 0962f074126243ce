// A browser reduced to what the sites' security tests need, over plain HTTP (node:http, so any header
// can be sent, Host included): a cookie jar, the form token of the last page, and the client
// address the trusted proxy forwards (X-Forwarded-For).
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  location?: string;
}

export interface SiteClient {
  /** Cookies as this client holds them (name → value). */
  cookies: Map<string, string>;
  /** The _csrf token of the last page fetched with page(). */
  token: string | undefined;
  /** GET, keeping the page's form token. */
  page(path: string): Promise<Answer>;
  /** POST a form with the last page's token (or `token` when given; null: none); keeps the answer page's token. */
  submit(path: string, fields: Record<string, string>, token?: string | null): Promise<Answer>;
  /** Any request, with this client's cookies and headers. */
  request(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<Answer>;
}

export function siteClient(url: string, opts: { from?: string; headers?: Record<string, string> } = {}): SiteClient {
  const base = new URL(url);
  const cookies = new Map<string, string>();
  const client: SiteClient = {
    cookies,
    token: undefined,
    request(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        const req = http.request(
          {
            host: base.hostname, port: base.port, method, path,
            headers: {
              ...(opts.from ? { 'x-forwarded-for': opts.from } : {}),
              ...opts.headers,
              ...(cookie ? { cookie } : {}),
              ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              for (const set of res.headers['set-cookie'] ?? []) {
                const [pair = '', ...attrs] = set.split(';');
                const [name = '', ...value] = pair.split('=');
                const cleared = attrs.some((a) => /^\s*max-age=0$/i.test(a));
                if (cleared) cookies.delete(name.trim());
                else cookies.set(name.trim(), value.join('='));
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), location: res.headers.location });
            });
          },
        );
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
      });
    },
    async page(path) {
      const answer = await client.request('GET', path);
      client.token = /name="_csrf" value="([^"]*)"/.exec(answer.text)?.[1];
      return answer;
    },
    async submit(path, fields, token) {
      const t = token === undefined ? client.token : token;
      const answer = await client.request('POST', path, new URLSearchParams({ ...(t !== null && t !== undefined ? { _csrf: t } : {}), ...fields }).toString());
      // A page drawn in answer (a refusal, a confirmation) carries the token of its own forms.
      client.token = /name="_csrf" value="([^"]*)"/.exec(answer.text)?.[1] ?? client.token;
      return answer;
    },
  };
  return client;
}
