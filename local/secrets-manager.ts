import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HOST } from './ports.ts';

export interface LocalSecretsManager {
  /** For `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  endpoint: string;
  /** Puts (or replaces, as a rotation would) a secret; returns its ARN. */
  put(name: string, value: string): string;
  close(): Promise<void>;
}

const arnOf = (name: string) => `arn:aws:secretsmanager:local:000000000000:secret:${name}`;

/**
 * The one Secrets Manager call the functions make, GetSecretValue (JSON 1.1 protocol), so that
 * handlers read their secrets through Powertools parameters locally exactly as in AWS. Listens on
 * 127.0.0.1 only; requests are not signature-checked.
 */
export async function startLocalSecretsManager(): Promise<LocalSecretsManager> {
  const secrets = new Map<string, { value: string; version: number }>();
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== 'secretsmanager.GetSecretValue') {
      return reply(400, { __type: 'InvalidRequestException', message: `${target} is not served` });
    }
    let id = '';
    try {
      id = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).SecretId ?? '');
    } catch {
      return reply(400, { __type: 'InvalidRequestException', message: 'body is not JSON' });
    }
    const name = id.startsWith(arnOf('')) ? id.slice(arnOf('').length) : id;
    const secret = secrets.get(name);
    if (!secret) {
      return reply(400, { __type: 'ResourceNotFoundException', message: 'no such secret' });
    }
    return reply(200, {
      ARN: arnOf(name),
      Name: name,
      SecretString: secret.value,
      VersionId: `v${secret.version}`,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, DEFAULT_HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${DEFAULT_HOST}:${port}`,
    put(name, value) {
      secrets.set(name, { value, version: (secrets.get(name)?.version ?? 0) + 1 });
      return arnOf(name);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
