// Finds a proof-of-work nonce off the page's main thread: a nonce whose
// SHA-256 of `challenge:nonce` starts with `difficulty` zero bits (the server's
// rule, server/src/sightings/abuse.rs). At the default 16 bits that is about
// 65,000 hashes: one to three seconds on a cheap phone. Digests are asked for
// in batches so the browser's native SHA-256 runs back to back.
import { solve } from '__POW_JS__';

self.onmessage = async (event) => {
  const { challenge, difficulty } = event.data;
  self.postMessage({ nonce: await solve(challenge, difficulty) });
};
