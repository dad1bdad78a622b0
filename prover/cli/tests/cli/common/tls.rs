//! A TLS terminator for tests: HTTPS with a certificate from a throwaway CA, forwarding
//! every connection's bytes to a plain-HTTP node.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

pub struct TlsProxy {
    /// The HTTPS port on 127.0.0.1 (the certificate names `localhost`).
    pub port: u16,
    /// The test CA's certificate (PEM), to trust through `SSL_CERT_FILE`.
    pub ca_pem: String,
    _runtime: tokio::runtime::Runtime,
}

impl TlsProxy {
    /// Serves HTTPS for `localhost` and forwards to `upstream` (a `host:port`).
    pub fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream.parse().expect("upstream host:port");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "zkpolicy test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
        let key = KeyPair::generate().expect("key");
        let cert = CertificateParams::new(vec!["localhost".to_string()]).expect("params").signed_by(&key, &ca).expect("certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        runtime.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends its handshake here.
                    let Ok(mut tls) = acceptor.accept(socket).await else { return };
                    let Ok(mut node) = TcpStream::connect(upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut node).await;
                });
            }
        });
        Self { port, ca_pem: ca.pem(), _runtime: runtime }
    }
}
