//! TLS to PostgreSQL, with rustls (no OpenSSL): [`PgSslMode`] chooses whether connections are
//! encrypted and whether the server's certificate is checked, like libpq's `sslmode`.
//!
//! - `disable`: plain TCP.
//! - `require`: TLS or nothing, certificate not checked (libpq's meaning: protects against
//!   passive eavesdropping only).
//! - `verify-full`: TLS, and the certificate must chain to the CA file (or, without one, to the
//!   system's trust store) and name the host being connected to.
//!
//! Without a mode the URL's own `sslmode` (`disable`, `prefer`, `require`) applies, with
//! libpq's semantics (no certificate check).

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use mayfly_store::StoreError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq-style `sslmode` for connections to PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgSslMode {
    /// No TLS.
    Disable,
    /// TLS required; the certificate is not verified.
    Require,
    /// TLS required; the certificate must chain to the CA and match the host name.
    VerifyFull,
}

impl PgSslMode {
    /// `disable`, `require` or `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Require => "require",
            Self::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for PgSslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disable" => Ok(Self::Disable),
            "require" => Ok(Self::Require),
            "verify-full" => Ok(Self::VerifyFull),
            _ => Err(format!(
                "unknown sslmode {s:?}: expected disable, require or verify-full"
            )),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres TLS: {what}: {err}"))
}

/// The trust anchors for `verify-full`: the PEM certificates in `ca_file`, or the system's.
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| tls_error(&format!("cannot read CA file {}", path.display()), e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_error(&format!("invalid CA file {}", path.display()), e))?;
            if certs.is_empty() {
                return Err(tls_error(
                    &format!("CA file {}", path.display()),
                    "holds no PEM certificate",
                ));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| tls_error("unusable CA certificate", e))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // Skip the odd malformed system certificate rather than refusing them all.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(tls_error(
                    "verify-full",
                    "no system CA certificates found; give a CA file",
                ));
            }
        }
    }
    Ok(roots)
}

/// The connector every pooled connection uses. With `verify-full` the certificate is checked
/// against `ca_file`; otherwise (require, or the URL's prefer/require) it is accepted as is.
pub(crate) fn connector(
    mode: Option<PgSslMode>,
    ca_file: Option<&Path>,
) -> Result<MakeRustlsConnect, StoreError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?;
    let config = if mode == Some(PgSslMode::VerifyFull) {
        builder
            .with_root_certificates(roots(ca_file)?)
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
            .with_no_client_auth()
    };
    Ok(MakeRustlsConnect::new(config))
}

/// libpq's `sslmode=require`: any certificate is accepted, but the handshake signatures are
/// still checked (so the session is bound to the key the server presented).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

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
        verify_tls12_signature(
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
        verify_tls13_signature(
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
    fn modes_parse_and_print() {
        for m in [
            PgSslMode::Disable,
            PgSslMode::Require,
            PgSslMode::VerifyFull,
        ] {
            assert_eq!(m.as_str().parse::<PgSslMode>(), Ok(m));
        }
        assert!("verify-ca".parse::<PgSslMode>().is_err());
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.pem");
        let err = connector(Some(PgSslMode::VerifyFull), Some(&missing))
            .err()
            .expect("missing CA file refused");
        assert!(err.to_string().contains("nope.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").expect("write");
        let err = connector(Some(PgSslMode::VerifyFull), Some(&empty))
            .err()
            .expect("empty CA file refused");
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        assert!(connector(Some(PgSslMode::Require), None).is_ok());
    }
}
