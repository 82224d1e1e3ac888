#include "Index/StudyReader.h"

#include <algorithm>
#include <map>

#include "Common/Time.h"

namespace HospitalBridge {
namespace {
std::string Tag(const Json::Value& tags, const char* name) {
  const Json::Value& value = tags[name];
  return value.isString() ? value.asString() : "";
}
}  // namespace

StudySource StudyReader::ReadSource(const std::string& seriesId, const std::string& instanceId) {
  StudySource source;
  source.seriesId = seriesId;
  Json::Value metadata;
  if (!orthanc_.GetJson("/instances/" + instanceId + "/metadata?expand", metadata) || !metadata.isObject()) {
    return source;
  }
  source.origin = metadata.get("Origin", "").asString();
  source.aet = metadata.get("RemoteAET", "").asString();
  source.ip = metadata.get("RemoteIP", "").asString();
  source.user = metadata.get("HttpUsername", "").asString();
  source.received = Time::ParseOrthancTimestamp(metadata.get("ReceptionDate", "").asString());
  return source;
}

std::optional<StudyRecord> StudyReader::Read(const std::string& orthancId, const StudyRecord* previous) {
  Json::Value study;
  if (!orthanc_.GetJson("/studies/" + orthancId, study) || !study.isObject()) return std::nullopt;
  Json::Value series;
  if (!orthanc_.GetJson("/studies/" + orthancId + "/series", series) || !series.isArray())
    return std::nullopt;

  StudyRecord record;
  record.orthancId = orthancId;
  const Json::Value& tags = study["MainDicomTags"];
  const Json::Value& patient = study["PatientMainDicomTags"];
  record.studyUid = Tag(tags, "StudyInstanceUID");
  record.studyDate = Tag(tags, "StudyDate");
  record.studyTime = Tag(tags, "StudyTime");
  record.description = Tag(tags, "StudyDescription");
  record.accessionNumber = Tag(tags, "AccessionNumber");
  record.patientId = Tag(patient, "PatientID");
  record.patientName = Tag(patient, "PatientName");
  record.patientBirthDate = Tag(patient, "PatientBirthDate");
  record.patientSex = Tag(patient, "PatientSex");
  record.orthancLastUpdate = study.get("LastUpdate", "").asString();
  record.lastReceived = Time::ParseOrthancTimestamp(record.orthancLastUpdate);

  std::map<std::string, StudySource> known;
  if (previous != nullptr) {
    for (const StudySource& source : previous->sources) known[source.seriesId] = source;
  }
  for (const Json::Value& item : series) {
    if (!item.isObject()) continue;
    const std::string seriesId = item.get("ID", "").asString();
    const Json::Value& instances = item["Instances"];
    record.seriesCount++;
    record.instanceCount += instances.isArray() ? instances.size() : 0;
    std::string modality = Tag(item["MainDicomTags"], "Modality");
    if (!modality.empty() &&
        std::find(record.modalities.begin(), record.modalities.end(), modality) == record.modalities.end()) {
      record.modalities.push_back(modality);
    }
    auto found = known.find(seriesId);
    if (found != known.end()) {
      record.sources.push_back(found->second);
    } else if (instances.isArray() && instances.size() > 0) {
      record.sources.push_back(ReadSource(seriesId, instances[0].asString()));
    } else {
      continue;
    }
    record.sources.back().instances = instances.isArray() ? instances.size() : 0;
  }
  std::sort(record.modalities.begin(), record.modalities.end());

  for (const StudySource& source : record.sources) {
    if (source.received > 0 && (record.firstReceived == 0 || source.received < record.firstReceived)) {
      record.firstReceived = source.received;
    }
  }
  if (record.firstReceived == 0) record.firstReceived = record.lastReceived;
  if (previous != nullptr && previous->firstReceived > 0) {
    record.firstReceived = std::min(record.firstReceived, previous->firstReceived);
  }
  return record;
}

std::vector<ListedStudy> StudyReader::ListAll(int pageSize) {
  std::vector<ListedStudy> studies;
  for (int since = 0;; since += pageSize) {
    Json::Value page;
    if (!orthanc_.GetJson(
            "/studies?expand&since=" + std::to_string(since) + "&limit=" + std::to_string(pageSize), page) ||
        !page.isArray()) {
      throw OrthancUnavailable("Orthanc did not list its studies");
    }
    for (const Json::Value& study : page) {
      studies.push_back(ListedStudy{study.get("ID", "").asString(), study.get("LastUpdate", "").asString(),
                                    study.get("IsStable", false).asBool()});
    }
    if (static_cast<int>(page.size()) < pageSize) break;
  }
  return studies;
}

}  // namespace HospitalBridge
