#pragma once
// The rules of orders: what a new order needs, which identifiers it gets
// (accession number, StudyInstanceUID), which status changes are allowed, and
// that every change leaves a history entry and an audit event committed with
// it (in the same transaction when the audit trail is on).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "Audit/AuditStore.h"
#include "Common/AuditVocabulary.h"
#include "Common/Clock.h"
#include "Common/Settings.h"
#include "Orders/OrderStore.h"
#include "Orders/OrdersSettings.h"
#include "Registry/PatientStore.h"

namespace HospitalBridge {

// What a caller may set when making or changing an order; absent fields keep
// their value (or default).
struct OrderDraft {
  std::optional<std::string> accession;
  std::optional<std::string> patientId, issuer, patientName, birthDate, sex, nationalId;
  std::optional<std::string> procedureCode, procedureScheme, procedureDescription;
  std::optional<std::string> modality, stationAet, stationName, location;
  std::optional<std::string> scheduledStart;  // ISO 8601, local time unless it carries a zone
  std::optional<std::string> priority, referringPhysician, reason, notes;
  std::string source = "rest";
  std::string placerId;
  std::string fhirResource;
};

struct CreatedOrder {
  Order order;
  std::vector<std::string> warnings;
};

class OrderService {
 public:
  OrderService(OrderStore& store, PatientStore* patients, AuditStore* audit, const SiteSettings& site,
               const OrdersSettings& settings, const IClock& clock);

  CreatedOrder Create(const OrderDraft& draft, const AuditActor& actor);
  // Reschedule, change station, procedure, priority, notes: while no image came.
  CreatedOrder Update(int64_t id, const OrderDraft& changes, const AuditActor& actor);
  Order Arrive(int64_t id, const AuditActor& actor);
  // Cancelled before images, discontinued after; `reason` is required.
  Order Cancel(int64_t id, const std::string& reason, const AuditActor& actor);
  Order Get(int64_t id);
  // Told of every new order once it is committed (on the caller's thread,
  // so it must be quick): the router wakes what waited for its accession.
  void OnCreated(std::function<void(const Order&)> listener) {
    createdListeners_.push_back(std::move(listener));
  }
  OrderStore& Store() { return store_; }
  const OrdersSettings& Settings() const { return settings_; }

  // Inside the caller's transaction: moves `order` to `to`, with its history
  // entry and audit event. Throws DomainError (conflict) when not allowed.
  void ChangeStatus(Transaction& transaction, Order& order, const std::string& to, const AuditActor& actor,
                    const Json::Value& detail = Json::Value(Json::objectValue),
                    const std::string& reason = "");
  // A history entry and an audit event for `order`, in `transaction`.
  void Record(Transaction& transaction, const Order& order, const std::string& action,
              const AuditActor& actor, const std::string& fromStatus, const Json::Value& detail,
              const std::string& studyUid = "", const std::string& outcome = "success");
  // An audit event of its own (when the audit trail is on).
  void Audit(AuditEvent event);

  // A new StudyInstanceUID: Orders.StudyUidRoot + time and randomness, or
  // 2.25. and a random (version 4) UUID as a decimal number.
  std::string MintStudyUid() const;
  // "2026-12-01T10:30[:00]" (local) or with "Z" / "+07:00" → DICOM DA and TM
  // in the server's local time, and the Unix time. False when malformed.
  static bool ParseScheduledStart(const std::string& text, std::string& da, std::string& tm, int64_t& unix);

 private:
  void Apply(const OrderDraft& draft, Order& order, std::vector<std::string>& warnings, bool creating);
  std::string NextAccession(Transaction& transaction, const std::string& scheduledDate);
  void LinkRegistryPatient(Order& order);

  OrderStore& store_;
  PatientStore* patients_;
  AuditStore* audit_;
  const SiteSettings& site_;
  const OrdersSettings& settings_;
  const IClock& clock_;
  std::vector<std::function<void(const Order&)>> createdListeners_;
};

// "order #12 (A0012)" for messages.
std::string DescribeOrder(const Order& order);

}  // namespace HospitalBridge
