// Solves one proof of work off the page's thread. In: {challengeHex, bits}. Out: {tried, expected}
// after every 50,000 nonces (expected: 2**bits, the average work), then {nonce}, or {error}.
importScripts("pow.js");

self.onmessage = (event) => {
  const { challengeHex, bits } = event.data;
  const expected = 2 ** bits;
  try {
    const nonce = self.TrustPow.solve(self.TrustPow.fromHex(challengeHex), bits, 0,
      (tried) => self.postMessage({ tried, expected }), 50000);
    self.postMessage({ nonce });
  } catch (error) {
    self.postMessage({ error: String(error.message || error) });
  }
};
