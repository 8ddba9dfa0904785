//! How a connection is carried: the [`Transport`] of a step (TLS or not,
//! HTTP/1.1 or HTTP/2, streams per connection), the rustls client
//! configuration (system roots plus `--cacert`, or `--insecure`), and the
//! one test handshake made before a step so a certificate problem is an
//! error naming the URL, not a step full of connect errors. It does not
//! send requests (`client.rs` does).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::endpoint::{Endpoint, Scheme};

/// What the user asked of the transport, from the flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportOptions {
    /// PEM file of extra trusted certificates (added to the system roots).
    pub cacert: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
    /// HTTP/2: by ALPN over TLS, by prior knowledge (h2c) in cleartext.
    pub http2: bool,
    /// Concurrent requests (streams) per HTTP/2 connection.
    pub streams: u32,
    /// The HTTP/1.1 client over cleartext TCP.
    pub client: HttpClient,
}

/// Which client speaks HTTP/1.1 over cleartext TCP (`--client`): both
/// pass the same tests (`tests/client.rs`); TLS and HTTP/2 are hyper's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpClient {
    /// `lean.rs`: rendered request bytes, httparse, no buffer per idle
    /// connection. The default and the measured hot path.
    #[default]
    Lean,
    /// hyper's connection-level client.
    Hyper,
}

impl Default for TransportOptions {
    /// Cleartext HTTP/1.1 with system roots: no flag given.
    fn default() -> Self {
        TransportOptions {
            cacert: None,
            insecure: false,
            http2: false,
            streams: 1,
            client: HttpClient::Lean,
        }
    }
}

/// The transport of one step, resolved once: what every connection of it
/// is opened with.
#[derive(Debug, Clone)]
pub struct Transport {
    /// TLS client configuration and server name; None = cleartext.
    pub tls: Option<TlsClient>,
    /// Speak HTTP/2 (cleartext: prior knowledge; TLS: offer h2 by ALPN and
    /// use what the server chose).
    pub http2: bool,
    /// Requests in flight per connection (1 unless HTTP/2).
    pub streams: u32,
    pub client: HttpClient,
}

impl Default for Transport {
    /// Cleartext HTTP/1.1, one request at a time: the measured hot path.
    fn default() -> Self {
        Transport {
            tls: None,
            http2: false,
            streams: 1,
            client: HttpClient::Lean,
        }
    }
}

/// The TLS side of a transport: rustls's connector and the name to verify.
#[derive(Clone)]
pub struct TlsClient {
    pub connector: TlsConnector,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("--cacert {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("--streams {0} needs --http2 (HTTP/1.1 carries one request at a time per connection)")]
    StreamsWithoutHttp2(u32),
    #[error("--streams must be at least 1")]
    NoStreams,
    #[error("{url}: invalid TLS server name {host:?}")]
    ServerName { url: String, host: String },
    #[error("{url}: {problem}")]
    Handshake { url: String, problem: String },
    #[error("cannot set up TLS: {0}")]
    Config(String),
}

impl TransportOptions {
    /// Checks the flags against each other (before any network use).
    pub fn validate(&self) -> Result<(), TlsError> {
        if self.streams == 0 {
            return Err(TlsError::NoStreams);
        }
        if self.streams > 1 && !self.http2 {
            return Err(TlsError::StreamsWithoutHttp2(self.streams));
        }
        Ok(())
    }

    /// The transport for `endpoint`: TLS when its scheme is https.
    pub fn resolve(&self, endpoint: &Endpoint, url: &str) -> Result<Transport, TlsError> {
        self.validate()?;
        let tls = match endpoint.scheme {
            Scheme::Http => None,
            Scheme::Https => {
                let config = client_config(self)?;
                let server_name = ServerName::try_from(endpoint.host.clone()).map_err(|_| {
                    TlsError::ServerName {
                        url: url.into(),
                        host: endpoint.host.clone(),
                    }
                })?;
                Some(TlsClient {
                    connector: TlsConnector::from(config),
                    server_name,
                })
            }
        };
        Ok(Transport {
            tls,
            http2: self.http2,
            streams: self.streams.max(1),
            client: self.client,
        })
    }

    /// Whether these options leave the measured hot path alone for a
    /// cleartext URL (no TLS flag, no HTTP/2).
    pub fn is_plain(&self) -> bool {
        self.cacert.is_none()
            && !self.insecure
            && !self.http2
            && self.streams <= 1
            && self.client == HttpClient::Lean
    }

