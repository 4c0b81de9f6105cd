//! A tenant: one merchant's live world behind its own mutex, so tenants never contend with
//! each other and a multi-entity update is one short critical section.

use std::sync::{Mutex, MutexGuard};

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
        f(&mut lock(&self.world))
    }
}
