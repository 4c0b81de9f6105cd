//! KeySecure open platform (in progress: settings).

pub mod settings;
