#include "Orders/Order.h"

#include <algorithm>

#include "Common/Time.h"

namespace HospitalBridge {
namespace OrderStatus {

const std::vector<std::string>& All() {
  static const std::vector<std::string> all = {kScheduled, kArrived,   kInProgress,  kCompleted,
                                               kReported,  kCancelled, kDiscontinued};
  return all;
}

bool IsKnown(const std::string& status) {
  return std::find(All().begin(), All().end(), status) != All().end();
}

bool CanChange(const std::string& from, const std::string& to) {
  static const std::vector<std::pair<std::string, std::string>> allowed = {
      {kScheduled, kArrived},    {kScheduled, kInProgress},    {kScheduled, kCancelled},
      {kArrived, kInProgress},   {kArrived, kCancelled},       {kArrived, kScheduled},
      {kInProgress, kCompleted}, {kInProgress, kDiscontinued}, {kCompleted, kReported},
  };
  return std::find(allowed.begin(), allowed.end(), std::make_pair(from, to)) != allowed.end();
}

bool IsClosed(const std::string& status) { return status == kCancelled || status == kDiscontinued; }

std::string ToDicom(const std::string& status) {
  if (status == kScheduled) return "SCHEDULED";
  if (status == kArrived) return "ARRIVED";
  if (status == kInProgress) return "STARTED";
  if (status == kCompleted || status == kReported) return "COMPLETED";
  if (status == kCancelled) return "CANCELLED";
  return "DISCONTINUED";
}

}  // namespace OrderStatus

std::string Order::ScheduledStart() const {
  const std::string date = Time::DicomDateToIso(scheduledDate);
  const std::string time = Time::DicomTimeToIso(scheduledTime);
  if (date.empty()) return "";
  return date + "T" + (time.empty() ? "00:00:00" : time);
}

std::string Order::DicomPriority() const {
  if (priority == "stat") return "STAT";
  if (priority == "urgent") return "HIGH";
  return "ROUTINE";
}

Json::Value Order::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(id);
  json["accession_number"] = accession;
  json["study_uid"] = studyUid;
  json["status"] = status;
  json["status_reason"] = statusReason;
  Json::Value& patient = json["patient"];
  patient["patient_id"] = patientId;
  patient["issuer"] = issuer;
  patient["name"] = patientName;
  patient["birth_date"] = Time::DicomDateToIso(birthDate);
  patient["sex"] = sex;
  patient["national_id"] = nationalId;
  patient["registry_id"] = registryPatient;
  Json::Value& procedure = json["procedure"];
  procedure["code"] = procedureCode;
  procedure["scheme"] = procedureScheme;
  procedure["description"] = procedureDescription;
  json["modality"] = modality;
  json["station_aet"] = stationAet;
  json["station_name"] = stationName;
  json["location"] = location;
  json["scheduled_start"] = ScheduledStart();
  json["priority"] = priority;
  json["referring_physician"] = referringPhysician;
  json["reason"] = reason;
  json["notes"] = notes;
  json["source"] = source;
  json["placer_id"] = placerId;
  json["created_at"] = Time::FormatIsoUtc(createdAt);
  json["created_by"] = createdBy;
  json["updated_at"] = Time::FormatIsoUtc(updatedAt);
  return json;
}

Json::Value OrderHistoryEntry::ToJson() const {
  Json::Value json(Json::objectValue);
  json["at"] = Time::FormatIsoUtc(at);
  json["actor"] = actor;
  json["action"] = action;
  json["from_status"] = fromStatus;
  json["to_status"] = toStatus;
  json["detail"] = detail;
  return json;
}

Json::Value OrderStudyLink::ToJson() const {
  Json::Value json(Json::objectValue);
  json["orthanc_id"] = orthancId;
  json["study_uid"] = studyUid;
  json["order_id"] = static_cast<Json::Int64>(orderId);
  json["matched_by"] = matchedBy;
  json["linked_at"] = Time::FormatIsoUtc(linkedAt);
  return json;
}

Json::Value OrderMismatch::ToJson() const {
  Json::Value json(Json::objectValue);
  json["orthanc_id"] = orthancId;
  json["study_uid"] = studyUid;
  json["kind"] = kind;
  json["order_id"] = orderId > 0 ? Json::Value(static_cast<Json::Int64>(orderId)) : Json::Value();
  json["patient_id"] = patientId;
  json["patient_name"] = patientName;
  json["accession_number"] = accession;
  json["study_date"] = Time::DicomDateToIso(studyDate);
  Json::Value list(Json::arrayValue);
  size_t start = 0;
  while (start < modalities.size()) {
    size_t end = modalities.find('\\', start);
    if (end == std::string::npos) end = modalities.size();
    if (end > start) list.append(modalities.substr(start, end - start));
    start = end + 1;
  }
  json["modalities"] = list;
  json["description"] = description;
  json["detected_at"] = Time::FormatIsoUtc(detectedAt);
  json["resolved_at"] = Time::FormatIsoUtc(resolvedAt);
  json["resolved_by"] = resolvedBy;
  json["resolution"] = resolution;
  return json;
}

Json::Value OrderAttachment::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = static_cast<Json::Int64>(id);
  json["order_id"] = static_cast<Json::Int64>(orderId);
  json["source_orthanc_id"] = sourceOrthancId;
  json["source_study_uid"] = sourceStudyUid;
  json["source_instances"] = static_cast<Json::Int64>(sourceInstances);
  json["state"] = state;
  json["job_id"] = jobId;
  json["target_orthanc_id"] = targetOrthancId;
  json["requested_by"] = requestedBy;
  json["requested_at"] = Time::FormatIsoUtc(requestedAt);
  json["finished_at"] = Time::FormatIsoUtc(finishedAt);
  json["error"] = error;
  return json;
}

}  // namespace HospitalBridge
