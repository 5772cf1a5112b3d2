//! Compact JWE with ECDH-ES+A256KW key agreement and A256GCM content encryption on P-384
//! (RFC 7516/7518), as AlliancePay uses it. The framing, KDF, key wrap and AES-GCM are pure Rust
//! (RustCrypto); the curve work is `curve` (WebCrypto in wasm); randomness is passed in.
//! Every malformed or tampered input is an `Err`, never a panic.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use aes_kw::KekAes256;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

#[cfg(not(target_arch = "wasm32"))]
use super::native_curve as curve;
#[cfg(target_arch = "wasm32")]
use super::webcrypto as curve;

const ALG: &str = "ECDH-ES+A256KW";
const ENC: &str = "A256GCM";
pub(crate) const COORD: usize = 48;

/// What went wrong in the JWE layer. The first two are not bad replies: the caller reports them
/// as what they are (an unsupported platform, a bad config), so they are kinds, not messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JweError {
    /// The platform has no WebCrypto (an insecure browser context), which the wasm build needs.
    NoWebCrypto,
    /// WebCrypto would not import the merchant key: in wasm that is where a point that is not
    /// `d`'s is found (natively, `PrivateKey::from_jwk` finds it).
    MerchantKeyRefused,
    /// The content key did not unwrap with the merchant key: the message was encrypted to another
    /// key, or tampered with.
    KeyUnwrap,
    /// A bad key, or a message that is malformed or tampered with.
    Invalid(&'static str),
}

impl fmt::Display for JweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JweError::NoWebCrypto => "AlliancePay encryption needs WebCrypto (crypto.subtle): a secure context (https or localhost) or Node 18+",
            JweError::MerchantKeyRefused => "WebCrypto refused the key: x/y do not belong to d",
            JweError::KeyUnwrap => "key unwrap failed (wrong key or tampered)",
            JweError::Invalid(what) => what,
        })
    }
}

type Result<T> = std::result::Result<T, JweError>;

/// A recipient's P-384 private key, checked on the curve. Its Debug form shows nothing of `d`,
/// and `d` is wiped when the last copy is dropped.
#[derive(Clone)]
pub struct PrivateKey {
    d: std::rc::Rc<Zeroizing<[u8; COORD]>>,
    pub(crate) public: RecipientKey,
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

/// A P-384 public key (affine coordinates), checked on the curve.
#[derive(Clone, Debug, PartialEq)]
pub struct RecipientKey {
    pub(crate) x: [u8; COORD],
    pub(crate) y: [u8; COORD],
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) platform: PlatformKey,
}

fn coordinate(b64: &str, what: &'static str) -> Result<[u8; COORD]> {
    let bytes = B64.decode(b64.trim_end_matches('=')).map_err(|_| JweError::Invalid(what))?;
    bytes.try_into().map_err(|_| JweError::Invalid(what))
}

fn public_from_xy(x: &str, y: &str) -> Result<RecipientKey> {
    let key = RecipientKey::from_coordinates(coordinate(x, "key x is not a P-384 coordinate")?, coordinate(y, "key y is not a P-384 coordinate")?);
    curve::check_public(&key)?;
    Ok(key)
}

impl PrivateKey {
    /// From the JWK members `x`, `y`, `d`: `d` must be a scalar and `x`/`y` a point on the
    /// curve. Natively the point must also be `d`'s; in wasm WebCrypto checks that at first use.
    pub fn from_jwk(x: &str, y: &str, d: &str) -> Result<Self> {
        let d = Zeroizing::new(coordinate(d, "key d is not a P-384 scalar")?);
        let key = PrivateKey { d: std::rc::Rc::new(d), public: public_from_xy(x, y)?, platform: PlatformKey::default() };
        curve::check_private(&key)?;
        Ok(key)
    }

    pub(crate) fn d(&self) -> &[u8; COORD] {
        &self.d
    }

    pub fn recipient(&self) -> RecipientKey {
        RecipientKey { platform: PlatformKey::default(), ..self.public.clone() }
    }

