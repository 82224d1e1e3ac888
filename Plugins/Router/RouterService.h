#pragma once
// The router's rules and its sending loop. As a study-event consumer
// ("router", stage act) it matches each complete study against the rules and
// queues one delivery per (study, destination); a signed report is queued
// the same way. One thread (lease "router": one node sends) takes what is
// due, a few per destination at once, and sends it; each attempt ends
// delivered, retrying (with back-off), waiting (a precondition is missing,
// looked at again later and at once when the order arrives) or failed.
#include <json/json.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Common/OrthancRest.h"
#include "Common/PeerClient.h"
#include "Common/StudyEvents.h"
#include "Router/DeliveryQueue.h"
#include "Router/FhirSenders.h"
#include "Router/HttpClient.h"
#include "Router/RouterSettings.h"
#include "Router/Senders.h"

namespace HospitalBridge {

class RouterService : public IStudyEventConsumer {
 public:
  RouterService(const RouterSettings& settings, DeliveryQueue& queue, IOrthancRest& orthanc,
                IHttpClient& http, IAuditSink& audit, const IClock& clock, IPeerClient* peers = nullptr);

  const char* Name() const override { return "router"; }
  void Consume(StudyEventContext& context) override;

  // Matches a study against the study rules and queues what they select;
  // returns the deliveries created or queued again.
  int Route(const StudyRecord& study, const PatientConsent& consent);
  // A report was signed: queued for the report rules' destinations.
  int RouteReport(const RoutedReport& report, const StudyRecord& study, const PatientConsent& consent);
  // An order (accession number) arrived: its waiting deliveries go now.
  void OnOrderArrived(const std::string& accession);
  // Whether an order with this accession number exists (Orders module);
  // without it, "RequireOrder" holds when the study has an accession number.
  // With it, the sending thread also looks every kOrderCheckMs for orders
  // that arrived for waiting deliveries and sends those at once (the orders
  // module tells no one when an order arrives).
  void SetOrderLookup(std::function<bool(const std::string& accession)> lookup) {
    orders_ = std::move(lookup);
  }
  static constexpr int64_t kOrderCheckMs = 2000;
  // Called when there is new work (wakes the sending thread).
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  // Whether Orthanc is stopping (a long send pauses between batches).
  void SetStopping(std::function<bool()> stopping) { stopping_ = std::move(stopping); }
  // For tests: the sleep between polls of an Orthanc job.
  void SetSleep(std::function<void(int)> sleepMs) { sleepMs_ = std::move(sleepMs); }
  // For tests: a fixed jitter.
  void SetRandom(std::function<double()> random01) { random01_ = std::move(random01); }

  // One round: claims what is due (per destination at most MaxConcurrent)
  // and sends it; returns how long to wait before the next round.
  std::chrono::milliseconds RunDue();
  // Sends one delivery claimed by RunDue (or a test).
  void Perform(const Delivery& delivery);

  DeliveryQueue& Queue() { return queue_; }
  const RouterSettings& Settings() const { return settings_; }
  Json::Value DestinationsJson() const;

 private:
  bool HasOrder(const std::string& accession) const;
  std::string OrderReason(const RouterRule& rule, const std::string& accession) const;
  const RouterRule* Rule(const std::string& name) const;
  void Enqueued(DeliveryQueue::EnqueueResult result, const NewDelivery& delivery);
  void Audit(const char* action, const Delivery& delivery, const std::string& outcome,
             const std::string& detail);
  int MinuteOfDay() const;
  // Waiting deliveries whose order now exists are due now (each once).
  void WakeForNewOrders();

  const RouterSettings& settings_;
  DeliveryQueue& queue_;
  IOrthancRest& orthanc_;
  IHttpClient& http_;
  IAuditSink& audit_;
  const IClock& clock_;
  std::function<bool(const std::string&)> orders_;
  std::function<void()> wake_;
  std::function<bool()> stopping_;
  std::function<void(int)> sleepMs_;
  std::function<double()> random01_;
  std::map<std::string, std::unique_ptr<TokenSource>> tokens_;
  std::map<std::string, std::unique_ptr<IDestinationSender>> senders_;
  std::atomic<bool> recovered_{false};
  int64_t nextOrderCheckMs_ = 0;  // the sending thread's
  std::set<int64_t> woken_;       // deliveries woken for their order
  std::mutex randomMutex_;
  std::mt19937_64 random_;
};

}  // namespace HospitalBridge
