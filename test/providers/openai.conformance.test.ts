import { runConformance } from '../conformance/adapter.cases.js';
import { openaiTarget } from '../conformance/targets/openai.js';

runConformance(openaiTarget);
