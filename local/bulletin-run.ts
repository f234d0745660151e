import { parseArgs } from 'node:util';

/** `npm run bulletin`: asks the running local stack (`npm start`) to start one bulletin run now. */
const { values } = parseArgs({ options: { port: { type: 'string', default: '3000' } } });
const url = `http://127.0.0.1:${values.port}/_local/bulletin-runs`;
try {
  const response = await fetch(url, { method: 'POST' });
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status} ${text}`);
  console.log(`started: ${JSON.parse(text).executionArn}`);
  console.log('Reviewers get a mail in the outbox; published issues appear under /bulletins/.');
} catch (error) {
  console.error(`could not start a bulletin run at ${url}: ${(error as Error).message}`);
  console.error('Is the local stack running (npm start)? Pass --port N if it is not on 3000.');
  process.exitCode = 1;
}
