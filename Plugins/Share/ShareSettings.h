#pragma once
// The share links' settings (HospitalBridge.Shares and Modules.Shares):
// validity, second factor, the phone's throttles, the slip queue, auto-share.
#include <cstdint>
#include <string>
#include <vector>

#include "Common/Settings.h"

namespace HospitalBridge {

struct AutoShareSettings {
  bool enabled = false;
  std::vector<std::string> modalities;
  std::vector<std::string> callingAets;
  int validDays = 30;
};

struct SharesSettings {
  bool enabled = true;
  std::string publicBaseUrl;  // "" = the address the staff request came to
  int defaultValidDays = 30;
  int maxValidDays = 365;
  bool allowNoSecondFactor = false;
  int maxFailedUnlocks = 5;
  int sessionMinutes = 60;
  int maxFailuresPerAddress = 20;
  int windowMinutes = 10;
  int lockoutMinutes = 15;
  int pendingSlipHours = 72;
  uint32_t secretHashIterations = 100000;
  AutoShareSettings autoShare;
};

SharesSettings ReadSharesSettings(const SettingsReader& read);

}  // namespace HospitalBridge
