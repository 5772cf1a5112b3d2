//! The P-384 work of JWE through WebCrypto (`crypto.subtle`), in wasm: key agreement here, key
//! checks in `js/p384.js`. The framing, key wrap and AES-GCM stay in Rust (`jwe`). Without
//! WebCrypto (an insecure browser context) AlliancePay calls fail with a clear error.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::jwe::{Agreement, JweError, PlatformKey, PrivateKey, RecipientKey, COORD};
use zeroize::Zeroizing;

type Result<T> = std::result::Result<T, JweError>;

#[wasm_bindgen(module = "/js/p384.js")]
extern "C" {
    #[wasm_bindgen(js_name = isP384Point)]
    fn is_p384_point(x: &[u8], y: &[u8]) -> bool;
    #[wasm_bindgen(js_name = isP384Scalar)]
    fn is_p384_scalar(d: &[u8]) -> bool;
}

pub fn check_public(key: &RecipientKey) -> Result<()> {
    if is_p384_point(&key.x, &key.y) {
        Ok(())
    } else {
        Err(JweError::Invalid("key is not a point on P-384"))
    }
}

/// `d` in range and the public point on the curve; that the point is `d`'s, WebCrypto checks
/// when it first imports the key.
pub fn check_private(key: &PrivateKey) -> Result<()> {
    if is_p384_scalar(key.d()) {
        Ok(())
    } else {
        Err(JweError::Invalid("key d is not a P-384 scalar"))
    }
}

fn subtle() -> Result<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok();
    crypto
        .and_then(|c| Reflect::get(&c, &"subtle".into()).ok())
        .filter(|s| s.is_object())
        .ok_or(JweError::NoWebCrypto)
}

async fn call(subtle: &JsValue, method: &str, args: &[JsValue], failed: JweError) -> Result<JsValue> {
    let f: js_sys::Function = Reflect::get(subtle, &method.into()).ok().and_then(|f| f.dyn_into().ok()).ok_or_else(|| failed.clone())?;
    let promise: Promise = f.apply(subtle, &args.iter().collect::<Array>()).ok().and_then(|p| p.dyn_into().ok()).ok_or_else(|| failed.clone())?;
    JsFuture::from(promise).await.map_err(|_| failed)
}

fn ecdh() -> JsValue {
    let alg = Object::new();
    let _ = Reflect::set(&alg, &"name".into(), &"ECDH".into());
    let _ = Reflect::set(&alg, &"namedCurve".into(), &"P-384".into());
    alg.into()
}

fn to_js(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// Imports a key once per `cache`.
async fn import(subtle: &JsValue, material: impl FnOnce() -> (&'static str, JsValue), usages: &[&str], cache: &PlatformKey, refused: JweError) -> Result<JsValue> {
    if let Some(key) = cache.0.borrow().as_ref() {
        return Ok(key.clone());
    }
    let (format, data) = material();
    let usages: Array = usages.iter().map(|u| JsValue::from_str(u)).collect();
    let key = call(subtle, "importKey", &[format.into(), data, ecdh(), false.into(), usages.into()], refused).await?;
    *cache.0.borrow_mut() = Some(key.clone());
    Ok(key)
}

/// Public keys go in as raw SEC1 points: a tenth of the cost of a JWK import in Node.
async fn import_public(subtle: &JsValue, key: &RecipientKey) -> Result<JsValue> {
    import(subtle, || ("raw", Uint8Array::from(key.sec1().as_slice()).into()), &[], &key.platform, JweError::Invalid("WebCrypto refused the public key")).await
}

async fn derive(subtle: &JsValue, public: &JsValue, private: &JsValue) -> Result<Vec<u8>> {
    let params = Object::new();
    let _ = Reflect::set(&params, &"name".into(), &"ECDH".into());
    let _ = Reflect::set(&params, &"public".into(), public);
    let bits = call(subtle, "deriveBits", &[params.into(), private.clone(), 384.into()], JweError::Invalid("ECDH failed")).await?;
    Ok(Uint8Array::new(&bits).to_vec())
}

fn raw_coordinates(raw: &[u8]) -> Result<RecipientKey> {
    match raw {
        [4, rest @ ..] if rest.len() == 2 * COORD => {
            let (x, y) = rest.split_at(COORD);
            Ok(RecipientKey::from_coordinates(x.try_into().unwrap_or([0; COORD]), y.try_into().unwrap_or([0; COORD])))
        }
        _ => Err(JweError::Invalid("WebCrypto exported an unexpected public key")),
    }
}

/// A fresh ephemeral key pair (WebCrypto draws its own randomness) and Z with the recipient.
pub async fn agree_ephemeral(to: &RecipientKey, _random: &mut dyn FnMut(&mut [u8])) -> Result<Agreement> {
    let subtle = subtle()?;
    let peer = import_public(&subtle, to).await?;
    let usages: Array = std::iter::once(JsValue::from_str("deriveBits")).collect();
    // Not extractable: only its public half is ever exported (which WebCrypto always allows).
    let pair = call(&subtle, "generateKey", &[ecdh(), false.into(), usages.into()], JweError::Invalid("WebCrypto could not make a key")).await?;
    let public = Reflect::get(&pair, &"publicKey".into()).map_err(|_| JweError::Invalid("no public key"))?;
    let private = Reflect::get(&pair, &"privateKey".into()).map_err(|_| JweError::Invalid("no private key"))?;
    let raw = call(&subtle, "exportKey", &["raw".into(), public], JweError::Invalid("WebCrypto could not export a key")).await?;
    let epk = raw_coordinates(&Uint8Array::new(&raw).to_vec())?;
    let z = derive(&subtle, &peer, &private).await?;
    Ok(Agreement { epk, z: Zeroizing::new(z) })
}

/// Z from the sender's ephemeral key and our private key. The first use imports the merchant
/// key, which is where WebCrypto rejects a point that is not `d`'s.
pub async fn agree(key: &PrivateKey, epk: &RecipientKey) -> Result<Vec<u8>> {
    let subtle = subtle()?;
    let private = import(&subtle, || ("jwk", to_js(&key.jwk_text())), &["deriveBits"], &key.platform, JweError::MerchantKeyRefused).await?;
    let public = import_public(&subtle, epk).await?;
    derive(&subtle, &public, &private).await
}
