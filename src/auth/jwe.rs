//! Compact JWE with ECDH-ES+A256KW key agreement and A256GCM content encryption on P-384
//! (RFC 7516/7518), as AlliancePay uses it. Pure Rust (RustCrypto); randomness is passed in.
//! Every malformed or tampered input is an `Err`, never a panic.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aes_kw::KekAes256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use p384::elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ToEncodedPoint};
use p384::{NistP384, PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use std::fmt;

const ALG: &str = "ECDH-ES+A256KW";
const ENC: &str = "A256GCM";
const COORD: usize = 48;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JweError(pub &'static str);

impl fmt::Display for JweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

type Result<T> = std::result::Result<T, JweError>;

/// A recipient's P-384 private key. Its Debug form shows nothing of the scalar.
#[derive(Clone)]
pub struct PrivateKey {
    secret: SecretKey,
    /// The same key imported into WebCrypto (non-extractable), once.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) platform: PlatformKey,
}

/// A key's WebCrypto handle, cached after the first import (wasm only; empty natively).
#[derive(Clone, Default)]
pub struct PlatformKey(#[cfg(target_arch = "wasm32")] pub(crate) std::rc::Rc<std::cell::RefCell<Option<wasm_bindgen::JsValue>>>);

impl fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlatformKey")
    }
}

impl PartialEq for PlatformKey {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecipientKey {
    public: PublicKey,
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) platform: PlatformKey,
}

fn coordinate(b64: &str, what: &'static str) -> Result<[u8; COORD]> {
    let bytes = B64.decode(b64.trim_end_matches('=')).map_err(|_| JweError(what))?;
    bytes.try_into().map_err(|_| JweError(what))
}

fn public_from_xy(x: &str, y: &str) -> Result<PublicKey> {
    let x = coordinate(x, "key x is not a P-384 coordinate")?;
    let y = coordinate(y, "key y is not a P-384 coordinate")?;
    let point = EncodedPoint::<NistP384>::from_affine_coordinates(&x.into(), &y.into(), false);
    Option::from(PublicKey::from_encoded_point(&point)).ok_or(JweError("key is not a point on P-384"))
}

impl PrivateKey {
    /// From the JWK members `x`, `y`, `d`; the public half must match the private scalar.
    pub fn from_jwk(x: &str, y: &str, d: &str) -> Result<Self> {
        let d = coordinate(d, "key d is not a P-384 scalar")?;
        let secret = SecretKey::from_slice(&d).map_err(|_| JweError("key d is not a P-384 scalar"))?;
        if secret.public_key() != public_from_xy(x, y)? {
            return Err(JweError("key x/y do not belong to d"));
        }
        Ok(PrivateKey { secret, platform: PlatformKey::default() })
    }

    pub fn recipient(&self) -> RecipientKey {
        RecipientKey { public: self.secret.public_key(), platform: PlatformKey::default() }
    }

    /// The private JWK, for importing into WebCrypto only.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn jwk(&self) -> serde_json::Value {
        let mut jwk = RecipientKey { public: self.secret.public_key(), platform: PlatformKey::default() }.jwk();
        jwk["d"] = B64.encode(self.secret.to_bytes()).into();
        jwk
    }
}

impl RecipientKey {
    /// From a public JWK object (`kty: EC`, `crv: P-384`, `x`, `y`).
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self> {
        let field = |k: &str| jwk.get(k).and_then(|v| v.as_str());
        if field("kty") != Some("EC") || field("crv") != Some("P-384") {
            return Err(JweError("key is not an EC P-384 JWK"));
        }
        match (field("x"), field("y")) {
            (Some(x), Some(y)) => Ok(RecipientKey { public: public_from_xy(x, y)?, platform: PlatformKey::default() }),
            _ => Err(JweError("key lacks x or y")),
        }
    }

    /// The uncompressed SEC1 point (0x04 ‖ x ‖ y).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn sec1(&self) -> Vec<u8> {
        self.public.to_encoded_point(false).as_bytes().to_vec()
    }

    pub(crate) fn jwk(&self) -> serde_json::Value {
        let point = self.public.to_encoded_point(false);
        let (x, y) = (point.x().map(|c| B64.encode(c)), point.y().map(|c| B64.encode(c)));
        serde_json::json!({ "kty": "EC", "crv": "P-384", "x": x, "y": y })
    }
}

/// Concat KDF (NIST SP 800-56A, RFC 7518 §4.6.2) for a 256-bit key: one SHA-256 round.
fn concat_kdf(z: &[u8], apu: &[u8], apv: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    for part in [ALG.as_bytes(), apu, apv] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    h.update(256u32.to_be_bytes());
    h.finalize().into()
}

fn kek(z: &[u8], apu: &[u8], apv: &[u8]) -> KekAes256 {
    KekAes256::from(concat_kdf(z, apu, apv))
}

/// The ephemeral half of ECDH-ES: a fresh key pair's public JWK and the shared secret Z.
pub struct Agreement {
    pub epk: serde_json::Value,
    pub z: Vec<u8>,
}

