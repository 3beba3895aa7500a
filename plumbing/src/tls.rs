//! Loading PEM material and turning it into tonic (rustls) server and client TLS settings.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// Why TLS material could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file did not hold what it should.
    #[error("{path} does not contain {expected}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was expected in it.
        expected: &'static str,
    },
}

/// A service's certificate and key plus the CA that its peers' certificates must chain to.
#[derive(Clone)]
pub struct TlsMaterial {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    ca_pem: Vec<u8>,
}

impl TlsMaterial {
    /// Reads and checks the three PEM files.
    pub fn load(cert: &Path, key: &Path, ca: &Path) -> Result<Self, TlsError> {
        let cert_pem = read(cert)?;
        let key_pem = read(key)?;
        let ca_pem = read(ca)?;
        first_cert_der(&cert_pem).ok_or_else(|| malformed(cert, "a PEM certificate"))?;
        first_cert_der(&ca_pem).ok_or_else(|| malformed(ca, "a PEM CA certificate"))?;
        if !String::from_utf8_lossy(&key_pem).contains("PRIVATE KEY-----") {
            return Err(malformed(key, "a PEM private key"));
        }
        Ok(Self {
            cert_pem,
            key_pem,
            ca_pem,
        })
    }

    /// Builds material from PEM text already in memory (tests, minted certificates).
    pub fn from_pem(cert_pem: &str, key_pem: &str, ca_pem: &str) -> Self {
        Self {
            cert_pem: cert_pem.as_bytes().to_vec(),
            key_pem: key_pem.as_bytes().to_vec(),
            ca_pem: ca_pem.as_bytes().to_vec(),
        }
    }

    fn identity(&self) -> Identity {
        Identity::from_pem(&self.cert_pem, &self.key_pem)
    }

    fn ca(&self) -> Certificate {
        Certificate::from_pem(&self.ca_pem)
    }

    /// Server settings that require every client to present a certificate from our CA.
    pub fn mutual_server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(self.identity())
            .client_ca_root(self.ca())
    }

    /// Server settings for a public endpoint: TLS without client certificates.
    pub fn public_server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(self.identity())
    }

    /// Client settings that present our certificate and trust only our CA.
    pub fn mutual_client(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .identity(self.identity())
            .ca_certificate(self.ca())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn malformed(path: &Path, expected: &'static str) -> TlsError {
    TlsError::Malformed {
        path: path.to_owned(),
        expected,
    }
}

/// The DER bytes of the first certificate in a PEM document, if there is one.
pub fn first_cert_der(pem: &[u8]) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::pem::parse_x509_pem(pem).ok()?;
    (parsed.label == "CERTIFICATE").then_some(parsed.contents)
}
