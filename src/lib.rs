//! issuer-sandbox: a stateful in-memory fake of card-issuing and bank-card provider APIs.
//!
//! The binary serves it (`issuer-sandbox serve`); Rust tests embed it with [`Sandbox`]. Layers,
//! outside in: [`server`] (transport) → [`providers`] (each provider's wire format and
//! operations) → [`world`] (domain state), configured by [`scenario`] and inspected or driven
//! through [`admin`] (the control API). See `ARCHITECTURE.md` for the map and invariants.

pub mod admin;
pub mod app;
pub mod cli;
pub mod crypto;
pub mod faults;
pub mod headers;
pub mod journal;
pub mod providers;
pub mod respond;
pub mod runner;
pub mod running;
mod sandbox;
pub mod scenario;
pub mod server;
pub mod sync;
pub mod webhooks;
pub mod world;

pub use sandbox::{Sandbox, SandboxBuilder, StartError};
