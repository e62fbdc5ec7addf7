import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { generationContents, type StoredContent } from './schema.js';

/** Keeps a generation's content; its ledger row must be committed first (the foreign key). */
export function saveContent(db: Db, generationId: string, content: StoredContent, now: number): void {
  db.insert(generationContents).values({ generationId, content, createdAt: now }).onConflictDoNothing().run();
}

export function findContent(db: Db, generationId: string): StoredContent | undefined {
  return db.select({ content: generationContents.content }).from(generationContents).where(eq(generationContents.generationId, generationId)).get()?.content;
}