/// ECDH-ES with a fresh ephemeral key, in pure Rust.
pub fn agree_ephemeral(to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<Agreement> {
    let mut seed = [0u8; COORD];
    let ephemeral = (0..4)
        .find_map(|_| {
            random(&mut seed);
            if seed.iter().all(|b| *b == 0) {
                return None;
            }
            SecretKey::from_slice(&seed).ok()
        })
        .ok_or(JweError("no secure randomness available"))?;
    let z = p384::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), to.public.as_affine());
    Ok(Agreement { epk: RecipientKey { public: ephemeral.public_key(), platform: PlatformKey::default() }.jwk(), z: z.raw_secret_bytes().to_vec() })
}

/// ECDH with the sender's ephemeral public key, in pure Rust.
pub fn agree(key: &PrivateKey, epk: &RecipientKey) -> Vec<u8> {
    p384::ecdh::diffie_hellman(key.secret.to_nonzero_scalar(), epk.public.as_affine()).raw_secret_bytes().to_vec()
}

/// Everything after key agreement: wrap a fresh content key and encrypt.
pub fn seal(plaintext: &[u8], agreement: &Agreement, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    let header = serde_json::json!({ "alg": ALG, "enc": ENC, "epk": agreement.epk });
    let header_b64 = B64.encode(header.to_string());
    let mut cek = [0u8; 32];
    random(&mut cek);
    let mut iv = [0u8; 12];
    random(&mut iv);
    if cek.iter().all(|b| *b == 0) || iv.iter().all(|b| *b == 0) {
        // A failed random source would repeat key and nonce: never encrypt with them.
        return Err(JweError("no secure randomness available"));
    }
    let mut wrapped = [0u8; 40];
    kek(&agreement.z, b"", b"").wrap(&cek, &mut wrapped).map_err(|_| JweError("key wrap failed"))?;
    let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| JweError("bad content key"))?;
    let sealed = cipher
        .encrypt(&Nonce::from(iv), Payload { msg: plaintext, aad: header_b64.as_bytes() })
        .map_err(|_| JweError("encryption failed"))?;
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!("{header_b64}.{}.{}.{}.{}", B64.encode(wrapped), B64.encode(iv), B64.encode(ciphertext), B64.encode(tag)))
}

/// Encrypts `plaintext` to `to`. `random` fills buffers with cryptographically secure bytes.
pub fn encrypt(plaintext: &[u8], to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    let agreement = agree_ephemeral(to, random)?;
    seal(plaintext, &agreement, random)
}

fn part(b64: &str, what: &'static str) -> Result<Vec<u8>> {
    B64.decode(b64).map_err(|_| JweError(what))
}

/// A compact JWE read and checked, waiting for the shared secret to open it.
pub struct Sealed {
    header_b64: String,
    pub epk: RecipientKey,
    apu: Vec<u8>,
    apv: Vec<u8>,
    wrapped: Vec<u8>,
    iv: [u8; 12],
    sealed: Vec<u8>,
}

/// Reads a compact JWE: five base64url parts, our alg and enc, a P-384 `epk`.
pub fn parse(compact: &str) -> Result<Sealed> {
    let parts: Vec<&str> = compact.trim().split('.').collect();
    let [header_b64, wrapped, iv, ciphertext, tag] = parts.as_slice() else {
        return Err(JweError("not a compact JWE (five parts)"));
    };
    let header: serde_json::Value =
        serde_json::from_slice(&part(header_b64, "header is not base64url")?).map_err(|_| JweError("header is not JSON"))?;
    if header.get("alg").and_then(|v| v.as_str()) != Some(ALG) || header.get("enc").and_then(|v| v.as_str()) != Some(ENC) {
        return Err(JweError("unsupported alg or enc"));
    }
    if header.get("zip").is_some() || header.get("crit").is_some() {
        return Err(JweError("unsupported header parameters"));
    }
    let epk = RecipientKey::from_jwk(header.get("epk").ok_or(JweError("header lacks epk"))?)?;
    let party = |name: &str| -> Result<Vec<u8>> {
        match header.get(name).and_then(|v| v.as_str()) {
            Some(v) => part(v, "apu/apv is not base64url"),
            None => Ok(Vec::new()),
        }
    };
    let (apu, apv) = (party("apu")?, party("apv")?);
    let wrapped = part(wrapped, "encrypted key is not base64url")?;
    let iv: [u8; 12] = part(iv, "iv is not base64url")?.try_into().map_err(|_| JweError("wrong iv length"))?;
    let mut sealed = part(ciphertext, "ciphertext is not base64url")?;
    let tag = part(tag, "tag is not base64url")?;
    if wrapped.len() != 40 || tag.len() != 16 {
        return Err(JweError("wrong key or tag length"));
    }
    sealed.extend_from_slice(&tag);
    Ok(Sealed { header_b64: header_b64.to_string(), epk, apu, apv, wrapped, iv, sealed })
}

