import { runConformance } from '../conformance/adapter.cases.js';
import { openaiCompatibleTargets } from '../conformance/targets/openai-compatible.js';

for (const target of openaiCompatibleTargets) runConformance(target);
