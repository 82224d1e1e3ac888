#pragma once
// One imaging order (a service request) and the procedure step it schedules:
// who, what, where, when, and how far it got.
#include <json/json.h>

#include <cstdint>
#include <string>
#include <vector>

namespace HospitalBridge {

// The procedure step's life: scheduled → arrived (checked in) → in-progress
// (first image) → completed (study stable) → reported (later); cancelled
// (before images) and discontinued (after) end it with a reason.
namespace OrderStatus {
constexpr const char* kScheduled = "scheduled";
constexpr const char* kArrived = "arrived";
constexpr const char* kInProgress = "in-progress";
constexpr const char* kCompleted = "completed";
constexpr const char* kReported = "reported";
constexpr const char* kCancelled = "cancelled";
constexpr const char* kDiscontinued = "discontinued";

const std::vector<std::string>& All();
bool IsKnown(const std::string& status);
// Whether `from` may become `to`.
bool CanChange(const std::string& from, const std::string& to);
// Cancelled or discontinued: no images are expected any more.
bool IsClosed(const std::string& status);
// DICOM ScheduledProcedureStepStatus (SCHEDULED, ARRIVED, STARTED, ...).
std::string ToDicom(const std::string& status);
}  // namespace OrderStatus

struct Order {
  int64_t id = 0;
  std::string accession;
  std::string studyUid;
  std::string registryPatient;
  std::string nationalId;
  std::string patientId;
  std::string issuer;
  std::string patientName;  // DICOM PN
  std::string birthDate;    // DICOM DA
  std::string sex;
  std::string procedureCode;
  std::string procedureScheme;
  std::string procedureDescription;
  std::string modality;
  std::string stationAet;
  std::string stationName;
  std::string location;
  std::string scheduledDate;  // DICOM DA, local time
  std::string scheduledTime;  // DICOM TM HHMMSS, local time
  std::string priority = "routine";
  std::string referringPhysician;  // DICOM PN
  std::string reason;
  std::string notes;
  std::string status = OrderStatus::kScheduled;
  std::string statusReason;
  std::string source = "rest";
  std::string placerId;
  std::string fhirResource;
  int64_t createdAt = 0;
  std::string createdBy;
  int64_t updatedAt = 0;

  // "2026-12-01T10:30:00" (local, no zone).
  std::string ScheduledStart() const;
  // The RequestedProcedureID and ScheduledProcedureStepID the worklist gives.
  std::string ProcedureId() const { return accession; }
  std::string StepId() const { return accession + "-1"; }
  // DICOM RequestedProcedurePriority: STAT, HIGH, ROUTINE.
  std::string DicomPriority() const;
  Json::Value ToJson() const;
};

struct OrderHistoryEntry {
  int64_t at = 0;
  std::string actor;
  std::string action;
  std::string fromStatus;
  std::string toStatus;
  Json::Value detail = Json::Value(Json::objectValue);
  Json::Value ToJson() const;
};

struct OrderStudyLink {
  std::string orthancId;
  std::string studyUid;
  int64_t orderId = 0;
  std::string matchedBy;
  int64_t linkedAt = 0;
  Json::Value ToJson() const;
};

// A study that arrived without a matching order (the reconciliation list).
struct OrderMismatch {
  std::string orthancId;
  std::string studyUid;
  std::string kind;  // no-order | no-accession | order-cancelled | patient-differs
  int64_t orderId = 0;
  std::string patientId;
  std::string patientName;
  std::string accession;
  std::string studyDate;
  std::string modalities;  // "CT\MR"
  std::string description;
  int64_t detectedAt = 0;
  int64_t resolvedAt = 0;
  std::string resolvedBy;
  std::string resolution;
  Json::Value ToJson() const;
};

// Staff attached a study to an order; the copy in Orthanc is made step by step.
struct OrderAttachment {
  int64_t id = 0;
  int64_t orderId = 0;
  std::string sourceOrthancId;
  std::string sourceStudyUid;
  int64_t sourceInstances = 0;
  std::string state;  // pending | copying | verifying | done | failed
  std::string jobId;
  std::string targetOrthancId;
  std::string requestedBy;
  std::string requestedAddress;
  int64_t requestedAt = 0;
  int64_t finishedAt = 0;
  std::string error;
  Json::Value ToJson() const;
};

}  // namespace HospitalBridge
