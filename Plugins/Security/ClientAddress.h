#pragma once
// Who is really at the other end of a request. Behind a reverse proxy every
// request reaches Orthanc from the proxy's address; the proxy names the
// client in X-Forwarded-For and the scheme in X-Forwarded-Proto. Those
// headers are believed only from the proxies the administrator listed
// (Security.TrustedProxies); from anyone else they are ignored, since any
// client can send them. Throttles, sessions, the audit trail and the
// cookies' Secure flag all use the result.
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Http.h"

namespace HospitalBridge {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // Addresses ("127.0.0.1", "::1") or networks ("10.0.0.0/8", "fd00::/8").
  // Throws StartupError naming `option` for an entry that is neither.
  TrustedProxies(const std::vector<std::string>& entries, const std::string& option);

  bool Trusts(const std::string& address) const;
  bool Empty() const { return networks_.empty(); }

  // Sets request.remoteIp and request.secure from request.connectionIp and,
  // when that is a trusted proxy, from the forwarded headers: the client is
  // the right-most address of X-Forwarded-For that is not itself a trusted
  // proxy (the left part of the list is whatever the client wrote).
  // `directIsSecure`: Orthanc itself serves HTTPS.
  void Resolve(HttpRequest& request, bool directIsSecure) const;

 private:
  struct Network {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  static bool ParseAddress(const std::string& text, Network& address);
  static bool Contains(const Network& network, const Network& address);
  std::vector<Network> networks_;
};

}  // namespace HospitalBridge
