import { runConformance } from '../conformance/adapter.cases.js';
import { geminiTarget } from '../conformance/targets/gemini.js';

runConformance(geminiTarget);
