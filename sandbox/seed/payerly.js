// Payerly seed data. Token "string" is the documentation example verbatim (doc 004), including
// its scraped email value "[email protected]" (an e-mail-obfuscation artefact of the doc page).
// The others exercise expiry and badly masked PANs; tok_fullpan deliberately returns an
// unmasked card number, which the SDK must mask before it reaches callers.

const DOC_BROWSER = {
  acceptHeader: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  colorDepth: 32,
  language: 'en',
  screenHeight: 667,
  screenWidth: 375,
  timezone: -60,
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 15_7_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.4 Mobile/15E148 Safari/604.1',
  javaEnabled: true,
  windowHeight: 850,
  windowWidth: 375,
};

const DOC_TOKEN = {
  tokenId: 'string',
  expireAt: '2019-08-24T14:15:22Z',
  customer: {
    accountId: 'df1a2c9e-bc2b-11ed-8332-811eecb5ec73',
    fingerprint:
      '30faf01ebf161c7c7673b776820b3517|1ea851ab5b0e311ed9c690828f8dc7c6|eyJEZXZpY2VGaW5nZXJwcmludCI6IjMwZmFmMDFlYmYxNjFjN2M3NjczYjc3NjgyMGIzNTE3In0=',
    ip: '123.123.123.223',
    phone: '18001002030',
    email: '[email protected]',
    fullName: 'John Doe',
    documentType: 'string',
    document: 'string',
    country: 'USA',
    address: 'Av. da Liberdade, 87',
    city: 'Sao Paulo',
    state: 'SP',
    postalCode: '05907',
    neighborhood: '6587 Roller Derby Lane, Toronto, ON M1R-0E9, Canada',
    birthdate: '1960-02-25',
    browserData: DOC_BROWSER,
  },
  paymentMethod: 'card',
  paymentData: {
    type: 'cardResponse',
    object: {
      maskedPan: 'string',
      expiryDate: 'string',
      cardHolder: 'string',
      cardInfo: {
        issuerCountry: 'USA',
        issuerName: 'string',
      },
    },
  },
  additionalAction: {
    action: 'redirect',
    value: 'string',
  },
};

function customer(fields) {
  return {
    accountId: 'df1a2c9e-bc2b-11ed-8332-811eecb5ec73',
    fingerprint: '30faf01ebf161c7c7673b776820b3517|1ea851ab5b0e311ed9c690828f8dc7c6',
    ip: '123.123.123.223',
    phone: '18001002030',
    email: 'john.doe@example.com',
    fullName: 'John Doe',
    documentType: 'CPF',
    document: '12345678909',
    country: 'USA',
    address: 'Av. da Liberdade, 87',
    city: 'Sao Paulo',
    state: 'SP',
    postalCode: '05907',
    neighborhood: 'Liberdade',
    birthdate: '1960-02-25',
    browserData: DOC_BROWSER,
    ...fields,
  };
}

function token(tokenId, expireAt, cust, card) {
  return {
    tokenId,
    expireAt,
    customer: cust,
    paymentMethod: 'card',
    paymentData: {
      type: 'cardResponse',
      object: {
        expiryDate: '12/30',
        cardHolder: cust.fullName.toUpperCase(),
        ...card,
        cardInfo: { issuerCountry: 'USA', issuerName: 'JPMorgan Chase Bank', ...card.cardInfo },
      },
    },
    additionalAction: { action: 'redirect', value: `https://sandbox.payerly.tech/3ds/${tokenId}` },
  };
}

const MARIA = customer({
  accountId: '7c2e4b10-3f5a-11ee-9d21-0242ac120002',
  phone: '5511998765432',
  email: 'maria.silva@example.com',
  fullName: 'Maria Silva',
  country: 'BRA',
});

function seedList() {
  return [
    structuredClone(DOC_TOKEN),
    token('tok_visa_active', '2031-01-01T00:00:00Z', customer({}), { maskedPan: '411111******1111', expiryDate: '12/30' }),
    token('tok_expired', '2023-06-30T00:00:00Z', MARIA, {
      maskedPan: '400000******0002',
      expiryDate: '06/23',
      cardInfo: { issuerCountry: 'BRA', issuerName: 'Banco do Brasil' },
    }),
    token('tok_fullpan', '2030-06-30T00:00:00Z', MARIA, {
      maskedPan: '5555555555554444',
      expiryDate: '06/30',
      cardInfo: { issuerCountry: 'BRA', issuerName: 'Itau Unibanco' },
    }),
    token('tok_mc_xmask', '2030-09-30T00:00:00Z', customer({}), { maskedPan: '555555XXXXXX4444', expiryDate: '09/30' }),
  ];
}

export function seedTokens() {
  return new Map(seedList().map((t) => [t.tokenId, structuredClone(t)]));
}
