#include "OrthancAdapter/SdkPeerClient.h"

#include <memory>

#include "Common/Time.h"

namespace HospitalBridge {
namespace {
// Read afresh for each call: peers can change at run time (PUT /peers/...).
struct Peers {
  explicit Peers(OrthancPluginContext* pluginContext)
      : context(pluginContext), peers(OrthancPluginGetPeers(pluginContext)) {}
  ~Peers() {
    if (peers != nullptr) OrthancPluginFreePeers(context, peers);
  }
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  bool Find(const std::string& name, uint32_t& index) const {
    if (peers == nullptr) return false;
    uint32_t count = OrthancPluginGetPeersCount(context, peers);
    for (uint32_t i = 0; i < count; i++) {
      const char* candidate = OrthancPluginGetPeerName(context, peers, i);
      if (candidate != nullptr && name == candidate) {
        index = i;
        return true;
      }
    }
    return false;
  }

  OrthancPluginContext* context;
  OrthancPluginPeers* peers;
};
}  // namespace

bool SdkPeerClient::Knows(const std::string& peerName) {
  Peers peers(context_);
  uint32_t index = 0;
  return peers.Find(peerName, index);
}

PeerAnswer SdkPeerClient::Get(const std::string& peerName, const std::string& uri, int timeoutMs) {
  PeerAnswer answer;
  Peers peers(context_);
  uint32_t index = 0;
  if (!peers.Find(peerName, index)) {
    answer.error = "Orthanc has no peer named \"" + peerName + "\"";
    return answer;
  }
  OrthancPluginMemoryBuffer body{};
  uint16_t status = 0;
  // Orthanc's HTTP client counts whole seconds.
  uint32_t timeoutSeconds = static_cast<uint32_t>((timeoutMs + 999) / 1000);
  int64_t started = Time::NowMilliseconds();
  OrthancPluginErrorCode code = OrthancPluginCallPeerApi(context_, &body, nullptr, &status, peers.peers,
                                                         index, OrthancPluginHttpMethod_Get, uri.c_str(), 0,
                                                         nullptr, nullptr, nullptr, 0, timeoutSeconds);
  answer.elapsedMs = Time::NowMilliseconds() - started;
  if (code == OrthancPluginErrorCode_Success) {
    answer.reached = true;
    answer.httpStatus = status;
    answer.body.assign(static_cast<const char*>(body.data), body.size);
    OrthancPluginFreeMemoryBuffer(context_, &body);
  } else if (status != 0) {
    // The peer answered with an error status (e.g. 401, 403, 404, 500).
    answer.reached = true;
    answer.httpStatus = status;
  } else {
    answer.error = OrthancPluginGetErrorDescription(context_, code);
  }
  return answer;
}

}  // namespace HospitalBridge
