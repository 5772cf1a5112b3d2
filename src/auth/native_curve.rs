//! P-384 arithmetic for JWE off the web (tests, fuzzing, native builds), in pure Rust (RustCrypto).
//! The wasm build asks the platform's WebCrypto instead (`webcrypto`), so it ships no curve code.

use p384::elliptic_curve::sec1::{EncodedPoint, FromEncodedPoint, ToEncodedPoint};
use p384::{NistP384, PublicKey, SecretKey};

use super::jwe::{Agreement, JweError, PrivateKey, RecipientKey, COORD};
use zeroize::Zeroizing;

type Result<T> = std::result::Result<T, JweError>;

fn public(key: &RecipientKey) -> Result<PublicKey> {
    let point = EncodedPoint::<NistP384>::from_affine_coordinates(&key.x.into(), &key.y.into(), false);
    Option::from(PublicKey::from_encoded_point(&point)).ok_or(JweError::Invalid("key is not a point on P-384"))
}

pub fn check_public(key: &RecipientKey) -> Result<()> {
    public(key).map(|_| ())
}

pub fn check_private(key: &PrivateKey) -> Result<()> {
    let secret = SecretKey::from_slice(key.d()).map_err(|_| JweError::Invalid("key d is not a P-384 scalar"))?;
    if secret.public_key() != public(&key.public)? {
        return Err(JweError::Invalid("key x/y do not belong to d"));
    }
    Ok(())
}

fn coordinates(key: &PublicKey) -> RecipientKey {
    // Uncompressed SEC1: 0x04 ‖ x ‖ y (a public key is never the identity).
    let point = key.to_encoded_point(false);
    let (x, y) = point.as_bytes().get(1..).unwrap_or_default().split_at(COORD.min(point.len().saturating_sub(1)));
    RecipientKey::from_coordinates(x.try_into().unwrap_or([0; COORD]), y.try_into().unwrap_or([0; COORD]))
}

/// A fresh ephemeral key pair and Z with `to`.
pub async fn agree_ephemeral(to: &RecipientKey, random: &mut dyn FnMut(&mut [u8])) -> Result<Agreement> {
    let mut seed = [0u8; COORD];
    let ephemeral = (0..4)
        .find_map(|_| {
            random(&mut seed);
            if seed.iter().all(|b| *b == 0) {
                return None;
            }
            SecretKey::from_slice(&seed).ok()
        })
        .ok_or(JweError::Invalid("no secure randomness available"))?;
    let z = p384::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), public(to)?.as_affine());
    Ok(Agreement { epk: coordinates(&ephemeral.public_key()), z: Zeroizing::new(z.raw_secret_bytes().to_vec()) })
}

/// Z from the sender's ephemeral key and our private key.
pub async fn agree(key: &PrivateKey, epk: &RecipientKey) -> Result<Vec<u8>> {
    let secret = SecretKey::from_slice(key.d()).map_err(|_| JweError::Invalid("key d is not a P-384 scalar"))?;
    Ok(p384::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public(epk)?.as_affine()).raw_secret_bytes().to_vec())
}
