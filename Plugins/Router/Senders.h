#pragma once
// How a delivery reaches each kind of destination. A sender is handed one
// claimed delivery and what it sent before, sends what is missing, records
// each confirmed instance as it goes (so a crash resends nothing that was
// confirmed), and returns a note, or throws DeliveryProblem / DeliveryPaused.
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "Common/Clock.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Router/DeliveryQueue.h"
#include "Router/HttpClient.h"
#include "Router/RouterSettings.h"
#include "Router/RoutingRules.h"

namespace HospitalBridge {

// The study as a destination needs it, read from Orthanc when it is sent.
struct InstanceContent {
  std::string orthancId;
  std::string sopInstanceUid;
  std::string sopClassUid;  // read only when asked (FHIR)
  int64_t number = 0;
};
struct SeriesContent {
  std::string orthancId;
  std::string seriesUid;
  std::string modality;
  std::string description;
  std::string bodyPart;
  int64_t number = 0;
  std::vector<InstanceContent> instances;
};
struct StudyContent {
  std::string orthancId;
  std::string studyUid;
  std::string accession;
  std::string description;
  std::string studyDate;  // DICOM DA
  std::string studyTime;  // DICOM TM
  std::string institution;
  std::string patientId;
  std::string patientName;
  std::string patientBirthDate;
  std::string patientSex;
  std::vector<SeriesContent> series;

  size_t InstanceCount() const;
  std::vector<std::string> Modalities() const;
  // Instances not in `sent`, in series order.
  std::vector<const InstanceContent*> Missing(const std::set<std::string>& sent) const;
};

// Reads the study from Orthanc; DeliveryProblem (fail) when Orthanc no
// longer has it, OrthancUnavailable passed on.
StudyContent ReadStudyContent(IOrthancRest& orthanc, const std::string& orthancId, bool withSopClasses);

// One attempt at one delivery.
struct DeliveryAttempt {
  const Delivery& delivery;
  const RouterDestination& destination;
  DeliveryQueue& queue;
  std::function<bool()> stopping;
  std::set<std::string> sent;  // SOP Instance UIDs confirmed before

  void Confirm(const std::vector<std::string>& sops) {
    queue.RecordSent(delivery.id, sops, true);
    sent.insert(sops.begin(), sops.end());
  }
  void CheckStopping() const {
    if (stopping && stopping()) throw DeliveryPaused();
  }
};

class IDestinationSender {
 public:
  virtual ~IDestinationSender() = default;
  // Returns a note for the delivered state ("200 instances"), or throws.
  virtual std::string Send(DeliveryAttempt& attempt) = 0;
};

// C-STORE to a modality or Orthanc-to-Orthanc to a peer, as Orthanc jobs
// (POST /modalities/{x}/store, /peers/{x}/store), followed to their end from
// the router's thread, a batch of instances per job.
//
// A batch is confirmed when its job succeeds; a job cut short (a crash of
// Orthanc, a failed job) may have stored part of its batch. So an attempt
// after one that did not finish first asks the destination what it has of
// the study and sends only the rest: a modality by C-FIND at IMAGE level,
// one query per series (POST /modalities/{x}/query), a peer by its REST API
// (GET /studies/{id}/instances through Orthanc's peer client: Orthanc's
// study ids are the same at every Orthanc). A destination that cannot say
// (no C-FIND for us, an error) gets the whole remainder again, logged.
class OrthancStoreSender : public IDestinationSender {
 public:
  OrthancStoreSender(IOrthancRest& orthanc, IPeerClient* peers, std::function<void(int)> sleepMs)
      : orthanc_(orthanc), peers_(peers), sleepMs_(std::move(sleepMs)) {}
  std::string Send(DeliveryAttempt& attempt) override;

 private:
  void RunJob(DeliveryAttempt& attempt, const std::vector<std::string>& ids);
  // The SOP Instance UIDs of the study the destination has; false when it
  // cannot say (`why` then tells).
  bool InstancesThere(const RouterDestination& d, const StudyContent& content, std::set<std::string>& sops,
                      std::string& why);
  bool FindAtModality(const RouterDestination& d, const StudyContent& content, std::set<std::string>& sops,
                      std::string& why);
  bool FindAtPeer(const RouterDestination& d, const StudyContent& content, std::set<std::string>& sops,
                  std::string& why);
  IOrthancRest& orthanc_;
  IPeerClient* peers_;  // none: a peer cannot be asked
  std::function<void(int)> sleepMs_;
};

// How a destination's requests are authenticated; OAuth2 tokens are cached
// until they expire and fetched again once when a request gets 401.
class TokenSource {
 public:
  // `satusehat`: the platform's form (client_id and client_secret in the
  // body, grant_type in the URL); else RFC 6749 client credentials.
  TokenSource(IHttpClient& http, const IClock& clock, const RouterDestination& destination, bool satusehat)
      : http_(http), clock_(clock), destination_(destination), satusehat_(satusehat) {}
  // The bearer token; a new one when `renew` or the cached one expired.
  std::string Get(bool renew);

 private:
  IHttpClient& http_;
  const IClock& clock_;
  const RouterDestination& destination_;
  const bool satusehat_;
  std::mutex mutex_;
  std::string token_;
  int64_t expiresAtMs_ = 0;
};

// Sends `call` with the destination's authentication; on 401 with OAuth2,
// gets a new token and sends once more.
HttpResult SendAuthenticated(IHttpClient& http, const RouterDestination& destination, TokenSource* tokens,
                             HttpCall call);

// STOW-RS: multipart/related requests of a batch of instances each.
class DicomWebSender : public IDestinationSender {
 public:
  DicomWebSender(IOrthancRest& orthanc, IHttpClient& http, TokenSource* tokens)
      : orthanc_(orthanc), http_(http), tokens_(tokens) {}
  std::string Send(DeliveryAttempt& attempt) override;

 private:
  IOrthancRest& orthanc_;
  IHttpClient& http_;
  TokenSource* tokens_;
};

// The file of one instance from Orthanc.
std::string ReadInstanceFile(IOrthancRest& orthanc, const InstanceContent& instance);

}  // namespace HospitalBridge
