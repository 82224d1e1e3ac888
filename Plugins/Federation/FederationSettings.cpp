#include "Federation/FederationSettings.h"

namespace HospitalBridge {

FederationSettings ReadFederationSettings(const SettingsReader& read) {
  FederationSettings federation;
  federation.enabled = read.ModuleEnabled("Federation");
  if (federation.enabled && !read.ModuleEnabled("Registry")) {
    SettingsReader::Invalid("Modules.Federation",
                            "needs Modules.Registry (peers are answered by national ID)");
  }
  federation.peerTimeoutMs = read.Int("Federation.PeerTimeoutMs", 100, 60000);
  federation.maxAnswerBytes =
      static_cast<size_t>(read.Integer("Federation.MaxAnswerKilobytes", 16, 65536)) * 1024;
  return federation;
}

}  // namespace HospitalBridge
