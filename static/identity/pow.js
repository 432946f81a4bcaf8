// SHA-256 and the proof-of-work solver in Anonity's format (identity/pow.py): a nonce solves a
// challenge when SHA256(challenge || nonce as 8 bytes big-endian) has `bits` leading zero bits.
// Hand-written because crypto.subtle is asynchronous: one promise per hash is far too slow to mine.
// Loaded by the page, by pow-worker.js (importScripts) and by Node (the tests).
(function (root) {
  "use strict";

  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  const W = new Int32Array(64);
  const TWO_32 = 4294967296;
  const MAX_NONCE = Number.MAX_SAFE_INTEGER; // JSON numbers are exact up to 2**53 - 1

  // One compression of the 64-byte block at `offset` of `bytes` into `state` (8 int32 words).
  function compress(state, bytes, offset) {
    for (let i = 0; i < 16; i++) {
      const j = offset + 4 * i;
      W[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15], y = W[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    let a = state[0], b = state[1], c = state[2], d = state[3];
    let e = state[4], f = state[5], g = state[6], h = state[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0;
      d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    state[0] = (state[0] + a) | 0; state[1] = (state[1] + b) | 0;
    state[2] = (state[2] + c) | 0; state[3] = (state[3] + d) | 0;
    state[4] = (state[4] + e) | 0; state[5] = (state[5] + f) | 0;
    state[6] = (state[6] + g) | 0; state[7] = (state[7] + h) | 0;
  }

  // The message's last block(s): its bytes from `from` on, the 0x80 byte, zeros, the bit length.
  function tail(bytes, from) {
    const rest = bytes.length - from;
    const out = new Uint8Array(rest + 9 > 64 ? 128 : 64);
    out.set(bytes.subarray(from));
    out[rest] = 0x80;
    const bitLength = bytes.length * 8;
    const view = new DataView(out.buffer);
    view.setUint32(out.length - 8, Math.floor(bitLength / TWO_32));
    view.setUint32(out.length - 4, bitLength >>> 0);
    return out;
  }

  // The state after every whole block before `end`, and where those blocks stop.
  function midstate(bytes, end) {
    const state = new Int32Array(H0);
    let offset = 0;
    for (; offset + 64 <= end; offset += 64) compress(state, bytes, offset);
    return { state, offset };
  }

  function digestBytes(state) {
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setInt32(4 * i, state[i]);
    return out;
  }

  function sha256(bytes) {
    const { state, offset } = midstate(bytes, bytes.length);
    const last = tail(bytes, offset);
    for (let at = 0; at < last.length; at += 64) compress(state, last, at);
    return digestBytes(state);
  }

  // Whether the digest words start with `bits` zero bits.
  function enoughZeros(state, bits) {
    let i = 0;
    for (; bits >= 32; bits -= 32, i++) if (state[i] !== 0) return false;
    return bits === 0 || (state[i] >>> (32 - bits)) === 0;
  }

  // The first nonce from `startNonce` up that solves `challenge` (bytes) at `bits`. `onProgress`, when
  // given, is called with how many nonces were tried after every `chunk` of them.
  function solve(challenge, bits, startNonce, onProgress, chunk) {
    if (!(bits >= 1 && bits <= 256)) throw new RangeError("The difficulty is 1 to 256 bits.");
    chunk = chunk || 50000;
    let nonce = startNonce || 0;
    const message = new Uint8Array(challenge.length + 8);
    message.set(challenge);
    // The challenge's whole blocks are hashed once; only the last block(s), holding the nonce, per nonce.
    const { state: prefix, offset } = midstate(message, challenge.length);
    const last = tail(message, offset);
    const view = new DataView(last.buffer);
    const at = challenge.length - offset;
    const state = new Int32Array(8);
    for (let tried = 0; nonce <= MAX_NONCE; nonce++) {
      view.setUint32(at, Math.floor(nonce / TWO_32));
      view.setUint32(at + 4, nonce >>> 0);
      state.set(prefix);
      for (let block = 0; block < last.length; block += 64) compress(state, last, block);
      if (enoughZeros(state, bits)) return nonce;
      if (++tried % chunk === 0 && onProgress) onProgress(tried);
    }
    throw new RangeError("No nonce up to 2**53 - 1 solves this challenge.");
  }

  function fromHex(text) {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new TypeError("Not hex: " + text);
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  function toHex(bytes) {
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  const api = { sha256, solve, fromHex, toHex };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.TrustPow = api;
})(typeof self !== "undefined" ? self : this);
