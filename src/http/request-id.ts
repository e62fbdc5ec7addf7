import { newId } from '../ids.js';

const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** Accepts the caller's x-request-id when it is sane, so their logs and ours line up; otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_PATTERN.test(value) ? value : newId('req');
}
