#pragma once
// Federation's settings (HospitalBridge.Federation and Modules.Federation):
// how long a peer may take and how much it may answer.
#include <cstddef>

#include "Common/Settings.h"

namespace HospitalBridge {

struct FederationSettings {
  bool enabled = true;
  int peerTimeoutMs = 3000;
  size_t maxAnswerBytes = 8192 * 1024;
};

FederationSettings ReadFederationSettings(const SettingsReader& read);

}  // namespace HospitalBridge
