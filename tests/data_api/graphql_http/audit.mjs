// graphql-http's server audits (the GraphQL-over-HTTP specification's checks) against one URL.
// Usage: node audit.mjs PACKAGE_DIR URL [ACCEPT]
// PACKAGE_DIR holds node_modules/graphql-http; with ACCEPT, requests that send no Accept header
// send that one (a client of that media type). Prints a JSON list: one result per audit, with
// the Accept header its requests sent and, when not ok, the reason and the response's status.
import { createRequire } from 'node:module';
import path from 'node:path';

const [packageDir, url, defaultAccept] = process.argv.slice(2);
const { serverAudits } = createRequire(path.join(path.resolve(packageDir), 'audit.cjs'))(
  'graphql-http',
);

let accepts = [];
async function fetchAs(input, init = {}) {
  const headers = new Headers(init.headers);
  if (defaultAccept && !headers.has('accept')) headers.set('accept', defaultAccept);
  accepts.push(headers.get('accept') ?? '(none)');
  return fetch(input, { ...init, headers });
}

const results = [];
// One at a time, so each request is counted to the audit that sent it.
for (const audit of serverAudits({ url, fetchFn: fetchAs })) {
  accepts = [];
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    accept: [...new Set(accepts)].join(', '),
    ...(result.status === 'ok' ? {} : { reason: result.reason, httpStatus: result.response.status }),
  });
}
console.log(JSON.stringify(results));
