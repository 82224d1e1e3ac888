#pragma once
// Consent's settings (HospitalBridge.Consent and Modules.Consent): what is
// decided for a patient who has no consent record, per kind.
#include "Common/Settings.h"

namespace HospitalBridge {

enum class ConsentKind { kShare, kFederation, kResearch };

struct ConsentSettings {
  bool enabled = true;
  // Decision without any valid record: true = permit (opt-out).
  bool sharePermitsByDefault = false;
  bool federationPermitsByDefault = true;
  bool researchPermitsByDefault = false;
};

ConsentSettings ReadConsentSettings(const SettingsReader& read);

}  // namespace HospitalBridge
