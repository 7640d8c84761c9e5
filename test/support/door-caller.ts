// A system calling a door over HTTP with its client credentials (a back-office system, an integrator): the
// token from the door's token endpoint, then calls with it.

/** An HTTP answer: status, headers, text and the JSON body. */
export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers member by member
  json: any;
  text: string;
  bytes: Buffer;
}

/** A system calling one door over HTTP with its client credentials, as a back-office system would. */
export interface DoorCaller {
  origin: string;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
}

async function answerOf(res: Response): Promise<Answer> {
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text, bytes };
}

/** Gets a token from the door's token endpoint (client credentials, HTTP Basic) and calls with it. */
export async function callerOf(origin: string, clientId: string, secret: string): Promise<DoorCaller> {
  const res = await fetch(`${origin}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const answer = await answerOf(res);
  if (answer.status !== 200) throw new Error(`token refused: ${answer.status} ${answer.text}`);
  const token = answer.json.access_token as string;
  return {
    origin,
    token,
    async call(method, path, body, headers = {}) {
      const url = path.startsWith('http') ? path : `${origin}${path}`;
      const isBuffer = Buffer.isBuffer(body);
      return answerOf(
        await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined && !isBuffer ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: isBuffer ? body : JSON.stringify(body) } : {}),
        }),
      );
    },
  };
}
