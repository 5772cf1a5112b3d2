// P-384 key checks for the wasm build, which leaves the curve arithmetic to WebCrypto: a key is
// checked when it is read (config, session, every reply's epk), not only when WebCrypto first
// imports it. BigInt does the field arithmetic natively, so no curve code ships in wasm.
const P = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;
const B = 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn;
const N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

const toBig = (bytes) => BigInt(`0x${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`);

/** Whether (x, y) is a point on the curve: y² = x³ − 3x + b (mod p). */
export function isP384Point(xBytes, yBytes) {
  const x = toBig(xBytes);
  const y = toBig(yBytes);
  if (x >= P || y >= P) return false;
  return (y * y - (x * x * x - 3n * x + B)) % P === 0n;
}

/** Whether d is a valid private scalar: 0 < d < n. */
export function isP384Scalar(dBytes) {
  const d = toBig(dBytes);
  return d > 0n && d < N;
}
