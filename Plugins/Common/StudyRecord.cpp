#include "Common/StudyRecord.h"

#include <map>
#include <tuple>

#include "Common/Json.h"
#include "Common/Time.h"

namespace HospitalBridge {

Json::Value StudyRecord::ToJson() const {
  Json::Value json(Json::objectValue);
  json["study_uid"] = studyUid;
  json["orthanc_id"] = orthancId;
  json["patient_id"] = patientId;
  json["patient_name"] = patientName;
  json["patient_birth_date"] = Time::DicomDateToIso(patientBirthDate);
  json["patient_sex"] = patientSex;
  json["study_date"] = Time::DicomDateToIso(studyDate);
  json["study_time"] = Time::DicomTimeToIso(studyTime);
  json["description"] = description;
  json["accession_number"] = accessionNumber;
  json["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : modalities) json["modalities"].append(modality);
  json["series_count"] = static_cast<Json::Int64>(seriesCount);
  json["instance_count"] = static_cast<Json::Int64>(instanceCount);
  json["first_received"] = Time::FormatIsoUtc(firstReceived);
  json["last_received"] = Time::FormatIsoUtc(lastReceived);
  json["origin_site"] = originSite;
  json["restricted"]["federation"] = restrictedFederation;
  json["restricted"]["share"] = restrictedShare;

  // One entry per distinct sender, with how many series it sent.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int> senders;
  for (const StudySource& source : sources) senders[{source.origin, source.aet, source.ip, source.user}]++;
  json["sources"] = Json::Value(Json::arrayValue);
  for (const auto& [key, count] : senders) {
    Json::Value sender(Json::objectValue);
    sender["origin"] = std::get<0>(key);
    sender["aet"] = std::get<1>(key);
    sender["ip"] = std::get<2>(key);
    sender["user"] = std::get<3>(key);
    sender["series"] = count;
    json["sources"].append(sender);
  }
  return json;
}

std::string StudyRecord::SourcesToStorage() const {
  Json::Value list(Json::arrayValue);
  for (const StudySource& source : sources) {
    Json::Value item(Json::objectValue);
    item["series"] = source.seriesId;
    item["origin"] = source.origin;
    item["aet"] = source.aet;
    item["ip"] = source.ip;
    item["user"] = source.user;
    item["received"] = static_cast<Json::Int64>(source.received);
    item["instances"] = static_cast<Json::Int64>(source.instances);
    list.append(item);
  }
  return JsonText::Write(list);
}

std::vector<StudySource> StudyRecord::SourcesFromStorage(const std::string& text) {
  std::vector<StudySource> sources;
  Json::Value list;
  if (!JsonText::Parse(text, list) || !list.isArray()) return sources;
  for (const Json::Value& item : list) {
    if (!item.isObject()) continue;
    sources.push_back(StudySource{item.get("series", "").asString(), item.get("origin", "").asString(),
                                  item.get("aet", "").asString(), item.get("ip", "").asString(),
                                  item.get("user", "").asString(), item.get("received", 0).asInt64(),
                                  item.get("instances", 0).asInt64()});
  }
  return sources;
}

}  // namespace HospitalBridge
