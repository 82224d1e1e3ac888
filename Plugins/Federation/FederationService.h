#pragma once
// Federation: what this site tells its peers about a patient, and one query
// that asks every peer at once and merges their answers with the local one.
#include <json/json.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "Common/PeerClient.h"
#include "Federation/FederationSettings.h"
#include "Index/StudyIndexStore.h"
#include "Registry/PatientStore.h"
#include "Registry/SiteStore.h"

namespace HospitalBridge {

class FederationService {
 public:
  FederationService(const SiteSettings& site, const FederationSettings& settings, SiteStore& sites,
                    PatientStore& patients, StudyIndexStore& studies, IPeerClient& peers);

  // Peer-facing answer for a national ID.
  Json::Value AnswerPeer(const std::string& nationalId);
  // May a peer see (and retrieve) this study? The one place where what
  // leaves this site for another is decided.
  bool VisibleToPeers(const StudyRecord& study);

  // The consent module's verdict on federation for a registry patient. Not
  // set: every patient with a national ID may be federated.
  void SetConsentCheck(std::function<bool(const std::string& patientId)> check) {
    consentCheck_ = std::move(check);
  }

  // User-facing: this site and every peer, in parallel, merged.
  Json::Value Query(const std::string& nationalId, const std::optional<Patient>& patient);

  // Turns a peer's HTTP answer into a site status entry and its studies.
  // Public for tests.
  struct PeerResult {
    Json::Value status;
    std::vector<Json::Value> studies;
    Json::Value patient;  // who the peer says it is, or null
  };
  PeerResult InterpretPeerAnswer(const Site& site, const PeerAnswer& answer) const;

 private:
  std::vector<StudyRecord> LocalStudies(const Patient& patient);
  bool MayLeaveThisSite(const Patient& patient) const;

  const SiteSettings site_;
  const FederationSettings settings_;
  SiteStore& sites_;
  PatientStore& patients_;
  StudyIndexStore& studies_;
  IPeerClient& peers_;
  std::function<bool(const std::string&)> consentCheck_;
};

// The fields of a study that travel between sites.
Json::Value StudySummaryForPeers(const StudyRecord& study);
std::string UrlEncode(const std::string& text);

}  // namespace HospitalBridge
