// A call's AbortSignal as src/js.rs waits for it (a wasm-bindgen snippet): a promise settled when
// the signal aborts, and dispose() that stops listening and settles it, called when the call ends.
export function whenAborted(signal) {
  let dispose;
  const settled = new Promise((resolve) => {
    const onAbort = () => dispose();
    dispose = () => {
      // Settled first: a JsFuture over a promise that never settles keeps its callbacks, so a
      // polyfill whose removeEventListener throws must not stop it.
      resolve();
      signal.removeEventListener('abort', onAbort);
    };
    signal.addEventListener('abort', onAbort);
  });
  settled.dispose = dispose;
  return settled;
}
