// Bound once: inside a vm context (as Jest runs code) every `Math.x` in a hot loop is a slow global lookup.
const { imul } = Math;

/**
 * xoshiro128** (Blackman and Vigna) over a four-word state held in a typed array, so
 * the generator is part of the detector's snapshot and a restored forest continues the
 * very random stream the original would have drawn. 32 bits per draw are plenty for
 * reservoir priorities and cut positions, and one draw is cheaper than two.
 */
export const RANDOM_STATE_WORDS = 4;

/**
 * A generator state from a 32-bit seed: a Weyl sequence through Wellons' lowbias32
 * mixer, so that nearby seeds give unrelated streams from the first draw.
 */
export function seedRandom(seed: number): Uint32Array {
  const state = new Uint32Array(RANDOM_STATE_WORDS);
  let z = seed >>> 0;
  for (let i = 0; i < RANDOM_STATE_WORDS; i++) {
    z = (z + 0x9e3779b9) >>> 0;
    let x = z;
    x = imul(x ^ (x >>> 16), 0x21f0aaad);
    x = imul(x ^ (x >>> 15), 0x735a2d97);
    state[i] = x ^ (x >>> 15);
  }
  // All zeros is the generator's one fixed point. The mixer is a bijection, so this
  // takes four unlucky words in a row, but ruling it out costs nothing.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

/** Uniform in the open interval (0, 1): never 0, so `log(u)` is always finite. */
export function nextUniform(s: Uint32Array): number {
  const s0 = s[0];
  const s1 = s[1];
  const s2 = s[2] ^ s0;
  const s3 = s[3] ^ s1;
  const product = imul(s1, 5);
  const result = imul((product << 7) | (product >>> 25), 9) >>> 0;
  s[0] = s0 ^ s3;
  s[1] = s1 ^ s2;
  s[2] = s2 ^ (s1 << 9);
  s[3] = (s3 << 11) | (s3 >>> 21);
  return (result + 0.5) / 4294967296;
}
