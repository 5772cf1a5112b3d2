// Shared by both browser consumer pages: read the sandbox settings from the query string, list
// the customer's tokens, and show them (body[data-state] tells the suite when it is done).
export async function render(createClient) {
  const q = new URLSearchParams(location.search);
  const list = document.querySelector('#tokens');
  try {
    const client = createClient({ provider: 'pinelabs', clientId: q.get('clientId'), clientSecret: q.get('clientSecret'), baseUrl: q.get('baseUrl') });
    const tokens = await client.listTokens({ customerId: q.get('customerId') });
    for (const t of tokens) {
      const li = document.createElement('li');
      li.dataset.id = t.id;
      li.textContent = `${t.id} ${t.status} ${t.card?.brand ?? ''} x${t.card?.last4 ?? '????'}`;
      list.append(li);
    }
    document.body.dataset.state = 'ready';
  } catch (err) {
    document.querySelector('#error').textContent = `${err.code ?? err.name}: ${err.message}`;
    document.body.dataset.state = 'error';
  }
}
