//! The providers: the contract a provider implements ([`Provider`]), the one request pipeline
//! that serves it, the registry, the readers and failure type the providers share — and the
//! list of built-in providers, [`builtin`]. Everything about a provider's wire format lives in
//! its folder; adding one is a folder plus a line in [`builtin`].

pub mod client;
pub mod command;
mod contract;
pub mod failure;
pub mod fields;
mod pipeline;
mod registry;
pub mod strictness;

pub mod acedata;
pub mod kazepay;
pub mod keysecure;
pub mod pagsmile;

pub use contract::{
    Admission, Cx, Draft, Failure, Outcome, Payload, Provider, Quota, Replay, Reply, Request, Seal,
    Trace, Unopened, Unsealed, corrupt,
};
pub use registry::{Registry, Served};

/// The providers every sandbox serves, in the order they are listed.
pub fn builtin() -> Registry {
    Registry::new()
        .with(acedata::AceData)
        .with(keysecure::KeySecure)
        .with(pagsmile::Pagsmile)
        .with(kazepay::KazePay)
}
