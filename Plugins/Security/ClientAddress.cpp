#include "Security/ClientAddress.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "Common/Errors.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
std::vector<std::string> SplitList(const std::string& header) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    items.push_back(Text::Trim(header.substr(start, comma - start)));
    start = comma + 1;
  }
  return items;
}

// "[::1]:1234" and "1.2.3.4:80" are not what nginx writes, but other
// proxies do: keep the address part.
std::string StripPort(const std::string& item) {
  if (!item.empty() && item.front() == '[') {
    size_t close = item.find(']');
    return close == std::string::npos ? item : item.substr(1, close - 1);
  }
  if (std::count(item.begin(), item.end(), ':') == 1) return item.substr(0, item.find(':'));
  return item;
}
}  // namespace

bool TrustedProxies::ParseAddress(const std::string& text, Network& address) {
  if (inet_pton(AF_INET, text.c_str(), address.bytes) == 1) {
    address.v6 = false;
    address.prefix = 32;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), address.bytes) == 1) {
    address.v6 = true;
    address.prefix = 128;
    // An IPv4 address mapped into IPv6 (::ffff:a.b.c.d) is that IPv4 address.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(address.bytes, kMapped, 12) == 0) {
      std::memmove(address.bytes, address.bytes + 12, 4);
      std::memset(address.bytes + 4, 0, 12);
      address.v6 = false;
      address.prefix = 32;
    }
    return true;
  }
  return false;
}

bool TrustedProxies::Contains(const Network& network, const Network& address) {
  if (network.v6 != address.v6) return false;
  int bits = network.prefix;
  for (int i = 0; bits > 0; i++, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((network.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries, const std::string& option) {
  for (const std::string& entry : entries) {
    const size_t slash = entry.find('/');
    Network network;
    if (!ParseAddress(entry.substr(0, slash), network)) {
      throw StartupError("invalid configuration option " + option + ": \"" + entry +
                         "\" is not an IP address or network (e.g. \"127.0.0.1\" or \"10.0.0.0/8\")");
    }
    if (slash != std::string::npos) {
      const std::string bits = entry.substr(slash + 1);
      const int max = network.v6 ? 128 : 32;
      if (!Text::IsDigits(bits, 1, 3) || std::stoi(bits) > max) {
        throw StartupError("invalid configuration option " + option + ": \"" + entry +
                           "\" has a prefix length that is not 0 to " + std::to_string(max));
      }
      network.prefix = std::stoi(bits);
    }
    networks_.push_back(network);
  }
}

bool TrustedProxies::Trusts(const std::string& address) const {
  Network parsed;
  if (!ParseAddress(address, parsed)) return false;
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const Network& network) { return Contains(network, parsed); });
}

void TrustedProxies::Resolve(HttpRequest& request, bool directIsSecure) const {
  request.remoteIp = request.connectionIp;
  request.secure = directIsSecure;
  if (!Trusts(request.connectionIp)) return;
  // Walk from the nearest hop outwards: every trusted proxy appended the
  // address it saw; the first address no trusted proxy owns is the client.
  const std::string forwarded = request.Header("x-forwarded-for");
  if (!forwarded.empty()) {
    std::vector<std::string> hops = SplitList(forwarded);
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
      const std::string address = StripPort(*hop);
      Network parsed;
      if (!ParseAddress(address, parsed)) break;  // garbage written by someone untrusted
      request.remoteIp = address;
      if (!Trusts(address)) break;
    }
  }
  const std::string proto = request.Header("x-forwarded-proto");
  if (!proto.empty()) {
    std::string last = SplitList(proto).back();
    std::transform(last.begin(), last.end(), last.begin(), [](unsigned char c) { return std::tolower(c); });
    request.secure = last == "https";
  }
}

}  // namespace HospitalBridge
