import { runConformance } from '../conformance/adapter.cases.js';
import { ollamaTarget } from '../conformance/targets/ollama.js';

runConformance(ollamaTarget);
