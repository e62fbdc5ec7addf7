import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, sqliteOf } from '../helpers/app.js';
import { query } from './graphql.js';

/**
 * Seeding runs at every start-up. It must refresh what nobody edited (so an upgrade brings new prices) and leave
 * alone what an admin edited through the API. Two servers in turn on one database file prove both.
 */

const directory = mkdtempSync(join(tmpdir(), 'switchboard-seed-'));
const env = { DATABASE_URL: `file:${join(directory, 'catalog.db')}` };

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

interface ModelView {
  name: string;
  contextLength: number;
  editedByAdmin: boolean;
  endpoints: Array<{ id: string; editedByAdmin: boolean; pricing: { promptPerMillion: number; completionPerMillion: number } }>;
}

const MODEL = `query($id: ID!) { model(id: $id) { name contextLength editedByAdmin endpoints { id editedByAdmin pricing { promptPerMillion completionPerMillion } } } }`;

async function model(server: TestServer, id: string): Promise<ModelView> {
  return (await query<{ model: ModelView }>(server, MODEL, { id })).model;
}

describe('start-up seeding', () => {
  it('keeps admin edits and restores rows nobody edited', async () => {
    const first = await startTestServer(env);
    const seededMini = await model(first, 'openai/gpt-4o-mini');
    try {
      await query(first, `mutation { upsertModel(input: { id: "openai/gpt-4o", name: "GPT-4o (house)", contextLength: 64000 }) { id } }`);
      await query(first, `mutation { updateModelEndpoint(input: { provider: "openai", providerModelId: "gpt-4o", promptPerMillion: 9, completionPerMillion: 99 }) { id } }`);
      await query(
        first,
        `mutation { upsertModel(input: { id: "anthropic/claude-sonnet-6", contextLength: 1000000, aliases: ["claude-sonnet"],
          endpoints: [{ provider: "anthropic", providerModelId: "claude-sonnet-6", promptPerMillion: 3, completionPerMillion: 15 }] }) { id } }`,
      );
      // A change behind the API's back is not an admin edit: seeding should undo it.
      sqliteOf(first.app.services).run(sql`update models set name = 'tampered' where id = 'openai/gpt-4o-mini'`);
      sqliteOf(first.app.services).run(sql`update model_endpoints set prompt_price_micros = 1 where id = 'openai:gpt-4o-mini'`);
      expect((await model(first, 'openai/gpt-4o-mini')).name).toBe('tampered');
    } finally {
      await first.stop();
    }

    const second = await startTestServer(env);
    try {
      const edited = await model(second, 'openai/gpt-4o');
      expect(edited).toMatchObject({ name: 'GPT-4o (house)', contextLength: 64_000, editedByAdmin: true });
      expect(edited.endpoints.find((endpoint) => endpoint.id === 'openai:gpt-4o')).toEqual({
        id: 'openai:gpt-4o',
        editedByAdmin: true,
        pricing: { promptPerMillion: 9, completionPerMillion: 99 },
      });
      // The other endpoint of the edited model was not edited, so it still follows the seed.
      expect(edited.endpoints.find((endpoint) => endpoint.id === 'openrouter:openai/gpt-4o')).toMatchObject({ editedByAdmin: false, pricing: { promptPerMillion: 2.5 } });

      expect(await model(second, 'openai/gpt-4o-mini')).toEqual(seededMini);
      expect((await query<{ model: { id: string } }>(second, `{ model(id: "claude-sonnet") { id } }`)).model.id).toBe('anthropic/claude-sonnet-6');
    } finally {
      await second.stop();
    }
  });
});
