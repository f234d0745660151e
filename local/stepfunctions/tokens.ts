import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const NONCE_BYTES = 24;
const MAC_BYTES = 16;

/**
 * Task tokens: 192 random bits plus a MAC under a key that lives only in this process. The MAC
 * tells a token this server issued (and has since closed: AWS answers `TaskTimedOut`) from one it
 * never issued (`InvalidToken`) without remembering every dead token.
 */
export class TokenMint {
  private readonly key = randomBytes(32);

  issue(): string {
    const nonce = randomBytes(NONCE_BYTES);
    return Buffer.concat([nonce, this.mac(nonce)]).toString('base64url');
  }

  isGenuine(token: string): boolean {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) return false;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length !== NONCE_BYTES + MAC_BYTES) return false;
    return timingSafeEqual(raw.subarray(NONCE_BYTES), this.mac(raw.subarray(0, NONCE_BYTES)));
  }

  private mac(nonce: Buffer): Buffer {
    return createHmac('sha256', this.key).update(nonce).digest().subarray(0, MAC_BYTES);
  }
}