    /// The private JWK as JSON text, for importing into WebCrypto only. Written into buffers of
    /// their final size, wiped when dropped: a `Value` and its text would leave `d` in freed memory.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn jwk_text(&self) -> Zeroizing<String> {
        let public = self.public.jwk().to_string();
        let mut d = Zeroizing::new([0u8; 64]);
        let written = B64.encode_slice(self.d.as_slice(), d.as_mut_slice()).unwrap_or(0);
        let d = std::str::from_utf8(&d[..written]).unwrap_or("");
        let mut text = Zeroizing::new(String::with_capacity(public.len() + d.len() + 7));
        text.push_str("{\"d\":\"");
        text.push_str(d);
        text.push_str("\",");
        text.push_str(public.strip_prefix('{').unwrap_or(&public));
        text
    }
}

impl RecipientKey {
    pub(crate) fn from_coordinates(x: [u8; COORD], y: [u8; COORD]) -> Self {
        RecipientKey { x, y, platform: PlatformKey::default() }
    }

    /// From a public JWK object (`kty: EC`, `crv: P-384`, `x`, `y`).
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self> {
        let field = |k: &str| jwk.get(k).and_then(|v| v.as_str());
        if field("kty") != Some("EC") || field("crv") != Some("P-384") {
            return Err(JweError::Invalid("key is not an EC P-384 JWK"));
        }
        match (field("x"), field("y")) {
            (Some(x), Some(y)) => public_from_xy(x, y),
            _ => Err(JweError::Invalid("key lacks x or y")),
        }
    }

    /// The uncompressed SEC1 point (0x04 ‖ x ‖ y).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn sec1(&self) -> Vec<u8> {
        [&[4u8][..], &self.x, &self.y].concat()
    }

    pub(crate) fn jwk(&self) -> serde_json::Value {
        serde_json::json!({ "kty": "EC", "crv": "P-384", "x": B64.encode(self.x), "y": B64.encode(self.y) })
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
    let mut key = concat_kdf(z, apu, apv);
    let kek = KekAes256::from(key);
    key.zeroize();
    kek
}

/// The ephemeral half of ECDH-ES: a fresh key pair's public key and the shared secret Z.
pub struct Agreement {
    pub epk: RecipientKey,
    pub z: Zeroizing<Vec<u8>>,
}

/// Everything after key agreement: wrap a fresh content key and encrypt.
pub fn seal(plaintext: &[u8], agreement: &Agreement, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    let header = serde_json::json!({ "alg": ALG, "enc": ENC, "epk": agreement.epk.jwk() });
    let header_b64 = B64.encode(header.to_string());
    let mut cek = Zeroizing::new([0u8; 32]);
    random(cek.as_mut());
    let mut iv = [0u8; 12];
    random(&mut iv);
    if cek.iter().all(|b| *b == 0) || iv.iter().all(|b| *b == 0) {
        // A failed random source would repeat key and nonce: never encrypt with them.
        return Err(JweError::Invalid("no secure randomness available"));
    }
    let mut wrapped = [0u8; 40];
    kek(&agreement.z, b"", b"").wrap(cek.as_ref(), &mut wrapped).map_err(|_| JweError::Invalid("key wrap failed"))?;
    let cipher = Aes256Gcm::new_from_slice(cek.as_ref()).map_err(|_| JweError::Invalid("bad content key"))?;
    let sealed = cipher
        .encrypt(&Nonce::from(iv), Payload { msg: plaintext, aad: header_b64.as_bytes() })
        .map_err(|_| JweError::Invalid("encryption failed"))?;
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!("{header_b64}.{}.{}.{}.{}", B64.encode(wrapped), B64.encode(iv), B64.encode(ciphertext), B64.encode(tag)))
}

