//! issuer-sandbox: a stateful in-memory fake of card-issuing and bank-card provider APIs.
//!
//! The binary serves it (`issuer-sandbox serve`); Rust tests embed it with [`Sandbox`] and read
//! its [`journal`], or run scenario steps with the [`runner`]. A provider is a plug-in: it
//! implements the contract in [`providers`] (the one request pipeline serves it), writes its
//! part of a scenario with the kit in [`scenario::section`], and keeps its state in the
//! [`world`]. The transport, the control API, webhooks and crypto are the crate's own. See
//! `ARCHITECTURE.md` for the map and invariants.

pub(crate) mod admin;
pub mod app;
pub(crate) mod body;
pub mod cli;
pub(crate) mod crypto;
pub mod faults;
pub(crate) mod headers;
pub mod journal;
pub mod logs;
pub(crate) mod peer;
pub mod persist;
pub mod providers;
pub(crate) mod respond;
pub mod runner;
pub mod running;
mod sandbox;
pub mod scenario;
pub(crate) mod server;
pub mod snapshot;
pub(crate) mod sync;
pub mod tls;
pub(crate) mod webhooks;
pub mod world;

pub use sandbox::{Sandbox, SandboxBuilder, StartError};
