/* trust.c — see trust.h. */
#include "core/trust.h"

#include <openssl/x509.h>
#include <stdlib.h>

const char *trust_cert_dir(void)
{
    const char *dir = getenv(X509_get_default_cert_dir_env());
    return dir && *dir ? dir : X509_get_default_cert_dir();
}
