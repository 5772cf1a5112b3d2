//! An in-memory `Env` for native tests: scripted replies, a recorded request log, a virtual clock.

use futures::future::LocalBoxFuture;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::http::{HttpRequest, HttpResponse};
use crate::transport::{Env, TransportFault};

type Handler = dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportFault>;

#[derive(Clone)]
pub struct FakeEnv {
    handler: Rc<Handler>,
    pub sent: Rc<RefCell<Vec<HttpRequest>>>,
    pub slept: Rc<RefCell<Vec<u64>>>,
    pub clock: Rc<Cell<u64>>,
    /// How much later than asked a wait ends, as real timers do under load.
    pub overshoot: Rc<Cell<u64>>,
}

impl FakeEnv {
    pub fn new(handler: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportFault> + 'static) -> Self {
        FakeEnv {
            handler: Rc::new(handler),
            sent: Rc::default(),
            slept: Rc::default(),
            clock: Rc::new(Cell::new(1_700_000_000_000)),
            overshoot: Rc::default(),
        }
    }

    pub fn count(&self, url_part: &str) -> usize {
        self.sent.borrow().iter().filter(|r| r.url.contains(url_part)).count()
    }
}

/// Pending once, then ready: lets concurrent futures interleave under a simple executor.
pub async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

impl Env for FakeEnv {
    fn send(&self, req: &HttpRequest, _timeout_ms: u32) -> LocalBoxFuture<'static, Result<HttpResponse, TransportFault>> {
        self.sent.borrow_mut().push(req.clone());
        let req = req.clone();
        let handler = self.handler.clone();
        Box::pin(async move {
            yield_now().await;
            handler(&req)
        })
    }

    /// The wait is recorded and the clock moved when it ends, so a wait that loses a race (and
    /// is dropped) leaves no trace, as a cleared timer would.
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
        let (slept, clock, overshoot) = (self.slept.clone(), self.clock.clone(), self.overshoot.get());
        Box::pin(async move {
            yield_now().await;
            slept.borrow_mut().push(ms);
            clock.set(clock.get() + ms + overshoot);
        })
    }

    fn now_ms(&self) -> u64 {
        self.clock.get()
    }

    fn fill_random(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
    }
}
