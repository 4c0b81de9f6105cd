//! Integration tests: each module starts real sandboxes on 127.0.0.1:0 (in-process, or the
//! binary for `cli`) and speaks HTTP to them.

// Request bodies are passed as owned `json!` literals: the call sites read better.
#![allow(clippy::needless_pass_by_value)]

mod acedata;
mod admin;
mod cli;
mod console;
mod examples;
mod faults;
mod fuzz;
mod kazepay;
mod keysecure;
mod pagsmile;
mod pipeline;
mod plugin;
mod render;
mod scenario;
mod schema;
mod server;
mod snapshot;
mod support;
mod timeline;
mod tls;
