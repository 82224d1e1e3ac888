#pragma once
// IPeerClient over Orthanc's peers ("OrthancPeers", or those added with
// PUT /peers/...): address, credentials and TLS come from Orthanc.
#include <orthanc/OrthancCPlugin.h>

#include "Common/PeerClient.h"

namespace HospitalBridge {

class SdkPeerClient : public IPeerClient {
 public:
  explicit SdkPeerClient(OrthancPluginContext* context) : context_(context) {}
  bool Knows(const std::string& peerName) override;
  PeerAnswer Get(const std::string& peerName, const std::string& uri, int timeoutMs) override;

 private:
  OrthancPluginContext* context_;
};

}  // namespace HospitalBridge
