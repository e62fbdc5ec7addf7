import { writeFileSync } from 'node:fs';
import { printSdl } from '../src/schema/index.js';

// Rewrites the committed SDL from the Pothos code; test/schema.test.ts fails when the two drift apart.
writeFileSync(new URL('../schema/schema.graphql', import.meta.url), printSdl());
console.log('schema/schema.graphql updated');
