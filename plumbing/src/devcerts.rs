//! Development certificates: a CA and one certificate per service, minted with rcgen.
//!
//! Each service certificate is valid for both server and client authentication and names the
//! service by a SPIFFE URI SAN (`spiffe://mtm/<service>`), which is what backends check against
//! their allow-list. It also carries DNS names for the service and `localhost`, and the loopback
//! addresses, so the same certificate works on a laptop and in a cluster.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};

/// The services of the suite, in start order; each gets a certificate.
pub const SERVICES: [&str; 5] = [
    "identity-svc",
    "rbac-svc",
    "rooms-svc",
    "tenancy-svc",
    "gateway",
];

/// The SPIFFE identity that certificates minted here give to `service`.
pub fn spiffe_id(service: &str) -> String {
    format!("spiffe://mtm/{service}")
}

/// Why certificates could not be minted or written.
#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    /// rcgen refused the parameters.
    #[error("minting a certificate failed: {0}")]
    Mint(#[from] rcgen::Error),
    /// The directory could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A certificate with its private key, both PEM-encoded.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// The PKCS#8 private key.
    pub key_pem: String,
}

/// An in-memory certificate authority that issues service certificates.
pub struct DevCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl DevCa {
    /// Generates a new CA whose subject common name is `name`.
    pub fn generate(name: &str) -> Result<Self, DevCertError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name = distinguished_name(name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Self { issuer })
    }

    /// The CA certificate, PEM-encoded: the trust root every service and client is given.
    pub fn ca_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Issues a certificate for `service` with the SANs described in the module docs.
    pub fn issue(&self, service: &str) -> Result<IssuedCert, DevCertError> {
        let dns = vec![
            service.to_owned(),
            format!("{service}.mtm.svc"),
            format!("{service}.mtm.svc.cluster.local"),
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let mut params = CertificateParams::new(dns)?;
        params
            .subject_alt_names
            .push(SanType::URI(spiffe_id(service).try_into()?));
        params.distinguished_name = distinguished_name(service);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "MTM development");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Where the files for one service live inside a certificate directory.
#[derive(Clone, Debug)]
pub struct CertPaths {
    /// The service certificate.
    pub cert: PathBuf,
    /// The service private key.
    pub key: PathBuf,
    /// The CA certificate (trust root).
    pub ca: PathBuf,
}

/// The file layout of a certificate directory: `ca.pem`, `<service>.pem`, `<service>-key.pem`.
pub fn paths(dir: &Path, service: &str) -> CertPaths {
    CertPaths {
        cert: dir.join(format!("{service}.pem")),
        key: dir.join(format!("{service}-key.pem")),
        ca: dir.join("ca.pem"),
    }
}

/// Mints a fresh CA and a certificate for each of `services` into `dir`, unless every file is
/// already there. Returns whether anything was written. The CA's private key is not kept:
/// minting again replaces every certificate.
pub fn ensure(dir: &Path, services: &[&str]) -> Result<bool, DevCertError> {
    let complete = services.iter().all(|service| {
        let p = paths(dir, service);
        p.cert.is_file() && p.key.is_file() && p.ca.is_file()
    });
    if complete {
        return Ok(false);
    }
    std::fs::create_dir_all(dir).map_err(|source| DevCertError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let ca = DevCa::generate("MTM development CA")?;
    write(&dir.join("ca.pem"), &ca.ca_pem(), false)?;
    for service in services {
        let issued = ca.issue(service)?;
        let p = paths(dir, service);
        write(&p.cert, &issued.cert_pem, false)?;
        write(&p.key, &issued.key_pem, true)?;
    }
    Ok(true)
}

fn write(path: &Path, contents: &str, private: bool) -> Result<(), DevCertError> {
    let wrap = |source| DevCertError::Write {
        path: path.to_owned(),
        source,
    };
    std::fs::write(path, contents).map_err(wrap)?;
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(wrap)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificate_names_the_service_by_spiffe_id() {
        let ca = DevCa::generate("test CA").expect("ca");
        let issued = ca.issue("rbac-svc").expect("issue");
        let der = crate::tls::first_cert_der(issued.cert_pem.as_bytes()).expect("pem");
        assert_eq!(
            crate::peer::spiffe_identity(&der).as_deref(),
            Some("spiffe://mtm/rbac-svc")
        );
    }

    #[test]
    fn ensure_writes_once_and_keeps_existing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(ensure(dir.path(), &SERVICES).expect("first"));
        let before = std::fs::read(dir.path().join("ca.pem")).expect("ca");
        assert!(!ensure(dir.path(), &SERVICES).expect("second"));
        assert_eq!(
            before,
            std::fs::read(dir.path().join("ca.pem")).expect("ca")
        );
        assert!(paths(dir.path(), "gateway").key.is_file());
    }
}
