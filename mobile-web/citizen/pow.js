// The proof-of-work search itself, shared by the page's worker
// (pow-worker.js) and the service worker (report-sw.js), which cannot start
// workers of its own.

const BATCH = 256;

function leadingZeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** A nonce (a decimal string) whose stamp has at least `difficulty` zero bits. */
export async function solve(challenge, difficulty) {
  const encoder = new TextEncoder();
  for (let start = 0; ; start += BATCH) {
    const tries = [];
    for (let n = start; n < start + BATCH; n += 1) {
      tries.push(crypto.subtle.digest('SHA-256', encoder.encode(`${challenge}:${n}`)));
    }
    const digests = await Promise.all(tries);
    for (let i = 0; i < digests.length; i += 1) {
      if (leadingZeroBits(new Uint8Array(digests[i])) >= difficulty) return String(start + i);
    }
  }
}
