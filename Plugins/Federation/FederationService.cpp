#include "Federation/FederationService.h"

#include <algorithm>
#include <map>
#include <thread>

#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const int kMaxStudiesPerPatient = 1000;

std::string Text(const Json::Value& object, const char* field, size_t maxLength = 256) {
  const Json::Value& value = object[field];
  if (!value.isString()) return "";
  std::string text = value.asString();
  return text.size() > maxLength ? text.substr(0, maxLength) : text;
}

Json::Int64 Count(const Json::Value& object, const char* field) {
  const Json::Value& value = object[field];
  return value.isIntegral() && !value.isBool() ? value.asInt64() : 0;
}

Json::Value SiteRef(const std::string& id, const std::string& name) {
  Json::Value ref(Json::objectValue);
  ref["id"] = id;
  ref["name"] = name;
  return ref;
}

Json::Value SiteStatus(const std::string& id, const std::string& name, const std::string& status,
                       int64_t latencyMs, int count, const std::string& detail) {
  Json::Value entry = SiteRef(id, name);
  entry["status"] = status;
  entry["latency_ms"] = static_cast<Json::Int64>(latencyMs);
  entry["count"] = count;
  entry["detail"] = detail;
  return entry;
}
}  // namespace

std::string UrlEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Json::Value StudySummaryForPeers(const StudyRecord& study) {
  Json::Value json(Json::objectValue);
  json["study_uid"] = study.studyUid;
  json["date"] = Time::DicomDateToIso(study.studyDate);
  json["time"] = Time::DicomTimeToIso(study.studyTime);
  json["modality"] = study.modalities.empty() ? "" : study.modalities.front();
  json["modalities"] = Json::Value(Json::arrayValue);
  for (const std::string& modality : study.modalities) json["modalities"].append(modality);
  json["description"] = study.description;
  json["accession_number"] = study.accessionNumber;
  json["series_count"] = static_cast<Json::Int64>(study.seriesCount);
  json["instance_count"] = static_cast<Json::Int64>(study.instanceCount);
  return json;
}

FederationService::FederationService(const SiteSettings& site, const FederationSettings& settings,
                                     SiteStore& sites, PatientStore& patients, StudyIndexStore& studies,
                                     IPeerClient& peers)
    : site_(site),
      settings_(settings),
      sites_(sites),
      patients_(patients),
      studies_(studies),
      peers_(peers) {}

bool FederationService::MayLeaveThisSite(const Patient& patient) const {
  // A patient whose federation consent denies it, or lacks it under opt-in,
  // is left out.
  return !patient.nationalId.empty() && patient.mergedInto.empty() &&
         (!consentCheck_ || consentCheck_(patient.id));
}

bool FederationService::VisibleToPeers(const StudyRecord& study) {
  std::optional<Patient> patient = patients_.FindByIdentifier(site_.siteId, study.patientId);
  return patient && MayLeaveThisSite(*patient);
}

std::vector<StudyRecord> FederationService::LocalStudies(const Patient& patient) {
  std::vector<StudyRecord> found;
  for (const PatientIdentifier& identifier : patient.identifiers) {
    if (identifier.siteId != site_.siteId) continue;
    StudyFilter filter;
    filter.patientId = identifier.localId;
    filter.limit = kMaxStudiesPerPatient;
    StudyPage page = studies_.Search(filter);
    found.insert(found.end(), page.studies.begin(), page.studies.end());
  }
  return found;
}

Json::Value FederationService::AnswerPeer(const std::string& nationalId) {
  Json::Value answer(Json::objectValue);
  answer["site"] = SiteRef(site_.siteId, site_.siteName);
  answer["patient"] = Json::nullValue;
  answer["studies"] = Json::Value(Json::arrayValue);
  std::optional<Patient> patient = patients_.FindByNationalId(nationalId);
  if (!patient || !MayLeaveThisSite(*patient)) return answer;
  Json::Value& who = answer["patient"];
  who["national_id"] = patient->nationalId;
  who["first_name"] = patient->firstName;
  who["last_name"] = patient->lastName;
  who["date_of_birth"] = Time::DicomDateToIso(patient->birthDate);
  who["gender"] = patient->sex;
  for (const StudyRecord& study : LocalStudies(*patient))
    answer["studies"].append(StudySummaryForPeers(study));
  return answer;
}

