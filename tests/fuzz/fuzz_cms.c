/* Fuzz target: the secret decrypt path (DER walk, CMS parse, recipient and passphrase
 * decryption) and the recipient description, on arbitrary bytes. The recipient below is a
 * fixture made for this target only; the seed corpus in tests/fuzz/corpus/cms/ is encrypted to
 * it and to FUZZ_PASS. */
#include "common/fsutil.h"
#include "crypto/secrets.h"

#include <stdint.h>
#include <stdlib.h>

#define FUZZ_PASS "tiferry-fuzz-pass"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fixture only: never a real key */
static const char fixture_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDDm9PTGNnIzayu\n"
    "U//Z7baXJEXu3rwJNNuxs174yXMrKrSbrvJxg58HngwJU3cKJ+cjn6kStPfulDsT\n"
    "Zv7vNlz2VrEhGS+Rqy8cDdMh9REONClCPc53clnxemFhf9NZDSmI9buaUeQ/vTAc\n"
    "fNM5UpDW+PdXQmgNub7lbPP24kYvUWopn3KUvUAEoq1zmkd78BIZ7jrGAdDGStIh\n"
    "UQ6LWAY3WdAvBzKycLCll5mERPLGj38650IiKPpt7qH6hw3tiGVDWHdKxyPV5wFd\n"
    "mdI9peRIoYfqUq1BnM1zuFshOWwjy0vEHlV3L9vYAXjjoYD+oD6EmdaH786ryWX4\n"
    "0HmeEhU7AgMBAAECggEAIxSrySSgTlCAoyUicgmdYP7a4eulSntl2TlDk5fBZWD7\n"
    "0h3ukigaWcng+70x0Kr2W5+zOU0mV+3SqHikyO71fiJvEvIK43ORd9UM4/6pB+SX\n"
    "767Y+/gQpGuf0lYT59kh9VOoyRTdvAaofbtvQE0L99nfthENS0TgNRI0sLbFApAl\n"
    "fJjF/oxmUpkV6nr6GC257BhLAV6CPovD2gCcuJqPKHgF7mvlvIu8tF49utGnr3OK\n"
    "mvSXOmxNj/gY79Eb7Gn78qPqGjDPwI0VfriQdVDzCim+SfPYiaA5kCL7FLJeWl+M\n"
    "IvdRRnlm31Vrb4hTa1aNLg1xMScZ+3k08QWW8D/GuQKBgQDrgYXPCEARKS2gpPBH\n"
    "whsFVcmT5zklkKt/Z0qT9fNnE1b58yTzoNOdMl/iJZHU8N4QiubcuROxC89Bthtp\n"
    "sk0cwpvZN/8lX2t4AZdiBcSLtjXvKquTZqyxpiD/dIYlscx4QMES6lmWr9z/4dUW\n"
    "Ag5082zBM7OsNPF39N0vMUZXaQKBgQDUoX6zFRQPonWB0qnEwxUBv7/p6GkgBLan\n"
    "Dk6Dh987C/B9HoQjox7UTi5AG67NycYqmdikbABHiXG4X0wCugTxeaZwe+WgwRA7\n"
    "kt+6EYmKQFrsr/e4/zJ4bcFIA3ydhPrAxUCGoWId5FJep0LaDc9AkyfOmtpCiOVF\n"
    "teuPNku3AwKBgQCfQmzZr8ubj0xCyaeP70zUk8oIkiIMLEQ9mP1PB9E9UE/OIcZI\n"
    "Vucj8+/xf9SZuvWBHF24wBP383OKDXuGQ8RwAY7hG0QY4ulLM1BLQnlCvcrFXQbA\n"
    "XHvGewDvn74j+ZO7cpbekspY477A79ho1KUwI3nVQYBsoTT2GQoGovzdmQKBgHm5\n"
    "khzXPkrNCFQv03yO6aG8shMoN7ZavG3aZNwrloHpDd2y8JauNWH498U/k8y/bDDL\n"
    "LhjCs05Awtd3xr3w3A+ZQs02QHjMzYwtQuL0UzbQLL0+56QChFQpEPM2+8n5bMua\n"
    "oJvyG4ddREJnon/OVA11sN44DCb207oasSWlQacdAoGBANU3Q/u227nDMfu/q0zn\n"
    "+GPxCOD0kPs2U1OrEa2f6rDomrfXqjexUzx59RN4fVaE9X8nSJhhQqwUq3Vd1bKM\n"
    "IrvfGVfyqPODOMT+NdLRXUtr99p0MZYgHXhOSX4QF+ILbRfpyvbfqZLefI02PJd/\n"
    "kAyUkCcW1P0V2pv1H+imV4Y/\n"
    "-----END PRIVATE KEY-----\n";

