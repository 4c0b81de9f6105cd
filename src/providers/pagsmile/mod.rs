//! Pagsmile Issuing: the hybrid-encrypted gateway (in progress: the envelope).

pub mod envelope;
pub mod settings;
