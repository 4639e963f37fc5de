#!/usr/bin/env node
// Keeps package-lock.json acceptable to `npm ci` when the registry lacks some
// platform builds of an optional dependency (this project's registry mirror has, for
// example, no macOS builds of chdb and older ones of @swc/core). npm then leaves those
// packages out of the lock but keeps their names in their parent's
// `optionalDependencies`, and `npm ci` refuses the lock as out of sync. An optional
// dependency that was never resolved is dropped from its parent's list: npm treats it
// as absent anyway. With a registry that has every build, this changes nothing.
// Runs from `prepare`, after npm has saved the lock.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = path.resolve(__dirname, '..', 'package-lock.json');
if (!fs.existsSync(file)) process.exit(0);
const text = fs.readFileSync(file, 'utf8');
const lock = JSON.parse(text);
const packages = lock.packages ?? {};

const present = (parentKey, name) => {
  // Node's resolution: the parent's own node_modules, then each enclosing one.
  for (let dir = parentKey; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir.includes('/node_modules/')) return Boolean(packages[`node_modules/${name}`]);
  }
};

const dropped = [];
for (const [key, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies;
  if (!key || !optional) continue;
  for (const name of Object.keys(optional)) {
    if (!present(key, name)) {
      delete optional[name];
      dropped.push(`${name} (of ${key.replace(/^.*node_modules\//, '')})`);
    }
  }
}
if (dropped.length > 0) {
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.error(`prune-lockfile: dropped ${dropped.length} optional dependencies the registry does not have`);
}
