// Sandbox-only credentials. The key pairs in ./keys/ were generated once for this emulator and are
// committed on purpose: they protect nothing, and fixed keys keep test runs reproducible.
// Plain ESM + JSON import so a browser demo can import this file as well as Node.
import merchantPrivateKey from './keys/merchant.private.jwk.json' with { type: 'json' };

export default {
  pinelabs: {
    clientId: '5b1c3d2e-7f8a-4b9c-8d0e-1f2a3b4c5d6e',
    clientSecret: 'sbx_pl_secret_Q7r2Kx9vLm4Tz8Wn',
  },
  alliancepay: {
    serviceCode: '0f8c2a4e-6b1d-4e3f-9a7c-2d5e8b1f4a60',
    merchantId: '137d9304-0368-11ed-b939-0242ac120002',
    merchantPrivateKey,
  },
  chargeover: {
    username: 'sbx_co_public_4hG8sK2m',
    password: 'sbx_co_private_Zp6Rt3Yw9q',
  },
  payerly: {
    apiKey: 'sbx_py_key_Jc5Vn8Bq2Xe7',
  },
};
