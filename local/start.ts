import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PrerequisiteError } from './errors.ts';
import { startLocalStack } from './stack.ts';

const USAGE = `npm start -- [options]
  --data-dir DIR       keep tickets, mail and bulletins here (default .local/data)
  --in-memory          keep nothing: every start is a fresh county
  --port N             the API gateway's port (default 3000)
  --dynamodb-port N, --sfn-port N, --ses-port N, --s3-port N   (default: free ports)
  --speed N            run the clock N times faster than real time (default 1)`;

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new PrerequisiteError(`${name} must be a port number, got "${value}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: '.local/data' },
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string', default: '3000' },
      'dynamodb-port': { type: 'string' },
      'sfn-port': { type: 'string' },
      'ses-port': { type: 'string' },
      's3-port': { type: 'string' },
      speed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const speed = Number(values.speed);
  if (!(speed > 0))
    throw new PrerequisiteError(`--speed must be a positive number, got "${values.speed}"`);
  console.log('Starting the 12345 hotline locally… 正在启动本地 12345 热线系统…');
  const stack = await startLocalStack({
    ...(values['in-memory'] ? {} : { dataDir: resolve(values['data-dir']) }),
    speed,
    ports: {
      api: port(values.port, '--port') ?? 3000,
      ...optionalPort('dynamodb', values['dynamodb-port']),
      ...optionalPort('sfn', values['sfn-port']),
      ...optionalPort('ses', values['ses-port']),
      ...optionalPort('s3', values['s3-port']),
    },
  });

  const lines = [
    '',
    `  API 接口               ${stack.urls.api}`,
    `  Outbox 发件箱          ${stack.urls.outbox}`,
    `  Step Functions         ${stack.urls.sfn}`,
    `  DynamoDB Local         ${stack.urls.dynamodb}`,
    `  S3                     ${stack.urls.s3}`,
    `  Data 数据目录          ${stack.dataDir ?? '(in memory 仅内存)'}`,
    `  Clock 时钟             ${stack.clock.now().toISOString()} ×${stack.clock.speed}`,
    `  Resumed open tickets   ${stack.resumedTickets}`,
    '',
    '  Development tokens 开发用凭证 (Authorization: Bearer …):',
    ...Object.entries(stack.tokens)
      .filter(([role]) => role !== 'units')
      .map(([role, token]) => `    ${role.padEnd(22)} ${token}`),
    ...Object.entries(stack.tokens.units).map(
      ([unit, token]) => `    unit ${unit.padEnd(17)} ${token}`,
    ),
    '',
    '  Phone-system webhooks 电话系统回调 (development secrets):',
    `    standard  ${stack.phone.webhooks.standard}  secret ${stack.phone.config.standard?.secrets[0] ?? '—'}`,
    `    twilio    ${stack.phone.webhooks.twilio}  auth token ${stack.phone.config.twilio?.authTokens[0] ?? '—'}`,
    `    tccc      ${stack.phone.webhooks.tccc}  ${tcccCredential(stack.phone.config.tccc?.credentials[0])}`,
    `    Callback surveys go to the simulated phone at ${stack.phone.config.surveys?.kind === 'standard' ? stack.phone.config.surveys.url : '—'}`,
    '',
    `  Bulletins 通报        ${stack.urls.api}/bulletins/   (npm run bulletin starts a run now)`,
    '',
    '  Ctrl-C stops everything. 按 Ctrl-C 停止。',
  ];
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping… 正在停止…`);
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function tcccCredential(
  credential: { scheme: string; username?: string; password?: string; token?: string } | undefined,
): string {
  if (!credential) return '—';
  return credential.scheme === 'basic'
    ? `basic ${credential.username}:${credential.password}`
    : `bearer ${credential.token}`;
}

function optionalPort(name: string, value: string | undefined) {
  const n = port(value, `--${name}-port`);
  return n === undefined ? {} : { [name]: n };
}

main().catch((error: unknown) => {
  if (error instanceof PrerequisiteError) {
    console.error(`\nCannot start: ${error.message}`);
  } else {
    console.error(`\nCannot start: ${(error as Error)?.message ?? error}`);
  }
  process.exit(1);
});
