//! The moment the first screen has everything it shows ("settled"), and the
//! work that waits for it.
//!
//! On a first visit over a slow phone network the link is the bottleneck:
//! whatever else downloads while the opened screen fetches its code and data
//! delays it. Two jobs can wait a few seconds without anyone noticing:
//!
//! - installing the service worker, which precaches every file of the app
//!   (hundreds of KB of screens not yet opened) — `boot.js` registers it on
//!   the `kudakyar:settled` event this module dispatches;
//! - refreshing the offline working set (`/children…`, up to 200 records),
//!   which [`crate::session`] starts after [`settled`].
//!
//! The rule: the first screen has settled once everything it was waiting
//! for at its first frame has arrived. What it waits for takes a [`Hold`]:
//! every screen part loaded on demand (`pages::deferred`, until its code and
//! texts are in), and the atlas until its first map is drawn (or failed).
//! The root component calls [`first_frame`] a frame after mounting; from
//! then on, the last hold released settles (at once if none is held). It
//! also settles after [`AT_THE_LATEST`] whatever happens, so neither job
//! waits forever. Holds taken after that change nothing.

use std::cell::RefCell;
use std::time::Duration;

use futures::channel::oneshot;

/// The longest anything waits for the first screen.
pub const AT_THE_LATEST: Duration = Duration::from_secs(15);

/// The event on `window` that `boot.js` waits for.
const EVENT: &str = "kudakyar:settled";

enum State {
    Waiting {
        /// Holds not yet released.
        held: usize,
        /// The first frame has passed: the screen has taken its holds.
        framed: bool,
        waiting: Vec<oneshot::Sender<()>>,
    },
    Settled,
}

thread_local! {
    static STATE: RefCell<State> = const {
        RefCell::new(State::Waiting { held: 0, framed: false, waiting: Vec::new() })
    };
}

/// Something the first screen waits for; dropping it releases it.
#[must_use = "the hold is released when dropped"]
pub struct Hold(());

/// Takes a hold on settling until the returned guard is dropped.
pub fn hold() -> Hold {
    update(|held, _| {
        *held += 1;
        false
    });
    Hold(())
}

impl Drop for Hold {
    fn drop(&mut self) {
        update(|held, framed| {
            *held = held.saturating_sub(1);
            *framed && *held == 0
        });
    }
}

/// The first frame has passed: settles now if nothing is held.
pub fn first_frame() {
    update(|held, framed| {
        *framed = true;
        *held == 0
    });
}

/// Applies `change` to the holds and the first frame while waiting, and
/// settles when it answers that nothing is left to wait for.
fn update(change: impl FnOnce(&mut usize, &mut bool) -> bool) {
    let done = STATE.with(|state| match &mut *state.borrow_mut() {
        State::Waiting { held, framed, .. } => change(held, framed),
        State::Settled => false,
    });
    if done {
        settle();
    }
}

/// Settles now: wakes what waits and tells `boot.js`. Later calls do nothing.
pub fn settle() {
    let waiting =
        STATE.with(
            |state| match std::mem::replace(&mut *state.borrow_mut(), State::Settled) {
                State::Waiting { waiting, .. } => Some(waiting),
                State::Settled => None,
            },
        );
    let Some(waiting) = waiting else { return };
    for waiter in waiting {
        let _ = waiter.send(());
    }
    if let Ok(event) = web_sys::Event::new(EVENT) {
        let _ = leptos::prelude::window().dispatch_event(&event);
    }
}

/// Resolves once settled (at once if it is).
pub async fn settled() {
    let receiver = STATE.with(|state| match &mut *state.borrow_mut() {
        State::Waiting { waiting, .. } => {
            let (sender, receiver) = oneshot::channel();
            waiting.push(sender);
            Some(receiver)
        }
        State::Settled => None,
    });
    if let Some(receiver) = receiver {
        // A sender is only dropped by `settle`, after sending.
        let _ = receiver.await;
    }
}