static const char fixture_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDMjCCAhqgAwIBAgIUcSgMoqT6uuWyO2racee0C8ocHdowDQYJKoZIhvcNAQEL\n"
    "BQAwITEfMB0GA1UEAwwWdGlmZXJyeSBmdXp6IHJlY2lwaWVudDAgFw0yNjExMjcy\n"
    "MDU3MThaGA8yMTI2MTEwMzIwNTcxOFowITEfMB0GA1UEAwwWdGlmZXJyeSBmdXp6\n"
    "IHJlY2lwaWVudDCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAMOb09MY\n"
    "2cjNrK5T/9nttpckRe7evAk027GzXvjJcysqtJuu8nGDnweeDAlTdwon5yOfqRK0\n"
    "9+6UOxNm/u82XPZWsSEZL5GrLxwN0yH1EQ40KUI9zndyWfF6YWF/01kNKYj1u5pR\n"
    "5D+9MBx80zlSkNb491dCaA25vuVs8/biRi9RaimfcpS9QASirXOaR3vwEhnuOsYB\n"
    "0MZK0iFRDotYBjdZ0C8HMrJwsKWXmYRE8saPfzrnQiIo+m3uofqHDe2IZUNYd0rH\n"
    "I9XnAV2Z0j2l5Eihh+pSrUGczXO4WyE5bCPLS8QeVXcv29gBeOOhgP6gPoSZ1ofv\n"
    "zqvJZfjQeZ4SFTsCAwEAAaNgMF4wHQYDVR0OBBYEFIjD1jq5ptD+d/uSuvGxOnkD\n"
    "JiafMB8GA1UdIwQYMBaAFIjD1jq5ptD+d/uSuvGxOnkDJiafMA4GA1UdDwEB/wQE\n"
    "AwIFIDAMBgNVHRMBAf8EAjAAMA0GCSqGSIb3DQEBCwUAA4IBAQA38cpNJCE0GAzz\n"
    "Jd6n9FlKlnq7AQk0iEtt9F9ZC3bpbsSW14bDpH23ur828hdjfgFB9W9Qpm/4FIU0\n"
    "LQO9K1g9YM/o2a05+bVGUy0w2ol0H4w7hOJo0ZUlRh/hQbNwl+Iz6UW5XdPSvWKY\n"
    "xOotEiuW4AL6yNcKp2/BR6KklIGq1VRmc4rlq/rdKFJXtjodNYKVTVBbCm6DE0Yv\n"
    "w5iMxFl3Z0zop/SMHxb/scVpk7i6cZywtUSxa8tHL+rntWWV1gMZQDzaTfqSb5tD\n"
    "8yuKS6aiVT/xIq6BlJ1ovEWsjCXwKldHKJFJI6eOK0/4Nw5x4sMEbxS3ZQs9pclF\n"
    "LmDa67Vh\n"
    "-----END CERTIFICATE-----\n";

static void try_decrypt(const uint8_t *data, size_t size, const struct tf_secrets_key *k)
{
	struct tf_err err;
	uint8_t *out = NULL;
	size_t n = 0;

	if (tf_secrets_decrypt(data, size, k, &out, &n, &err) == 0) {
		tf_wipe(out, n);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tf_secrets_key by_key = {0}, by_pass = {0};
	struct tf_err err;
	char *json = NULL;

	by_key.key_pem = fixture_key;
	by_key.key_len = sizeof(fixture_key) - 1;
	by_key.cert_pem = fixture_cert;
	by_key.cert_len = sizeof(fixture_cert) - 1;
	by_pass.passphrase = FUZZ_PASS;
	try_decrypt(data, size, &by_key);
	try_decrypt(data, size, &by_pass);
	if (tf_secrets_describe(data, size, &json, &err) == 0)
		free(json);
	return 0;
}