FederationService::PeerResult FederationService::InterpretPeerAnswer(const Site& site,
                                                                     const PeerAnswer& answer) const {
  PeerResult result;
  auto status = [&](const std::string& code, const std::string& detail) {
    return SiteStatus(site.id, site.name, code, answer.elapsedMs, static_cast<int>(result.studies.size()),
                      detail);
  };
  if (!answer.reached) {
    bool timedOut = answer.elapsedMs >= settings_.peerTimeoutMs * 9 / 10;
    result.status = status(timedOut ? "timeout" : "error",
                           timedOut ? "no answer within " + std::to_string(settings_.peerTimeoutMs) + " ms"
                                    : "the site could not be reached (" + answer.error + ")");
    return result;
  }
  if (answer.httpStatus == 401 || answer.httpStatus == 403) {
    result.status = status("unauthorized", "the site refused this site's credentials");
    return result;
  }
  if (answer.httpStatus != 200) {
    result.status = status("error", "the site answered HTTP " + std::to_string(answer.httpStatus));
    return result;
  }
  if (answer.body.size() > settings_.maxAnswerBytes) {
    result.status = status("error", "the answer is larger than Federation.MaxAnswerKilobytes");
    return result;
  }
  Json::Value body;
  if (!JsonText::Parse(answer.body, body) || !body.isObject() || !body["studies"].isArray()) {
    result.status = status("error", "the answer is not a federation answer");
    return result;
  }
  if (body["patient"].isObject()) {
    result.patient = Json::Value(Json::objectValue);
    for (const char* field : {"national_id", "first_name", "last_name", "date_of_birth", "gender"}) {
      result.patient[field] = Text(body["patient"], field, 128);
    }
  }
  for (const Json::Value& study : body["studies"]) {
    if (!study.isObject() || Text(study, "study_uid").empty()) continue;
    Json::Value clean(Json::objectValue);
    for (const char* field : {"study_uid", "date", "time", "modality", "description", "accession_number"}) {
      clean[field] = Text(study, field);
    }
    clean["modalities"] = Json::Value(Json::arrayValue);
    if (study["modalities"].isArray()) {
      for (const Json::Value& modality : study["modalities"]) {
        if (modality.isString()) clean["modalities"].append(modality.asString().substr(0, 16));
      }
    }
    clean["series_count"] = Count(study, "series_count");
    clean["instance_count"] = Count(study, "instance_count");
    result.studies.push_back(clean);
  }
  result.status = status("ok", "");
  return result;
}