fn part(b64: &str, what: &'static str) -> Result<Vec<u8>> {
    B64.decode(b64).map_err(|_| JweError::Invalid(what))
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
        return Err(JweError::Invalid("not a compact JWE (five parts)"));
    };
    // As text, with the reader every reply goes through: a second reader (over bytes) would be
    // a copy of serde_json's parser in the wasm.
    let header = String::from_utf8(part(header_b64, "header is not base64url")?).map_err(|_| JweError::Invalid("header is not JSON"))?;
    let header: serde_json::Value = serde_json::from_str(&header).map_err(|_| JweError::Invalid("header is not JSON"))?;
    if header.get("alg").and_then(|v| v.as_str()) != Some(ALG) || header.get("enc").and_then(|v| v.as_str()) != Some(ENC) {
        return Err(JweError::Invalid("unsupported alg or enc"));
    }
    if header.get("zip").is_some() || header.get("crit").is_some() {
        return Err(JweError::Invalid("unsupported header parameters"));
    }
    let epk = RecipientKey::from_jwk(header.get("epk").ok_or(JweError::Invalid("header lacks epk"))?)?;
    let party = |name: &str| -> Result<Vec<u8>> {
        match header.get(name).and_then(|v| v.as_str()) {
            Some(v) => part(v, "apu/apv is not base64url"),
            None => Ok(Vec::new()),
        }
    };
    let (apu, apv) = (party("apu")?, party("apv")?);
    let wrapped = part(wrapped, "encrypted key is not base64url")?;
    let iv: [u8; 12] = part(iv, "iv is not base64url")?.try_into().map_err(|_| JweError::Invalid("wrong iv length"))?;
    let mut sealed = part(ciphertext, "ciphertext is not base64url")?;
    let tag = part(tag, "tag is not base64url")?;
    if wrapped.len() != 40 || tag.len() != 16 {
        return Err(JweError::Invalid("wrong key or tag length"));
    }
    sealed.extend_from_slice(&tag);
    Ok(Sealed { header_b64: header_b64.to_string(), epk, apu, apv, wrapped, iv, sealed })
}

/// Everything after key agreement: unwrap the content key and decrypt.
pub fn open(jwe: &Sealed, z: &[u8]) -> Result<Vec<u8>> {
    let mut cek = Zeroizing::new([0u8; 32]);
    kek(z, &jwe.apu, &jwe.apv).unwrap(&jwe.wrapped, cek.as_mut()).map_err(|_| JweError::KeyUnwrap)?;
    let cipher = Aes256Gcm::new_from_slice(cek.as_ref()).map_err(|_| JweError::Invalid("bad content key"))?;
    cipher
        .decrypt(&Nonce::from(jwe.iv), Payload { msg: &jwe.sealed, aad: jwe.header_b64.as_bytes() })
        .map_err(|_| JweError::Invalid("authentication tag mismatch (tampered)"))
}

/// Encrypts `plaintext` to `to`. `random` fills buffers with cryptographically secure bytes.
/// The curve work runs in WebCrypto in wasm (native code, measured faster than P-384 in wasm:
/// bench/RESULTS.md) and in pure Rust elsewhere.
pub async fn encrypt_async(plaintext: &[u8], to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    let agreement = curve::agree_ephemeral(to, random).await?;
    seal(plaintext, &agreement, random)
}

/// Decrypts a compact JWE addressed to `key`.
pub async fn decrypt_async(compact: &str, key: &PrivateKey) -> Result<Vec<u8>> {
    let jwe = parse(compact)?;
    let z = Zeroizing::new(curve::agree(key, &jwe.epk).await?);
    open(&jwe, &z)
}

/// Natively the curve work never waits, so one poll finishes it.
#[cfg(not(target_arch = "wasm32"))]
fn at_once<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use std::task::{Context, Poll, Waker};
    match std::pin::pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(JweError::Invalid("the key agreement did not finish")),
    }
}

/// `encrypt_async` for native callers (tests, fuzzing).
#[cfg(not(target_arch = "wasm32"))]
pub fn encrypt(plaintext: &[u8], to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<String> {
    at_once(encrypt_async(plaintext, to, random))
}

/// `decrypt_async` for native callers (tests, fuzzing).
#[cfg(not(target_arch = "wasm32"))]
pub fn decrypt(compact: &str, key: &PrivateKey) -> Result<Vec<u8>> {
    at_once(decrypt_async(compact, key))
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