    /// The transport for `endpoint`, tried by one test connection first
    /// ([`probe`]): returns it and the protocol the test connection spoke
    /// (None when the TCP connect failed; the step then counts connect
    /// errors as it always has).
    pub async fn prepare(
        &self,
        endpoint: &Endpoint,
        url: &str,
    ) -> Result<(Transport, Option<&'static str>), TlsError> {
        let transport = self.resolve(endpoint, url)?;
        let negotiated = probe(endpoint, &transport, url).await?;
        Ok((transport, negotiated))
    }

    /// The loud line `--insecure` prints on stderr.
    pub const INSECURE_WARNING: &'static str =
        "warning: --insecure: TLS certificates are NOT verified";
}

/// rustls client configuration: system roots plus `--cacert`, or no
/// verification with `--insecure`; ALPN offers h2 only with `--http2`.
pub fn client_config(opts: &TransportOptions) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut config = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        // Unreadable system stores leave only --cacert: a missing root then
        // shows as "not trusted" in the test handshake.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some(path) = &opts.cacert {
            for cert in read_pem_certs(path)? {
                roots.add(cert).map_err(|e| TlsError::CaFile {
                    path: path.clone(),
                    reason: format!("not a usable CA certificate: {e}"),
                })?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = if opts.http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}

/// The certificates of a PEM file; a missing or unreadable file, or one
/// without a certificate, is an error naming it.
fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let err = |reason: String| TlsError::CaFile {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate (BEGIN CERTIFICATE) in it".into()));
    }
    Ok(certs)
}

/// Wraps a TCP stream in TLS. The error is rustls's own when it has one
/// (see [`describe`]).
pub async fn handshake(
    tls: &TlsClient,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    tls.connector.connect(tls.server_name.clone(), tcp).await
}

/// Whether a TLS stream agreed on h2 by ALPN.
pub fn negotiated_h2(stream: &TlsStream<TcpStream>) -> bool {
    stream.get_ref().1.alpn_protocol() == Some(b"h2")
}

/// One test connection before a step: TCP connect and, over TLS, the
/// handshake. Returns the protocol it would speak ("HTTP/1.1", "HTTP/2"),
/// or None when the TCP connect failed (the step then counts connect
/// errors as it always has). A TLS failure is an error naming the URL and
/// the problem.
pub async fn probe(
    endpoint: &Endpoint,
    transport: &Transport,
    url: &str,
) -> Result<Option<&'static str>, TlsError> {
    let Ok(Ok(tcp)) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        TcpStream::connect(endpoint.addr),
    )
    .await
    else {
        return Ok(None);
    };
    let Some(tls) = &transport.tls else {
        return Ok(Some(if transport.http2 {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        }));
    };
    let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), handshake(tls, tcp));
    match handshake.await {
        Ok(Ok(stream)) => Ok(Some(if negotiated_h2(&stream) {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        })),
        Ok(Err(e)) => Err(TlsError::Handshake {
            url: url.into(),
            problem: describe(&e),
        }),
        Err(_) => Err(TlsError::Handshake {
            url: url.into(),
            problem: "TLS handshake timed out after 10s".into(),
        }),
    }
}

/// A handshake error in words: certificate problems say what to pass.
fn describe(err: &std::io::Error) -> String {
    let Some(tls) = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return format!("TLS handshake failed: {err}");
    };
    use rustls::CertificateError as C;
    let hint = "pass --cacert FILE or --insecure";
    match tls {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            format!("TLS certificate not trusted (UnknownIssuer); {hint}")
        }
        rustls::Error::InvalidCertificate(C::NotValidForName)
        | rustls::Error::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            format!("TLS certificate not valid for this host name (NotValidForName); {hint}")
        }
        rustls::Error::InvalidCertificate(c) => {
            format!("TLS certificate rejected ({c:?}); {hint}")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// `--insecure`'s verifier: any certificate is accepted; signatures are
/// still checked so the handshake itself is sound.
#[derive(Debug)]
struct AcceptAny(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAny {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_need_http2() {
        let mut o = TransportOptions {
            streams: 8,
            ..Default::default()
        };
        assert!(matches!(
            o.validate(),
            Err(TlsError::StreamsWithoutHttp2(8))
        ));
        o.http2 = true;
        assert!(o.validate().is_ok());
        o.streams = 0;
        assert!(o.validate().is_err());
    }

    #[test]
    fn a_bad_cacert_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = read_pem_certs(&missing).unwrap_err().to_string();
        assert!(err.contains("nope.pem"), "{err}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = read_pem_certs(&junk).unwrap_err().to_string();
        assert!(err.contains("junk.pem") && err.contains("no PEM"), "{err}");
    }
}
