#pragma once
// The router's durable queue (table router_deliveries, migration 010): one
// delivery per (study, destination, trigger), its state, attempts, counters
// and proof (remote ids), and the SOP Instance UIDs each delivery has sent.
// Times: created/updated/delivered in Unix seconds, next_attempt_at in
// milliseconds of the injected clock.
#include <json/json.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "Common/Clock.h"
#include "Common/Storage.h"

namespace HospitalBridge {

namespace DeliveryState {
constexpr const char* kQueued = "queued";
constexpr const char* kSending = "sending";
constexpr const char* kWaiting = "waiting";
constexpr const char* kRetrying = "retrying";
constexpr const char* kFailed = "failed";
constexpr const char* kDelivered = "delivered";
}  // namespace DeliveryState

struct Delivery {
  int64_t id = 0;
  std::string studyUid;
  std::string orthancId;
  std::string destination;
  std::string trigger;  // "study" or "report:<id>"
  std::string rule;
  std::string accession;
  std::string patientName;
  std::string state;
  std::string reason;
  int64_t attempts = 0;
  int64_t nextAttemptAtMs = 0;
  int64_t instancesReceived = 0;
  int64_t instancesSent = 0;
  int64_t instancesConfirmed = 0;
  std::string remoteId;
  std::string remoteUrl;
  std::string payload;
  bool updatePending = false;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
  int64_t deliveredAt = 0;

  Json::Value ToJson() const;
};

struct NewDelivery {
  std::string studyUid;
  std::string orthancId;
  std::string destination;
  std::string trigger = "study";
  std::string rule;
  std::string accession;
  std::string patientName;
  int64_t instancesReceived = 0;
  std::string payload;
  // Queued at once, or waiting with this reason.
  std::string waitingReason;
};

struct DeliveryFilter {
  std::string state;
  std::string destination;
  std::string studyUid;
  std::string text;  // accession, patient name or study UID contains
  int limit = 100;
  int64_t beforeId = 0;  // paging: ids below this one
};

class DeliveryQueue {
 public:
  DeliveryQueue(IDatabase& database, const IClock& clock) : database_(database), clock_(clock) {}

  enum class EnqueueResult { kCreated, kUpdated, kUnchanged };
  // A new delivery, or for one that exists: delivered before and the study
  // has more instances now (or a report changed) → queued again as an
  // update; sending → marked to be sent again afterwards; waiting → looked
  // at again now (its accession number may have been fixed); otherwise kept.
  EnqueueResult Enqueue(const NewDelivery& delivery);

  std::optional<Delivery> Find(int64_t id);
  std::vector<Delivery> List(const DeliveryFilter& filter);
  std::vector<Delivery> ForStudy(const std::string& studyUid);

  // Deliveries due now (queued, retrying or waiting whose time has come),
  // oldest first, `limit` at most.
  std::vector<Delivery> Due(int64_t limit);
  // When the next one falls due (ms), if any.
  std::optional<int64_t> NextDueAtMs();
  // queued/retrying/waiting → sending, attempts + 1; false when another
  // claimed it first.
  bool Claim(int64_t id);
  // After a crash: sending → queued (what was sent is in the sent table).
  int64_t RequeueInterrupted();

  // State changes at the end of an attempt.
  void MarkDelivered(int64_t id, const std::string& note);
  void MarkRetrying(int64_t id, int64_t delayMs, const std::string& reason);
  void MarkWaiting(int64_t id, int64_t delayMs, const std::string& reason);
  void MarkFailed(int64_t id, const std::string& reason);
  // Not sent before `untilMs` (off-hours schedule): waiting with this
  // reason, attempts not counted; false when it is no longer pending.
  bool Postpone(int64_t id, int64_t untilMs, const std::string& reason);
  // Back to queued (Orthanc stopping mid-send), attempts not counted.
  void Release(int64_t id);
  void SetRemote(int64_t id, const std::string& remoteId, const std::string& remoteUrl);
  void SetReceived(int64_t id, int64_t instances);

  // What a delivery sent, by SOP Instance UID.
  std::set<std::string> SentInstances(int64_t id);
  void RecordSent(int64_t id, const std::vector<std::string>& sopInstanceUids, bool confirmed);

  // Staff: failed → queued (attempts reset); anything not delivered →
  // failed "cancelled by ...". False when the state forbids it.
  bool Resend(int64_t id);
  int64_t ResendFailed(const std::string& destination);
  bool Cancel(int64_t id, const std::string& by);
  // The study left Orthanc (deleted, or replaced when reconciliation attached
  // it to its order): what was still to send of it can never be sent, and is
  // closed as failed with that reason. Returns how many.
  int64_t CloseForDeletedStudy(const std::string& orthancId);
  // Waiting deliveries of this accession are looked at at once.
  int64_t WakeWaitingForAccession(const std::string& accession);
  int64_t WakeWaiting();
  // Waiting deliveries with an accession number not due yet: (id, accession).
  std::vector<std::pair<int64_t, std::string>> WaitingAccessions(int64_t limit);

  // Per destination: counts by state, delivered today, the oldest pending,
  // and how many studies a rule matched but did not send ("not_sent").
  Json::Value Summary(int64_t startOfTodaySeconds);
  // Counts by state over every destination.
  Json::Value Backlog();

  void RecordDecision(const std::string& studyUid, const std::string& rule, const std::string& destination,
                      const std::string& decision, const std::string& reason);
  // Newest first; every study when `studyUid` is empty. A decision is
  // dropped once the same rule sends the study there after all (consent
  // given later), so the list is what is withheld now.
  Json::Value Decisions(const std::string& studyUid, int limit);

 private:
  void SetState(int64_t id, const char* state, const std::string& reason, int64_t nextAttemptAtMs);

  IDatabase& database_;
  const IClock& clock_;
};

}  // namespace HospitalBridge