Json::Value FederationService::Query(const std::string& nationalId, const std::optional<Patient>& patient) {
  int64_t started = Time::NowMilliseconds();
  // Ask every peer first, so they work while the local part is read.
  std::vector<Site> remote;
  for (const Site& site : sites_.List()) {
    if (!site.orthancPeer.empty() && site.id != site_.siteId) remote.push_back(site);
  }
  std::vector<PeerAnswer> answers(remote.size());
  std::vector<std::thread> threads;
  // Joins on every path: a thread left running when an exception leaves this
  // function would end the whole Orthanc process.
  struct JoinAll {
    std::vector<std::thread>& threads;
    ~JoinAll() {
      for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } joinAll{threads};
  const std::string uri = "/bridge/federation/v1/studies?national_id=" + UrlEncode(nationalId);
  if (!nationalId.empty()) {
    for (size_t i = 0; i < remote.size(); i++) {
      threads.emplace_back([this, &remote, &answers, &uri, i] {
        try {
          answers[i] = peers_.Get(remote[i].orthancPeer, uri, settings_.peerTimeoutMs);
        } catch (const std::exception& e) {
          answers[i].error = e.what();
        }
      });
    }
  }

  // Merged by StudyInstanceUID: a study held at several sites appears once.
  std::map<std::string, Json::Value> merged;
  auto add = [&merged](Json::Value study, const std::string& siteId, const std::string& siteName,
                       bool local) {
    const std::string uid = study["study_uid"].asString();
    auto found = merged.find(uid);
    if (found == merged.end()) {
      study["site_id"] = siteId;
      study["site_name"] = siteName;
      study["sites"] = Json::Value(Json::arrayValue);
      study["sites"].append(SiteRef(siteId, siteName));
      study["local"] = local;
      merged[uid] = study;
    } else {
      found->second["sites"].append(SiteRef(siteId, siteName));
      found->second["local"] = found->second["local"].asBool() || local;
    }
  };

  int64_t localStarted = Time::NowMilliseconds();
  int localCount = 0;
  std::optional<Patient> resolved = patient ? patient : patients_.FindByNationalId(nationalId);
  if (resolved) {
    for (const StudyRecord& study : LocalStudies(*resolved)) {
      add(StudySummaryForPeers(study), site_.siteId, site_.siteName, true);
      localCount++;
    }
  }
  Json::Value statuses(Json::arrayValue);
  statuses.append(
      SiteStatus(site_.siteId, site_.siteName, "ok", Time::NowMilliseconds() - localStarted, localCount, ""));
  int accessed = 1;

  for (std::thread& thread : threads) thread.join();
  Json::Value peerPatient;
  for (size_t i = 0; i < remote.size(); i++) {
    if (nationalId.empty()) {
      statuses.append(SiteStatus(remote[i].id, remote[i].name, "error", 0, 0,
                                 "this patient has no national ID: only this site can be searched"));
      continue;
    }
    PeerResult result = InterpretPeerAnswer(remote[i], answers[i]);
    for (const Json::Value& study : result.studies) add(study, remote[i].id, remote[i].name, false);
    if (peerPatient.isNull() && result.patient.isObject()) {
      peerPatient = result.patient;
      peerPatient["source_site"] = remote[i].id;
    }
    if (result.status["status"].asString() == "ok") accessed++;
    statuses.append(result.status);
    Log::Info("federation query for a patient: site " + remote[i].id + " " +
              result.status["status"].asString() + " in " + std::to_string(answers[i].elapsedMs) + " ms");
  }

  std::vector<Json::Value> studies;
  for (auto& entry : merged) studies.push_back(entry.second);
  std::sort(studies.begin(), studies.end(), [](const Json::Value& a, const Json::Value& b) {
    std::string left = a["date"].asString() + a["time"].asString();
    std::string right = b["date"].asString() + b["time"].asString();
    if (left != right) return left > right;
    return a["study_uid"].asString() < b["study_uid"].asString();
  });

  Json::Value answer(Json::objectValue);
  if (resolved) {
    Json::Value& who = answer["patient"];
    who["id"] = resolved->id;
    who["name"] = resolved->DisplayName();
    who["national_id"] = resolved->nationalId;
    who["first_name"] = resolved->firstName;
    who["last_name"] = resolved->lastName;
    who["date_of_birth"] = Time::DicomDateToIso(resolved->birthDate);
    who["gender"] = resolved->sex;
  } else if (!peerPatient.isNull()) {
    // Not registered here: show who the first answering site says it is.
    Json::Value& who = answer["patient"];
    who = peerPatient;
    who["id"] = "";
    std::string last = peerPatient["last_name"].asString();
    std::string first = peerPatient["first_name"].asString();
    who["name"] = last.empty() || first.empty() ? last + first : last + ", " + first;
  } else {
    answer["patient"] = Json::nullValue;
  }
  answer["studies"] = Json::Value(Json::arrayValue);
  for (const Json::Value& study : studies) answer["studies"].append(study);
  answer["total_studies"] = static_cast<Json::UInt64>(studies.size());
  answer["hospitals_accessed"] = accessed;
  answer["sites"] = statuses;
  answer["elapsed_ms"] = static_cast<Json::Int64>(Time::NowMilliseconds() - started);
  return answer;
}

}  // namespace HospitalBridge
