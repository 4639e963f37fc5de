#!/usr/bin/env node
'use strict';
// The command line is TypeScript, compiled to dist/ by `npm run build`.
require('../dist/apps/cli/src/main.js');
