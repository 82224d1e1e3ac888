#include "Orders/WorklistService.h"

#include "Common/AuditVocabulary.h"
#include "Common/Errors.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
bool IsPlain(const std::string& value) {
  return !value.empty() && value != "*" && value.find_first_of("*?\\") == std::string::npos;
}

std::string Key(const DicomItem& item, const char* tag) {
  auto found = item.find(tag);
  return found == item.end() ? "" : found->second;
}

void AddModality(const Json::Value& modality, std::set<std::string>& allowed) {
  if (modality.isArray() && modality.size() >= 1 && modality[0].isString()) {
    allowed.insert(Text::Trim(modality[0].asString()));  // [AET, host, port]: every command allowed
  } else if (modality.isObject() && modality.get("AET", "").isString()) {
    const Json::Value& flag = modality.get("AllowFindWorklist", true);
    if (!flag.isBool() || flag.asBool()) allowed.insert(Text::Trim(modality["AET"].asString()));
  }
}
}  // namespace

void WorklistCallers::Load(const Json::Value& modalities) {
  std::set<std::string> allowed;
  if (modalities.isObject()) {
    for (const std::string& name : modalities.getMemberNames()) AddModality(modalities[name], allowed);
  } else if (modalities.isArray()) {
    for (const Json::Value& modality : modalities) AddModality(modality, allowed);
  }
  allowed.erase("");
  std::lock_guard<std::mutex> lock(mutex_);
  allowed_ = allowed;
}

bool WorklistCallers::Allows(const std::string& aet) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return allowed_.count(Text::Trim(aet)) > 0;
}

std::vector<std::string> WorklistCallers::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::vector<std::string>(allowed_.begin(), allowed_.end());
}

WorklistPrefilter PrefilterOf(const WorklistQuery& query, const std::vector<std::string>& statuses) {
  WorklistPrefilter filter;
  filter.statuses = statuses;
  const std::string date = Key(query.stepKeys, "0040,0002");
  if (query.stepPresent && !date.empty() && date != "*") {
    const size_t dash = date.find('-');
    filter.fromDate = dash == std::string::npos ? date : date.substr(0, dash);
    filter.toDate = dash == std::string::npos ? date : date.substr(dash + 1);
  }
  if (query.stepPresent) {
    if (IsPlain(Key(query.stepKeys, "0008,0060"))) filter.modality = Key(query.stepKeys, "0008,0060");
    if (IsPlain(Key(query.stepKeys, "0040,0001"))) filter.stationAet = Key(query.stepKeys, "0040,0001");
  }
  if (IsPlain(Key(query.keys, "0008,0050"))) filter.accession = Key(query.keys, "0008,0050");
  if (IsPlain(Key(query.keys, "0010,0020"))) filter.patientId = Key(query.keys, "0010,0020");
  const std::string uids = Key(query.keys, "0020,000D");
  if (!uids.empty() && uids.find_first_of("*?") == std::string::npos) {
    size_t start = 0;
    while (start <= uids.size()) {
      size_t end = uids.find('\\', start);
      if (end == std::string::npos) end = uids.size();
      const std::string uid = Text::Trim(uids.substr(start, end - start));
      if (!uid.empty()) filter.studyUids.push_back(uid);
      start = end + 1;
    }
  }
  return filter;
}

WorklistService::WorklistService(OrderStore& store, const WorklistSettings& settings, IAuditSink& audit,
                                 const IClock& clock)
    : store_(store), settings_(settings), audit_(audit), clock_(clock) {
  callers_.Load(settings.configuredModalities);
}

void WorklistService::Refuse(const std::string& callingAet, const std::string& calledAet) {
  const int64_t now = clock_.NowSeconds();
  bool audit = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refused_++;
    int64_t& last = lastRefusal_[callingAet];
    // A modality polling every few seconds is audited once a minute.
    if (last == 0 || now - last >= 60) {
      last = now;
      audit = true;
    }
    if (lastRefusal_.size() > 1000) lastRefusal_.clear();
  }
  if (audit) {
    AuditEvent event = MakeAuditEvent("worklist.refused", AuditActor::DicomSender(callingAet, ""), "denied");
    event.detail["calling_aet"] = callingAet;
    event.detail["called_aet"] = calledAet;
    event.detail["reason"] = "not in Orthanc's DicomModalities with AllowFindWorklist";
    audit_.Record(event);
  }
  Log::Warning("refused a worklist query from the unknown calling AE title \"" +
               Text::EscapeForLog(callingAet) + "\" (add it to Orthanc's DicomModalities)");
  throw DomainError::Forbidden("Calling AE title not allowed", callingAet);
}

WorklistAnswers WorklistService::Answer(const Json::Value& full, const std::string& callingAet,
                                        const std::string& calledAet) {
  if (!settings_.allowUnlistedCallingAets && !callers_.Allows(callingAet)) Refuse(callingAet, calledAet);
  WorklistQuery query;
  try {
    query = ParseWorklistQuery(full);
  } catch (const DomainError&) {
    std::lock_guard<std::mutex> lock(mutex_);
    failed_++;
    throw;
  }
  WorklistPrefilter filter = PrefilterOf(query, settings_.statuses);
  filter.limit = 100000;
  WorklistAnswers result;
  for (const Order& order : store_.WorklistCandidates(filter)) {
    const WorklistItem item = WorklistItemOf(order);
    if (!Matches(query, item, settings_.casesensitivePn)) continue;
    if (static_cast<int>(result.answers.size()) >= settings_.maxAnswers) {
      result.incomplete = true;
      break;
    }
    result.answers.push_back(WorklistAnswerJson(item, settings_.answerEncoding));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  queries_++;
  lastQueryMs_ = clock_.NowMs();
  return result;
}

Json::Value WorklistService::Status() const {
  Json::Value status(Json::objectValue);
  std::lock_guard<std::mutex> lock(mutex_);
  status["queries"] = static_cast<Json::Int64>(queries_);
  status["refused"] = static_cast<Json::Int64>(refused_);
  status["malformed"] = static_cast<Json::Int64>(failed_);
  status["last_query"] = Time::FormatIsoUtcMilliseconds(lastQueryMs_);
  return status;
}

}  // namespace HospitalBridge
