//! KazePay "ucard": one endpoint, operations chosen by `head.apiCode`, every body sealed in the
//! envelope of [`envelope`].

pub mod envelope;
pub mod settings;
