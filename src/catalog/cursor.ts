import { z } from 'zod';
import type { ModelListOrder, ModelPosition, SortKey } from '../db/catalog.js';
import { modelSortFields } from '../db/catalog.js';
import { BadRequestError } from '../errors.js';

/**
 * A `models` cursor names the ordering it belongs to and the row's place in it (sort key + id), so a page can
 * continue by keyset whatever was inserted meanwhile. It is opaque to clients: base64url of a small JSON.
 */
const cursorSchema = z
  .object({
    f: z.enum(modelSortFields),
    d: z.enum(['ASC', 'DESC']),
    k: z.union([z.string(), z.number(), z.null()]),
    i: z.string().min(1),
  })
  .strict();

export function encodeModelCursor(order: ModelListOrder, key: SortKey, id: string): string {
  return Buffer.from(JSON.stringify({ f: order.field, d: order.direction, k: key, i: id }), 'utf8').toString('base64url');
}

export function decodeModelCursor(cursor: string, order: ModelListOrder, argument: 'after' | 'before'): ModelPosition {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestError(`Invalid cursor in '${argument}'`, argument);
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new BadRequestError(`Invalid cursor in '${argument}'`, argument);
  const { f: field, d: direction, k: key, i: id } = result.data;
  // A cursor is a place in one ordering; read against another it would silently skip or repeat rows.
  if (field !== order.field || direction !== order.direction) {
    throw new BadRequestError(`The cursor in '${argument}' belongs to ordering ${field} ${direction}, not ${order.field} ${order.direction}`, argument);
  }
  return { key, id };
}
