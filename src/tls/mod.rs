//! HTTPS both ways: the sandbox's own certificate authority, the server certificate it signs
//! for the names the sandbox answers to, and the trust the webhook client places in merchants'
//! https receivers (the system's roots, the sandbox CA, and any CA a scenario gives).
//!
//! The CA is made at first start (or loaded from `--tls-ca CERT KEY`, or from beside the
//! `--state` file, so it survives restarts); clients trust it through `GET /__admin/ca.pem`.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Unwritable {
        path: String,
        source: std::io::Error,
    },
    #[error("{what} is not a usable PEM {expected}")]
    BadPem {
        what: String,
        expected: &'static str,
    },
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The names every server certificate covers.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The sandbox's certificate authority.
pub struct SandboxCa {
    cert_pem: String,
    key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for SandboxCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str("SandboxCa(..)")
    }
}

impl SandboxCa {
    /// A new CA (ECDSA P-256), valid for ten years from now.
    pub fn generate() -> Result<SandboxCa, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "issuer-sandbox test CA");
        name.push(DnType::OrganizationName, "issuer-sandbox");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok(SandboxCa {
            cert_pem: cert.pem(),
            key_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// A CA from its certificate and key in PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<SandboxCa, TlsError> {
        let key = KeyPair::from_pem(key_pem).map_err(|_| TlsError::BadPem {
            what: "the CA key".into(),
            expected: "private key",
        })?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key).map_err(|_| TlsError::BadPem {
            what: "the CA certificate".into(),
            expected: "certificate",
        })?;
        Ok(SandboxCa {
            cert_pem: cert_pem.to_owned(),
            key_pem: key_pem.to_owned(),
            issuer,
        })
    }

    /// The CA in these files.
    pub fn load(cert: &std::path::Path, key: &std::path::Path) -> Result<SandboxCa, TlsError> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Unreadable {
                path: path.display().to_string(),
                source,
            })
        };
        SandboxCa::from_pem(&read(cert)?, &read(key)?)
    }

    /// The CA in these files if they exist, else a new one written there (the key readable by
    /// its owner only), so every start with the same files has the same CA.
    pub fn load_or_create(
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<SandboxCa, TlsError> {
        if cert.exists() && key.exists() {
            return SandboxCa::load(cert, key);
        }
        let ca = SandboxCa::generate()?;
        let write = |path: &std::path::Path, text: &str, private: bool| {
            let unwritable = |source| TlsError::Unwritable {
                path: path.display().to_string(),
                source,
            };
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            if private {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            #[cfg(not(unix))]
            let _ = private;
            let mut file = options.open(path).map_err(unwritable)?;
            std::io::Write::write_all(&mut file, text.as_bytes()).map_err(unwritable)
        };
        write(key, &ca.key_pem, true)?;
        write(cert, &ca.cert_pem, false)?;
        Ok(ca)
    }

    /// The CA certificate, PEM: what clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> Result<CertificateDer<'static>, TlsError> {
        CertificateDer::from_pem_slice(self.cert_pem.as_bytes()).map_err(|_| TlsError::BadPem {
            what: "the CA certificate".into(),
            expected: "certificate",
        })
    }

    /// A server configuration for `names` (besides [`DEFAULT_NAMES`]): a fresh leaf
    /// certificate signed by this CA, HTTP/1.1 by ALPN.
    pub fn server_config(&self, names: &[String]) -> Result<Arc<ServerConfig>, TlsError> {
        let mut all: Vec<String> = DEFAULT_NAMES.iter().map(|n| (*n).to_owned()).collect();
        for name in names {
            if !all.contains(name) {
                all.push(name.clone());
            }
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.subject_alt_names = all
            .iter()
            .map(|name| match name.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName(name.clone().try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()?;
        let mut subject = DistinguishedName::new();
        subject.push(DnType::CommonName, all[0].clone());
        params.distinguished_name = subject;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(825);
        let key = KeyPair::generate()?;
        let leaf = params.signed_by(&key, &self.issuer)?;
        let chain = vec![leaf.der().clone(), self.cert_der()?];
        let key = PrivateKeyDer::try_from(key.serialize_der()).map_err(|_| TlsError::BadPem {
            what: "the server key".into(),
            expected: "private key",
        })?;
        let mut config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Certificates in PEM text (one or several), for a scenario's extra webhook CAs.
pub fn certificates(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::BadPem {
            what: what.to_owned(),
            expected: "certificate",
        })?;
    // A PEM block whose base64 is not a certificate is refused here, not at the first
    // handshake: each must read as a trust anchor.
    let readable = certs
        .iter()
        .all(|cert| RootCertStore::empty().add(cert.clone()).is_ok());
    if certs.is_empty() || !readable {
        return Err(TlsError::BadPem {
            what: what.to_owned(),
            expected: "certificate",
        });
    }
    Ok(certs)
}

/// The webhook client's trust: the system's roots, the sandbox CA and `extra` CAs.
pub fn verifying_client(extra: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates leave the sandbox's and the scenario's.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    roots.add_parsable_certificates(extra.iter().cloned());
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// A client that takes any certificate: for merchants whose receivers are self-signed
/// (`webhook_tls: { verify: false }`), and said so in every attempt.
pub fn unverified_client() -> Arc<ClientConfig> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let config = ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// Accepts every server certificate; still checks the handshake's signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_reads_back_from_its_pem_and_signs_server_certificates() {
        let ca = SandboxCa::generate().unwrap();
        let again = SandboxCa::from_pem(ca.cert_pem(), &ca.key_pem).unwrap();
        assert_eq!(again.cert_pem(), ca.cert_pem());
        let config = again.server_config(&["sandbox.test".to_owned()]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(SandboxCa::from_pem("nope", "nope").is_err());
        assert_eq!(certificates(ca.cert_pem(), "x").unwrap().len(), 1);
        assert!(certificates("", "x").is_err());
    }
}
