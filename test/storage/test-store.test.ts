import { describe, expect, it } from 'vitest';
import { startTestServer, testStore } from '../helpers/app.js';

// Runs in both vitest projects: the postgres project's suites must really run on PostgreSQL, and the others on
// SQLite, though files share workers (isolate: false).
describe('the store under startTestServer', () => {
  it('is the one of the vitest project running the file', async ({ task }) => {
    const expected = task.file.projectName === 'postgres' ? 'postgres' : 'sqlite';
    expect(testStore()).toBe(expected);
    const server = await startTestServer();
    try {
      expect(server.app.services.storage.dialect).toBe(expected);
    } finally {
      await server.stop();
    }
  });
});
