/* trust.h — where the OS keeps the certificates vigil trusts for TLS.
 * Both TLS clients (curl for HTTPS, lws for the Socket Mode link) use the
 * hashed certificate directory, which OpenSSL reads lazily, one file per
 * issuer actually met, instead of the whole CA bundle: parsing the bundle
 * was a third of vigil's startup.  Knows OpenSSL's conventions, nothing
 * of the clients. */
#ifndef VIGIL_TRUST_H
#define VIGIL_TRUST_H

/* $SSL_CERT_DIR when set (as for OpenSSL itself), else OpenSSL's default
 * directory (/usr/lib/ssl/certs -> /etc/ssl/certs on Debian).  Borrowed. */
const char *trust_cert_dir(void);

#endif
