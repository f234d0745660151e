import { createHash, timingSafeEqual } from 'node:crypto';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Buffer.from(s, 'base64') skips characters it does not understand and accepts missing padding,
 * so "malformed base64" would silently become some other byte string. This accepts only canonical
 * padded standard base64 (the round trip must reproduce the input, which also rules out non-zero
 * trailing bits), or returns undefined.
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Equal-length byte comparison whose time depends only on the (public) lengths. timingSafeEqual
 * throws on unequal lengths, which is both a crash on attacker input and a length oracle if
 * caught naively; callers that compare fixed-size digests get a plain false instead.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * Compares secrets of arbitrary, secret lengths (passwords, bearer tokens). Hashing both sides
 * first makes the compared buffers 32 bytes each, so neither the length nor the position of the
 * first differing character leaks through timing.
 */
export function equalSecretText(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
