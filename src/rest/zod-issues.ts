import type { ZodIssue } from 'zod';

/** A union's own issue says only "Invalid input"; the branch that got furthest says what is actually wrong. */
export function mostSpecific(issue: ZodIssue): ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  let best: ZodIssue = issue;
  for (const branch of issue.unionErrors) {
    for (const inner of branch.issues) {
      const candidate = mostSpecific(inner);
      if (candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best;
}
