import { runConformance } from '../conformance/adapter.cases.js';
import { anthropicTarget } from '../conformance/targets/anthropic.js';

runConformance(anthropicTarget);
