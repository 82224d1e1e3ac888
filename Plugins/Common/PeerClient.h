#pragma once
// How the core reaches other sites: through Orthanc's own peers
// ("OrthancPeers"), which hold each peer's address, credentials and TLS
// settings. The adapter implements it with the plugin SDK; tests fake it.
#include <cstdint>
#include <string>

namespace HospitalBridge {

struct PeerAnswer {
  bool reached = false;  // an HTTP answer came back (any status)
  int httpStatus = 0;
  std::string body;
  std::string error;  // why not reached
  int64_t elapsedMs = 0;
};

class IPeerClient {
 public:
  virtual ~IPeerClient() = default;
  virtual bool Knows(const std::string& peerName) = 0;
  // GET `uri` on the peer. Safe to call from several threads at once.
  virtual PeerAnswer Get(const std::string& peerName, const std::string& uri, int timeoutMs) = 0;
};

}  // namespace HospitalBridge
