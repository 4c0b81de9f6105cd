//! Integration tests: each module starts real sandboxes on 127.0.0.1:0 (in-process, or the
//! binary for `cli`) and speaks HTTP to them.

mod acedata;
mod admin;
mod cli;
mod scenario;
mod server;
mod support;
