#pragma once
// A throwaway certificate authority and server certificate for the local Polymarket stand-in
// (`booktape sim`), so that it can serve wss:// and a client can verify it exactly as it verifies
// the real venue: against a CA file (--ca-file) and the hostname it dialled. Nothing here is meant
// for production keys; it exists so TLS code paths are tested with verification on, never off.
#include <filesystem>
#include <string>
#include <vector>

namespace booktape {

struct TlsFiles {
  std::filesystem::path ca_cert;      // PEM, the CA a client should trust (--ca-file)
  std::filesystem::path server_cert;  // PEM chain: server certificate then the CA certificate
  std::filesystem::path server_key;   // PEM (PKCS#8) private key, file mode 0600
};

// Creates a throwaway certificate authority (EC P-256, CA:TRUE, keyCertSign) and a server
// certificate signed by it (EC P-256, serverAuth EKU, subjectAltName with every DNS name and IP
// given), valid from now-1h (tolerates clock skew between sim and client) until now+`days`, and
// writes them into `dir` (created 0700 if missing) as ca.pem, server.pem, server.key. Each file is
// written to a temporary name and renamed into place, so existing files are replaced atomically and
// the key is never readable by others, whatever the umask. The CA's private key is discarded: no
// further certificate can ever be signed by it.
// Throws std::invalid_argument for days <= 0, no names at all, an empty DNS name or an address that
// is not IPv4/IPv6; std::runtime_error with the OpenSSL reason (or errno text) on any other
// failure.
TlsFiles generate_test_pki(const std::filesystem::path& dir,
                           const std::vector<std::string>& dns_names = {"localhost"},
                           const std::vector<std::string>& ip_addresses = {"127.0.0.1", "::1"},
                           int days = 30);

}  // namespace booktape
