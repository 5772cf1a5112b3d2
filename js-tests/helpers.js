// Shared by the node suites: a sandbox per suite and clients pointed at it.
import { after, before } from 'node:test';
import { startSandbox } from '../sandbox/server.js';
import { createClient } from 'paytokens';

/** Starts one sandbox for the calling suite and stops it after; returns a getter. */
export function useSandbox(options) {
  let sandbox;
  before(async () => {
    sandbox = await startSandbox(options);
  });
  after(async () => {
    await sandbox?.close();
  });
  return () => sandbox;
}

export function clientFor(sandbox, provider, extra = {}) {
  return createClient({ provider, ...sandbox.credentials[provider], baseUrl: sandbox.baseUrls[provider], ...extra });
}

/** Resolves to the PayTokensError a promise rejects with (fails if it resolves). */
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
