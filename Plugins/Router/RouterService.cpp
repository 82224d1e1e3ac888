#include "Router/RouterService.h"

#include <algorithm>
#include <ctime>
#include <thread>
#include <vector>

#include "Common/AuditVocabulary.h"
#include "Common/Log.h"
#include "Common/Text.h"

namespace HospitalBridge {
RouterService::RouterService(const RouterSettings& settings, DeliveryQueue& queue, IOrthancRest& orthanc,
                             IHttpClient& http, IAuditSink& audit, const IClock& clock, IPeerClient* peers)
    : settings_(settings),
      queue_(queue),
      orthanc_(orthanc),
      http_(http),
      audit_(audit),
      clock_(clock),
      sleepMs_([](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }),
      random_(std::random_device()()) {
  random01_ = [this] {
    std::lock_guard<std::mutex> lock(randomMutex_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  };
  for (const RouterDestination& d : settings_.destinations) {
    TokenSource* tokens = nullptr;
    if (d.auth == DestinationAuth::kOAuth2) {
      tokens_[d.name] =
          std::make_unique<TokenSource>(http_, clock_, d, d.kind == DestinationKind::kSatusehat);
      tokens = tokens_[d.name].get();
    }
    switch (d.kind) {
      case DestinationKind::kDicom:
      case DestinationKind::kPeer:
        senders_[d.name] =
            std::make_unique<OrthancStoreSender>(orthanc_, peers, [this](int ms) { sleepMs_(ms); });
        break;
      case DestinationKind::kDicomWeb:
        senders_[d.name] = std::make_unique<DicomWebSender>(orthanc_, http_, tokens);
        break;
      case DestinationKind::kFhir:
        senders_[d.name] = std::make_unique<FhirSender>(orthanc_, http_, tokens, settings_.timeZoneOffset);
        break;
      case DestinationKind::kSatusehat:
        senders_[d.name] =
            std::make_unique<SatusehatSender>(orthanc_, http_, *tokens, settings_.timeZoneOffset);
        break;
    }
  }
}

const RouterRule* RouterService::Rule(const std::string& name) const {
  for (const RouterRule& rule : settings_.rules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

bool RouterService::HasOrder(const std::string& accession) const {
  if (Text::Trim(accession).empty()) return false;
  return orders_ ? orders_(Text::Trim(accession)) : true;
}

std::string RouterService::OrderReason(const RouterRule& rule, const std::string& accession) const {
  if (!rule.requireOrder || HasOrder(accession)) return "";
  return Text::Trim(accession).empty() ? "no accession number"
                                       : "no order for accession " + Text::Trim(accession);
}

void RouterService::Consume(StudyEventContext& context) {
  if (context.Event().kind == "deleted") {
    const int64_t closed = queue_.CloseForDeletedStudy(context.Event().orthancId);
    if (closed > 0)
      Log::Info("router: " + std::to_string(closed) + " pending deliveries of deleted study " +
                context.Event().orthancId + " closed");
    return;
  }
  if (!context.IsStable() || !context.Study()) return;
  Route(*context.Study(), context.Consent());
}

int RouterService::Route(const StudyRecord& study, const PatientConsent& consent) {
  StudyFacts facts;
  facts.modalities = study.modalities;
  for (const StudySource& source : study.sources) {
    if (!source.aet.empty()) facts.callingAets.push_back(source.aet);
  }
  facts.description = study.description;
  facts.accession = study.accessionNumber;
  bool institutionRead = false;
  int queued = 0;
  for (const RouterRule& rule : settings_.rules) {
    if (rule.trigger != RuleTrigger::kStudy) continue;
    if (!rule.institutions.empty() && !institutionRead) {
      Json::Value tags;
      if (orthanc_.GetJson("/studies/" + study.orthancId, tags))
        facts.institution = tags["MainDicomTags"].get("InstitutionName", "").asString();
      institutionRead = true;
    }
    if (!RuleSelects(rule, facts)) continue;
    for (const std::string& destination : rule.destinations) {
      if (!ConsentPermits(rule.consent, consent)) {
        const std::string reason =
            std::string("the patient's consent (") + RuleConsentName(rule.consent) + ") does not permit it";
        queue_.RecordDecision(study.studyUid, rule.name, destination, "not sent", reason);
        AuditEvent event = MakeAuditEvent("router.withheld", AuditActor::System("router"));
        event.studyUid = study.studyUid;
        event.orthancResource = "/studies/" + study.orthancId;
        event.detail["destination"] = destination;
        event.detail["rule"] = rule.name;
        event.detail["reason"] = reason;
        audit_.Record(event);
        Log::Info("router: study " + study.studyUid + " not sent to " + destination + ": " + reason);
        continue;
      }
      NewDelivery delivery;
      delivery.studyUid = study.studyUid;
      delivery.orthancId = study.orthancId;
      delivery.destination = destination;
      delivery.rule = rule.name;
      delivery.accession = Text::Trim(study.accessionNumber);
      delivery.patientName = study.patientName;
      delivery.instancesReceived = study.instanceCount;
      delivery.waitingReason = OrderReason(rule, study.accessionNumber);
      const DeliveryQueue::EnqueueResult result = queue_.Enqueue(delivery);
      if (result != DeliveryQueue::EnqueueResult::kUnchanged) queued++;
      Enqueued(result, delivery);
    }
  }
  return queued;
}

int RouterService::RouteReport(const RoutedReport& report, const StudyRecord& study,
                               const PatientConsent& consent) {
  int queued = 0;
  for (const RouterRule& rule : settings_.rules) {
    if (rule.trigger != RuleTrigger::kReport) continue;
    StudyFacts facts;
    facts.modalities = study.modalities;
    for (const StudySource& source : study.sources) facts.callingAets.push_back(source.aet);
    facts.description = study.description;
    facts.accession = study.accessionNumber;
    if (!RuleSelects(rule, facts)) continue;
    for (const std::string& destination : rule.destinations) {
      if (!ConsentPermits(rule.consent, consent)) {
        queue_.RecordDecision(
            study.studyUid, rule.name, destination, "not sent",
            std::string("the patient's consent (") + RuleConsentName(rule.consent) + ") does not permit it");
        continue;
      }
      NewDelivery delivery;
      delivery.studyUid = study.studyUid;
      delivery.orthancId = study.orthancId;
      delivery.destination = destination;
      delivery.trigger = "report:" + report.reportId;
      delivery.rule = rule.name;
      delivery.accession = Text::Trim(study.accessionNumber);
      delivery.patientName = study.patientName;
      delivery.payload = report.ToPayload();
      delivery.waitingReason = OrderReason(rule, study.accessionNumber);
      const DeliveryQueue::EnqueueResult result = queue_.Enqueue(delivery);
      if (result != DeliveryQueue::EnqueueResult::kUnchanged) queued++;
      Enqueued(result, delivery);
    }
  }
  return queued;
}

void RouterService::Enqueued(DeliveryQueue::EnqueueResult result, const NewDelivery& delivery) {
  if (result == DeliveryQueue::EnqueueResult::kUnchanged) return;
  Log::Info("router: study " + delivery.studyUid + " " +
            (result == DeliveryQueue::EnqueueResult::kCreated ? "queued" : "queued again (update)") +
            " for " + delivery.destination +
            (delivery.waitingReason.empty() ? "" : " (waiting: " + delivery.waitingReason + ")"));
  if (wake_) wake_();
}

void RouterService::OnOrderArrived(const std::string& accession) {
  try {
    if (queue_.WakeWaitingForAccession(Text::Trim(accession)) > 0 && wake_) wake_();
  } catch (const std::exception& e) {
    // The order is committed whatever happens here; the slower check of
    // waiting deliveries finds it.
    Log::Warning(std::string("router: waiting deliveries not woken for a new order: ") + e.what());
  }
}

void RouterService::WakeForNewOrders() {
  if (!orders_) return;
  const int64_t now = clock_.NowMs();
  if (now < nextOrderCheckMs_) return;
  nextOrderCheckMs_ = now + kOrderCheckMs;
  for (const auto& [id, accession] : queue_.WaitingAccessions(1000)) {
    if (woken_.count(id) != 0 || !orders_(accession)) continue;
    woken_.insert(id);
    queue_.WakeWaitingForAccession(accession);
  }
}

int RouterService::MinuteOfDay() const {
  const time_t now = static_cast<time_t>(clock_.NowSeconds());
  struct tm local {};
  localtime_r(&now, &local);
  return local.tm_hour * 60 + local.tm_min;
}

std::chrono::milliseconds RouterService::RunDue() {
  if (!recovered_.exchange(true)) {
    const int64_t resumed = queue_.RequeueInterrupted();
    if (resumed > 0) Log::Info("router: " + std::to_string(resumed) + " interrupted deliveries resume");
  }
  WakeForNewOrders();
  const std::vector<Delivery> due = queue_.Due(500);
  std::map<std::string, int> taken;
  std::vector<Delivery> claimed;
  const int minute = MinuteOfDay();
  for (const Delivery& delivery : due) {
    const RouterDestination* d = settings_.Destination(delivery.destination);
    const int limit = d != nullptr ? d->maxConcurrent : 1;
    if (d != nullptr && !InSchedule(d->sendFromMinute, d->sendUntilMinute, minute)) {
      // Waits, saying why and until when, for the window to open (the
      // start of the minute it opens; looked at again then).
      const int64_t minutes = (d->sendFromMinute - minute + 24 * 60) % (24 * 60);
      const int64_t opensAtMs = (clock_.NowMs() / 60000 + minutes) * 60000;
      queue_.Postpone(delivery.id, opensAtMs,
                      "outside the sending hours " + ScheduleText(d->sendFromMinute, d->sendUntilMinute));
      continue;
    }
    if (taken[delivery.destination] >= limit) continue;
    if (!queue_.Claim(delivery.id)) continue;
    taken[delivery.destination]++;
    claimed.push_back(delivery);
  }
  if (claimed.size() == 1) {
    Perform(claimed[0]);
  } else if (!claimed.empty()) {
    std::vector<std::thread> threads;
    threads.reserve(claimed.size());
    for (const Delivery& delivery : claimed) threads.emplace_back([this, delivery] { Perform(delivery); });
    for (std::thread& thread : threads) thread.join();
  }
  if (!claimed.empty()) return std::chrono::milliseconds(0);
  const std::optional<int64_t> next = queue_.NextDueAtMs();
  if (!next) return std::chrono::seconds(5);
  return std::chrono::milliseconds(
      std::clamp<int64_t>(*next - clock_.NowMs(), 10, orders_ ? kOrderCheckMs : 5000));
}

void RouterService::Perform(const Delivery& delivery) {
  const RouterDestination* destination = settings_.Destination(delivery.destination);
  auto sender = senders_.find(delivery.destination);
  if (destination == nullptr || sender == senders_.end()) {
    queue_.MarkFailed(delivery.id, "destination " + delivery.destination + " is no longer configured");
    return;
  }
  const RouterRule* rule = Rule(delivery.rule);
  std::string problemText;
  try {
    if (rule != nullptr) {
      const std::string waiting = OrderReason(*rule, delivery.accession);
      if (!waiting.empty()) throw DeliveryProblem::Wait(waiting);
    }
    DeliveryAttempt attempt{delivery, *destination, queue_, stopping_, queue_.SentInstances(delivery.id)};
    const std::string note = sender->second->Send(attempt);
    queue_.MarkDelivered(delivery.id, note);
    Log::Info("router: delivery #" + std::to_string(delivery.id) + " of study " + delivery.studyUid + " to " +
              delivery.destination + " delivered: " + note);
    Audit("router.delivered", delivery, "success", note);
    return;
  } catch (const DeliveryPaused&) {
    queue_.Release(delivery.id);
    Log::Info("router: delivery #" + std::to_string(delivery.id) + " paused: Orthanc is stopping");
    return;
  } catch (const DeliveryProblem& problem) {
    const std::string reason = Scrub(problem.what(), destination->secret);
    if (problem.GetKind() == DeliveryProblem::Kind::kWait) {
      queue_.MarkWaiting(delivery.id, static_cast<int64_t>(settings_.waitingRecheckSeconds) * 1000, reason);
      Log::Info("router: delivery #" + std::to_string(delivery.id) + " to " + delivery.destination +
                " waits: " + reason);
      return;
    }
    if (problem.GetKind() == DeliveryProblem::Kind::kFail) {
      queue_.MarkFailed(delivery.id, reason);
      Log::Warning("router: delivery #" + std::to_string(delivery.id) + " to " + delivery.destination +
                   " failed: " + reason);
      Audit("router.failed", delivery, "failure", reason);
      return;
    }
    problemText = reason;
  } catch (const std::exception& e) {
    // Orthanc unavailable, the database busy: another attempt later.
    problemText = Scrub(e.what(), destination->secret);
  }
  const int64_t attempts = delivery.attempts + 1;
  if (attempts >= settings_.maxAttempts) {
    const std::string reason = "gave up after " + std::to_string(attempts) + " attempts: " + problemText;
    queue_.MarkFailed(delivery.id, reason);
    Log::Warning("router: delivery #" + std::to_string(delivery.id) + " to " + delivery.destination +
                 " failed: " + reason);
    Audit("router.failed", delivery, "failure", reason);
    return;
  }
  const int64_t delay = BackoffMs(attempts, static_cast<int64_t>(settings_.retryMinSeconds) * 1000,
                                  static_cast<int64_t>(settings_.retryMaxSeconds) * 1000, random01_());
  queue_.MarkRetrying(delivery.id, delay, problemText);
  Log::Warning("router: delivery #" + std::to_string(delivery.id) + " to " + delivery.destination +
               " retries in " + std::to_string(delay / 1000) + " s: " + problemText);
}

void RouterService::Audit(const char* action, const Delivery& delivery, const std::string& outcome,
                          const std::string& detail) {
  AuditEvent event = MakeAuditEvent(action, AuditActor::System("router"), outcome);
  event.studyUid = delivery.studyUid;
  event.orthancResource = "/studies/" + delivery.orthancId;
  event.detail["delivery"] = static_cast<Json::Int64>(delivery.id);
  event.detail["destination"] = delivery.destination;
  event.detail["trigger"] = delivery.trigger;
  event.detail[outcome == "success" ? "result" : "reason"] = detail;
  audit_.Record(event);
}

Json::Value RouterService::DestinationsJson() const {
  Json::Value out(Json::arrayValue);
  for (const RouterDestination& d : settings_.destinations) {
    Json::Value item(Json::objectValue);
    item["name"] = d.name;
    item["type"] = DestinationKindName(d.kind);
    if (!d.target.empty()) item["target"] = d.target;
    if (!d.url.empty()) item["url"] = d.url;
    item["max_concurrent"] = d.maxConcurrent;
    item["scheduled"] = d.sendFromMinute >= 0;
    if (d.sendFromMinute >= 0) item["schedule"] = ScheduleText(d.sendFromMinute, d.sendUntilMinute);
    out.append(item);
  }
  return out;
}

}  // namespace HospitalBridge
