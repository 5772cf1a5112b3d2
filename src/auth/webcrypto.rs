//! The P-384 key agreement of JWE through WebCrypto (`crypto.subtle`), in wasm only. The
//! framing, key wrap and AES-GCM stay in Rust (`jwe`); only the curve arithmetic moves to the
//! platform. `Ok(None)` means no WebCrypto here (an insecure browser context): the caller
//! falls back to pure Rust.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::jwe::{Agreement, JweError, PlatformKey, PrivateKey, RecipientKey};

type Result<T> = std::result::Result<T, JweError>;

fn subtle() -> Option<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    Reflect::get(&crypto, &"subtle".into()).ok().filter(|s| s.is_object())
}

async fn call(subtle: &JsValue, method: &str, args: &[JsValue], what: &'static str) -> Result<JsValue> {
    let f: js_sys::Function = Reflect::get(subtle, &method.into()).ok().and_then(|f| f.dyn_into().ok()).ok_or(JweError(what))?;
    let promise: Promise = f.apply(subtle, &args.iter().collect::<Array>()).ok().and_then(|p| p.dyn_into().ok()).ok_or(JweError(what))?;
    JsFuture::from(promise).await.map_err(|_| JweError(what))
}

fn ecdh() -> JsValue {
    let alg = Object::new();
    let _ = Reflect::set(&alg, &"name".into(), &"ECDH".into());
    let _ = Reflect::set(&alg, &"namedCurve".into(), &"P-384".into());
    alg.into()
}

fn to_js(value: &serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

/// Imports a key once per `cache`. `material` is only built on a miss: a private JWK needs the
/// public point, which costs a scalar multiplication.
async fn import(subtle: &JsValue, material: impl FnOnce() -> (&'static str, JsValue), usages: &[&str], cache: &PlatformKey) -> Result<JsValue> {
    if let Some(key) = cache.0.borrow().as_ref() {
        return Ok(key.clone());
    }
    let (format, data) = material();
    let usages: Array = usages.iter().map(|u| JsValue::from_str(u)).collect();
    let key = call(subtle, "importKey", &[format.into(), data, ecdh(), false.into(), usages.into()], "WebCrypto refused the key").await?;
    *cache.0.borrow_mut() = Some(key.clone());
    Ok(key)
}

/// Public keys go in as raw SEC1 points: a tenth of the cost of a JWK import in Node.
fn public_material(key: &RecipientKey) -> (&'static str, JsValue) {
    ("raw", Uint8Array::from(key.sec1().as_slice()).into())
}

async fn derive(subtle: &JsValue, public: &JsValue, private: &JsValue) -> Result<Vec<u8>> {
    let params = Object::new();
    let _ = Reflect::set(&params, &"name".into(), &"ECDH".into());
    let _ = Reflect::set(&params, &"public".into(), public);
    let bits = call(subtle, "deriveBits", &[params.into(), private.clone(), 384.into()], "ECDH failed").await?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// A fresh ephemeral key pair and Z with the recipient, in WebCrypto.
pub async fn agree_ephemeral(to: &RecipientKey) -> Result<Option<Agreement>> {
    let Some(subtle) = subtle() else { return Ok(None) };
    let peer = import(&subtle, || public_material(to), &[], &to.platform).await?;
    let usages: Array = std::iter::once(JsValue::from_str("deriveBits")).collect();
    let pair = call(&subtle, "generateKey", &[ecdh(), true.into(), usages.into()], "WebCrypto could not make a key").await?;
    let public = Reflect::get(&pair, &"publicKey".into()).map_err(|_| JweError("no public key"))?;
    let private = Reflect::get(&pair, &"privateKey".into()).map_err(|_| JweError("no private key"))?;
    let exported = call(&subtle, "exportKey", &["jwk".into(), public], "WebCrypto could not export a key").await?;
    let coord = |name: &str| Reflect::get(&exported, &name.into()).ok().and_then(|v| v.as_string()).ok_or(JweError("exported key lacks x/y"));
    let epk = serde_json::json!({ "kty": "EC", "crv": "P-384", "x": coord("x")?, "y": coord("y")? });
    let z = derive(&subtle, &peer, &private).await?;
    Ok(Some(Agreement { epk, z }))
}

/// Z from the sender's ephemeral key and our private key, in WebCrypto.
pub async fn agree(key: &PrivateKey, epk: &RecipientKey) -> Result<Option<Vec<u8>>> {
    let Some(subtle) = subtle() else { return Ok(None) };
    let private = import(&subtle, || ("jwk", to_js(&key.jwk())), &["deriveBits"], &key.platform).await?;
    let public = import(&subtle, || public_material(epk), &[], &epk.platform).await?;
    derive(&subtle, &public, &private).await.map(Some)
}
