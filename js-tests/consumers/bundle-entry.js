// The bundled browser consumer: esbuild resolves 'paytokens' to browser.js (the "default"
// condition). Lists the customer named in the page's query string at the sandbox.
import { createClient } from 'paytokens';
import { render } from './render.js';

render(createClient);