/// Everything after key agreement: unwrap the content key and decrypt.
pub fn open(jwe: &Sealed, z: &[u8]) -> Result<Vec<u8>> {
    let mut cek = [0u8; 32];
    kek(z, &jwe.apu, &jwe.apv).unwrap(&jwe.wrapped, &mut cek).map_err(|_| JweError("key unwrap failed (wrong key or tampered)"))?;
    let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| JweError("bad content key"))?;
    cipher
        .decrypt(&Nonce::from(jwe.iv), Payload { msg: &jwe.sealed, aad: jwe.header_b64.as_bytes() })
        .map_err(|_| JweError("authentication tag mismatch (tampered)"))
}

/// Decrypts a compact JWE addressed to `key`.
pub fn decrypt(compact: &str, key: &PrivateKey) -> Result<Vec<u8>> {
    let jwe = parse(compact)?;
    open(&jwe, &agree(key, &jwe.epk))
}

/// `encrypt`, with the elliptic-curve work done by the platform's WebCrypto where there is one
/// (native code in browsers and Node, measured faster than P-384 arithmetic in wasm: see
/// bench/RESULTS.md), and in pure Rust elsewhere.
pub async fn encrypt_async(plaintext: &[u8], to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    #[cfg(target_arch = "wasm32")]
    if let Some(agreement) = super::webcrypto::agree_ephemeral(to).await? {
        return seal(plaintext, &agreement, random);
    }
    encrypt(plaintext, to, random)
}

/// `decrypt`, with the key agreement in WebCrypto where there is one.
pub async fn decrypt_async(compact: &str, key: &PrivateKey) -> Result<Vec<u8>> {
    let jwe = parse(compact)?;
    #[cfg(target_arch = "wasm32")]
    if let Some(z) = super::webcrypto::agree(key, &jwe.epk).await? {
        return open(&jwe, &z);
    }
    open(&jwe, &agree(key, &jwe.epk))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The sandbox's merchant key (sandbox-only, committed on purpose).
    pub fn sandbox_merchant_key() -> (PrivateKey, serde_json::Value) {
        let text = std::fs::read_to_string(format!("{}/sandbox/keys/merchant.private.jwk.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&text).unwrap();
        let s = |k: &str| jwk[k].as_str().unwrap().to_string();
        (PrivateKey::from_jwk(&s("x"), &s("y"), &s("d")).unwrap(), jwk)
    }

    pub fn counter_random() -> impl FnMut(&mut [u8]) {
        let mut n = 0u8;
        move |buf: &mut [u8]| {
            for b in buf.iter_mut() {
                n = n.wrapping_add(37);
                *b = n;
            }
        }
    }

    #[test]
    fn round_trip_and_header_shape() {
        let (key, _) = sandbox_merchant_key();
        let compact = encrypt(b"{\"customerId\":\"senderCustomerId\"}", &key.recipient(), &mut counter_random()).unwrap();
        assert_eq!(compact.split('.').count(), 5);
        let header: serde_json::Value = serde_json::from_slice(&B64.decode(compact.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], "ECDH-ES+A256KW");
        assert_eq!(header["enc"], "A256GCM");
        assert_eq!(header["epk"]["crv"], "P-384");
        assert_eq!(decrypt(&compact, &key).unwrap(), b"{\"customerId\":\"senderCustomerId\"}");
    }

    #[test]
    fn tampering_anywhere_is_an_error() {
        let (key, _) = sandbox_merchant_key();
        let compact = encrypt(b"secret payload", &key.recipient(), &mut counter_random()).unwrap();
        let parts: Vec<&str> = compact.split('.').collect();
        for i in 0..5 {
            let mut bytes = B64.decode(parts[i]).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
            let mut tampered: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            tampered[i] = B64.encode(&bytes);
            assert!(decrypt(&tampered.join("."), &key).is_err(), "part {i}");
        }
        for junk in ["", ".", "a.b.c.d.e", "....", "a.b.c.d.e.f", "eyJ9.x.y.z.w", &compact[..compact.len() - 3]] {
            assert!(decrypt(junk, &key).is_err(), "{junk}");
        }
    }

    #[test]
    fn bad_keys_are_rejected() {
        let (_, jwk) = sandbox_merchant_key();
        let s = |k: &str| jwk[k].as_str().unwrap().to_string();
        assert!(PrivateKey::from_jwk(&s("x"), &s("y"), "AAAA").is_err());
        assert!(PrivateKey::from_jwk(&s("y"), &s("x"), &s("d")).is_err());
        assert!(RecipientKey::from_jwk(&serde_json::json!({"kty": "EC", "crv": "P-256", "x": s("x"), "y": s("y")})).is_err());
        assert!(RecipientKey::from_jwk(&serde_json::json!({"kty": "EC", "crv": "P-384"})).is_err());
        assert!(encrypt(b"x", &RecipientKey::from_jwk(&jwk).unwrap(), &mut |b: &mut [u8]| b.fill(0)).is_err());
    }
}
