import { expect } from 'vitest';
import { ProviderError } from '../../src/providers/errors.js';
import type { CompletionRequest, ProviderAdapter } from '../../src/providers/types.js';
import type { FakeUpstream, Script } from '../conformance/harness.js';

/**
 * The per-adapter half of test/hardening/secret-leaks.test.ts: an adapter made by the registry (the choke point that
 * redacts) against its fake echoing `secret` in an error body, in an in-stream error event split inside the secret,
 * and JSON-escaped and URL-encoded. Checks that the secret is gone, the text around it stays, and the error is marked
 * as upstream text (so callers without ADMIN get the generic message).
 */
export async function expectEchoedSecretRedacted(adapter: ProviderAdapter, fake: FakeUpstream, secret: string, request: CompletionRequest): Promise<void> {
  const escaped = JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/');
  const echoes = [`before ${secret} after`, `before {"key":"${escaped}"} after`, `before https://proxy.example/?key=${encodeURIComponent(secret)} after`];
  const scripts: Array<{ script: Script; streamed: boolean }> = [
    ...echoes.map((message) => ({ script: { kind: 'error', error: 'server_error', message } satisfies Script, streamed: false })),
    { script: { kind: 'mid-stream-error', textBefore: 'Hi', message: echoes[0]!, splitAfter: secret.slice(0, Math.ceil(secret.length / 2)) }, streamed: true },
  ];
  for (const { script, streamed } of scripts) {
    fake.enqueue(script);
    const signal = new AbortController().signal;
    const failure = await (async () => {
      try {
        if (streamed) for await (const _event of adapter.stream(request, { signal })) void _event;
        else await adapter.complete(request, { signal });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure, script.kind).toBeInstanceOf(ProviderError);
    const error = failure as ProviderError;
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(escaped);
    expect(error.message).not.toContain(encodeURIComponent(secret));
    expect(error.message).toMatch(/before .*\[redacted\].* after/);
    expect(error.upstreamText).toBe(true);
    expect(error.publicMessage).not.toContain('before');
    expect(error.publicMessage).toContain(adapter.id);
  }
}
