// One Lambda-style cold start, in a fresh `node` process (plain JavaScript: no loader between
// the runtime and the bundle). Imports the function's bundle, invokes `handler` once with a
// payload-2.0 event and writes the timings, all measured from process start
// (performance.timeOrigin), to the file named by the third argument.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const bootMs = performance.now();
const [bundle, eventFile, outFile] = process.argv.slice(2);
if (!bundle || !eventFile || !outFile) {
  process.stderr.write('usage: cold-start-child.mjs <bundle> <event.json> <out.json>\n');
  process.exit(2);
}
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'bench-cold-start',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench-cold-start',
  memoryLimitInMB: '1024',
  awsRequestId: event.requestContext?.requestId ?? 'bench',
  logGroupName: '/aws/lambda/bench-cold-start',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

const importStart = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const imported = performance.now();
const result = await mod.handler(event, context);
const answered = performance.now();
writeFileSync(
  outFile,
  JSON.stringify({
    bootMs,
    importMs: imported - importStart,
    firstRequestMs: answered - imported,
    totalMs: answered,
    statusCode: typeof result === 'object' && result !== null ? result.statusCode : undefined,
  }),
);
// A Lambda environment would be frozen here; the pools and sockets are not worth waiting for.
process.exit(0);
