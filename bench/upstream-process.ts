/**
 * The fake OpenAI upstream in its own process, so it does not share the gateway's or the load generator's event loop.
 * Prints one JSON line `{"url": "...", "key": "..."}` on stdout once listening; exits on SIGTERM/SIGINT or stdin close.
 */
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../test/fakes/openai.js';

// The reference servers (bench/references/proxy.mjs, used unchanged) send `Bearer x`: the bench's fake takes any key.
const fake = await startFakeOpenAI({ apiKey: null });
process.stdout.write(`${JSON.stringify({ url: fake.url, key: FAKE_OPENAI_KEY })}\n`);
// The fake records every request; in a benchmark that is an unbounded leak, so drop the log now and then.
const trim = setInterval(() => {
  fake.received.length = 0;
}, 1000);
const stop = (): void => {
  clearInterval(trim);
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
