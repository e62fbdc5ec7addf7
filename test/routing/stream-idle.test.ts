import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_MODELS, ask, attemptSummary, startRoutingFixture, type RoutingFixture } from './fixture.js';
import { RecordingClock, eventually, watch } from './helpers.js';

const IDLE_MS = 2_000;
let fixture: RoutingFixture;
const clock = new RecordingClock();
beforeAll(async () => {
  fixture = await startRoutingFixture({ SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS), SWITCHBOARD_MAX_RETRIES: '0' }, { clock });
});
afterAll(async () => {
  await fixture.stop();
});

describe('a stream whose upstream stalls after the first token, over real sockets', () => {
  it('ends at the idle timeout as a TIMEOUT with what it streamed, and closes the upstream connection', async () => {
    // One word is one chunk, so once the idle timer is set nothing more is on its way.
    fixture.groq.enqueue({ kind: 'hang', textBefore: 'Partial' });
    const streaming = watch(fixture.stream(ask(SHARED_MODELS.kimi, 'Hello', { provider: { only: ['groq'] } })));
    // The idle timer is set once the first token has gone out and the next chunk is awaited.
    await eventually(() => clock.pending.some((timer) => timer.ms === IDLE_MS));
    expect(fixture.groq.activeResponses()).toBe(1);
    await clock.advance(IDLE_MS - 1);
    expect(streaming.settled).toBe(false);
    await clock.advance(1);
    const events = await streaming.promise;

    expect(events.map((event) => event.type)).toEqual(['started', 'delta', 'error']);
    const last = events.at(-1);
    if (last?.type !== 'error') throw new Error('no error event');
    expect(last.error.code).toBe('TIMEOUT');
    const generation = fixture.generation(last.id);
    expect(generation).toMatchObject({ status: 'FAILED', errorCode: 'TIMEOUT', providerId: 'groq' });
    expect(generation.completionTokens).toBeGreaterThan(0);
    expect(attemptSummary(generation.attempts ?? [])).toEqual(['groq FAILED TIMEOUT']);
    await eventually(() => fixture.groq.activeResponses() === 0);
  });
});
