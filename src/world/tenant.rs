//! A tenant: one merchant's live world behind its own mutex, so tenants never contend with
//! each other and a multi-entity update is one short critical section.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use super::World;
use crate::sync::lock;

/// One merchant's live world.
#[derive(Debug)]
pub struct Tenant {
    /// The merchant id.
    pub id: String,
    /// Its place in the scenario's list of merchants.
    pub index: usize,
    world: Mutex<World>,
    /// How many times the world was locked (each request locks it once).
    locks: AtomicU64,
    /// Taken while the tenant's notifications become deliveries (composed in the world's
    /// lock, sealed outside it, queued in it again), so that they keep their order.
    rendering: Mutex<()>,
}

impl Tenant {
    pub fn new(id: String, index: usize, world: World) -> Tenant {
        Tenant {
            id,
            index,
            world: Mutex::new(world),
            locks: AtomicU64::new(0),
            rendering: Mutex::new(()),
        }
    }

    /// The turn to render notifications into deliveries; held across the sealing between two
    /// world locks, never across an await.
    pub fn render_turn(&self) -> MutexGuard<'_, ()> {
        lock(&self.rendering)
    }

    /// Runs `f` with exclusive access to the world. Keep `f` short and free of I/O.
    pub fn with_world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.locks.fetch_add(1, Ordering::Relaxed);
        f(&mut lock(&self.world))
    }

    /// How many times the world was locked so far: what a request, a control call or a
    /// webhook pass costs in critical sections.
    pub fn locks(&self) -> u64 {
        self.locks.load(Ordering::Relaxed)
    }

    /// Whether some thread holds the world's lock right now.
    pub fn is_locked(&self) -> bool {
        matches!(self.world.try_lock(), Err(TryLockError::WouldBlock))
    }
}
