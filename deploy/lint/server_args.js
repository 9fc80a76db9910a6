#!/usr/bin/env node
// Prints, one JSON line each, the reactord arguments that the deploy recipes pass:
//   {"source": "deploy/k8s/deployment.yaml reactord", "args": ["--port=7000", ...]}
// for every container of every Deployment in deploy/k8s and every service of the compose file
// that runs the reactord image. tests/deploy/manifest_flags_test.sh starts reactord with each, so
// a flag the schemas cannot judge (a misspelt or out-of-range --flag) fails there.
// usage: node server_args.js --repo DIR      (run from deploy/lint.sh's npm cache)
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');

const repo = process.argv[2] === '--repo' && process.argv[3];
if (!repo) {
  console.error('usage: server_args.js --repo DIR');
  process.exit(2);
}
const k8sDir = path.join(repo, 'deploy/k8s');
for (const f of fs.readdirSync(k8sDir).filter((n) => /\.ya?ml$/.test(n))) {
  for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(k8sDir, f), 'utf8'))) {
    const obj = doc.toJS();
    if (!obj || obj.kind !== 'Deployment') continue;
    for (const c of obj.spec.template.spec.containers || []) {
      if (!/^reactord(:|$)/.test(c.image || '')) continue;
      console.log(JSON.stringify({ source: `deploy/k8s/${f} ${c.name}`, args: (c.command || []).concat(c.args || []) }));
    }
  }
}
const composeFile = path.join(repo, 'deploy/compose/compose.yaml');
const compose = YAML.parse(fs.readFileSync(composeFile, 'utf8'));
for (const [name, svc] of Object.entries(compose.services || {})) {
  if (!/^reactord(:|$)/.test(svc.image || '')) continue;
  const cmd = typeof svc.command === 'string' ? svc.command.split(/\s+/) : svc.command || [];
  console.log(JSON.stringify({ source: `deploy/compose/compose.yaml ${name}`, args: cmd }));
}
