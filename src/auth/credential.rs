//! A credential (access token, session) cached until it nears expiry, fetched once for all the
//! calls that need it at the same moment (single-flight), and dropped when the provider rejects it.

use futures::future::{FutureExt, LocalBoxFuture, Shared, WeakShared};
use std::cell::{Cell, RefCell};

use crate::error::Result;

type Fetch<T> = LocalBoxFuture<'static, Result<T>>;

pub struct Credential<T: Clone + 'static> {
    current: RefCell<Option<(u64, T)>>,
    /// The fetch under way and its generation. Only the calls waiting for it hold it: when the
    /// last one stops waiting (its deadline ended), the fetch is dropped, which aborts its request,
    /// and the next call opens a new one instead of inheriting a stale result or failure.
    pending: RefCell<Option<(u64, WeakShared<Fetch<T>>)>>,
    generation: Cell<u64>,
}

/// A credential handed to one call, with the generation that identifies it for `reject`.
#[derive(Clone)]
pub struct Grant<T> {
    pub generation: u64,
    pub value: T,
}

impl<T: Clone + 'static> Default for Credential<T> {
    fn default() -> Self {
        Credential { current: RefCell::new(None), pending: RefCell::new(None), generation: Cell::new(0) }
    }
}

impl<T: Clone + 'static> Credential<T> {
    pub fn with_value(value: T) -> Self {
        let c = Credential::default();
        c.generation.set(1);
        *c.current.borrow_mut() = Some((1, value));
        c
    }

    /// The cached credential if `usable`, else the result of one shared `open()`.
    pub async fn get(&self, usable: impl Fn(&T) -> bool, open: impl FnOnce() -> Fetch<T>) -> Result<Grant<T>> {
        self.renewing(usable, |_| false, open).await
    }

    /// As `get`, but while a renewal is under way, a cached credential still `meanwhile` (not yet
    /// expired) is handed out at once: only the call that started the renewal waits for it. Every
    /// call would otherwise wait for a sign-in, slow or failing, that its credential did not need.
    pub async fn renewing(&self, usable: impl Fn(&T) -> bool, meanwhile: impl Fn(&T) -> bool, open: impl FnOnce() -> Fetch<T>) -> Result<Grant<T>> {
        if let Some(grant) = self.cached(usable) {
            return Ok(grant);
        }
        let (id, shared): (u64, Shared<_>) = {
            let mut pending = self.pending.borrow_mut();
            match pending.as_ref().and_then(|(id, weak)| Some((*id, weak.upgrade()?))) {
                Some(live) => match self.cached(meanwhile) {
                    Some(grant) => return Ok(grant),
                    None => live,
                },
                None => {
                    let id = self.generation.get() + 1;
                    self.generation.set(id);
                    let f = open().shared();
                    *pending = f.downgrade().map(|weak| (id, weak));
                    (id, f)
                }
            }
        };
        let result = shared.await;
        // Every waiter lands here; only the fetch that is still the pending one may settle it.
        {
            let mut pending = self.pending.borrow_mut();
            if pending.as_ref().is_some_and(|(pid, _)| *pid == id) {
                *pending = None;
                if let Ok(value) = &result {
                    *self.current.borrow_mut() = Some((id, value.clone()));
                }
            }
        }
        result.map(|value| Grant { generation: id, value })
    }

    /// The cached credential if `valid`: a renewal asked for before expiry that failed leaves the
    /// current one to serve until it expires.
    pub fn cached(&self, valid: impl Fn(&T) -> bool) -> Option<Grant<T>> {
        self.current.borrow().as_ref().filter(|(_, v)| valid(v)).map(|(generation, value)| Grant { generation: *generation, value: value.clone() })
    }

    /// The provider rejected this credential: forget it unless a newer one already replaced it.
    pub fn reject(&self, generation: u64) {
        let mut current = self.current.borrow_mut();
        if current.as_ref().is_some_and(|(g, _)| *g == generation) {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;
    use std::rc::Rc;

    #[test]
    fn concurrent_callers_share_one_fetch_and_a_rejection_refetches() {
        let opened = Rc::new(Cell::new(0));
        let cred: Credential<u32> = Credential::default();
        let open = || {
            let opened = opened.clone();
            move || -> LocalBoxFuture<'static, Result<u32>> {
                Box::pin(async move {
                    crate::testing::yield_now().await;
                    opened.set(opened.get() + 1);
                    Ok(opened.get() * 10)
                })
            }
        };
        let grants = futures::executor::block_on(join_all((0..50).map(|_| cred.get(|_| true, open()))));
        assert_eq!(opened.get(), 1);
        assert!(grants.iter().all(|g| g.as_ref().unwrap().value == 10));
        let g = futures::executor::block_on(cred.get(|_| true, open())).unwrap();
        assert_eq!((opened.get(), g.value), (1, 10));
        cred.reject(g.generation);
        let g2 = futures::executor::block_on(cred.get(|_| true, open())).unwrap();
        assert_eq!((opened.get(), g2.value), (2, 20));
        cred.reject(g.generation); // stale: must not drop the newer one
        assert_eq!(futures::executor::block_on(cred.get(|_| true, open())).unwrap().value, 20);
        assert_eq!(futures::executor::block_on(cred.get(|v| *v > 100, open())).unwrap().value, 30);
    }

    #[test]
    fn while_a_renewal_is_under_way_a_credential_still_valid_serves_the_other_calls() {
        let gate = Rc::new(Cell::new(false));
        let cred: Credential<u32> = Credential::with_value(1);
        let open = |gate: Rc<Cell<bool>>| {
            move || -> LocalBoxFuture<'static, Result<u32>> {
                Box::pin(futures::future::poll_fn(move |cx| {
                    if gate.get() {
                        std::task::Poll::Ready(Ok(2))
                    } else {
                        cx.waker().wake_by_ref();
                        std::task::Poll::Pending
                    }
                }))
            }
        };
        // The first call finds 1 due for renewal (not usable) and starts it.
        let mut first = Box::pin(cred.renewing(|v| *v > 1, |v| *v > 0, open(gate.clone())));
        assert!(first.as_mut().now_or_never().is_none());
        // Another finds the renewal under way and 1 still valid: served at once.
        let other = cred.renewing(|v| *v > 1, |v| *v > 0, open(gate.clone())).now_or_never().unwrap().unwrap();
        assert_eq!(other.value, 1);
        // One whose credential is no longer valid waits, as before.
        let mut expired = Box::pin(cred.renewing(|v| *v > 1, |v| *v > 1, open(gate.clone())));
        assert!(expired.as_mut().now_or_never().is_none());
        gate.set(true);
        assert_eq!(futures::executor::block_on(first).unwrap().value, 2);
        assert_eq!(futures::executor::block_on(expired).unwrap().value, 2);
    }

    #[test]
    fn a_fetch_every_caller_gave_up_on_is_dropped_and_the_next_caller_fetches_anew() {
        use futures::FutureExt;
        let opened = Rc::new(Cell::new(0));
        let gate = Rc::new(Cell::new(false)); // the provider answers once this is open
        let cred: Credential<u32> = Credential::default();
        let open = || {
            let (opened, gate) = (opened.clone(), gate.clone());
            move || -> LocalBoxFuture<'static, Result<u32>> {
                opened.set(opened.get() + 1);
                let n = opened.get();
                Box::pin(futures::future::poll_fn(move |cx| {
                    if gate.get() {
                        std::task::Poll::Ready(Ok(n))
                    } else {
                        cx.waker().wake_by_ref();
                        std::task::Poll::Pending
                    }
                }))
            }
        };
        // Two callers wait; one gives up: the fetch stays for the other.
        let mut first = Box::pin(cred.get(|_| true, open()));
        let mut second = Box::pin(cred.get(|_| true, open()));
        assert!((&mut first).now_or_never().is_none() && (&mut second).now_or_never().is_none());
        drop(first);
        gate.set(true);
        assert_eq!(futures::executor::block_on(second).unwrap().value, 1);
        // A lone caller gives up: the next one opens a new fetch instead of inheriting the old one.
        gate.set(false);
        cred.reject(1);
        let mut lone = Box::pin(cred.get(|_| true, open()));
        assert!((&mut lone).now_or_never().is_none());
        drop(lone);
        gate.set(true);
        assert_eq!(futures::executor::block_on(cred.get(|_| true, open())).unwrap().value, 3);
        assert_eq!(opened.get(), 3);
    }
}
