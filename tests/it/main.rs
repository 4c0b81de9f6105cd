//! Integration tests: each module starts real sandboxes on 127.0.0.1:0 and speaks HTTP to them.

mod acedata;
mod support;
