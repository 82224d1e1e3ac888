#pragma once
// Answers a modality's worklist C-FIND from the orders: who may ask (the
// calling AE titles of Orthanc's DicomModalities that allow worklist
// queries), SQL narrowing, then the matching rules of WorklistMatching, at
// most MaxAnswers. Runs on Orthanc's DICOM thread: reads SQLite only, never
// Orthanc's REST API.
#include <json/json.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "Common/AuditSink.h"
#include "Common/Clock.h"
#include "Orders/OrderStore.h"
#include "Orders/OrdersSettings.h"
#include "Orders/WorklistMatching.h"

namespace HospitalBridge {

// The AE titles that may ask for the worklist, from Orthanc's modalities in
// any of their forms: orthanc.json's DicomModalities (objects or
// [AET, host, port] lists) and GET /modalities?expand.
class WorklistCallers {
 public:
  void Load(const Json::Value& modalities);
  bool Allows(const std::string& aet) const;
  std::vector<std::string> List() const;

 private:
  mutable std::mutex mutex_;
  std::set<std::string> allowed_;
};

struct WorklistAnswers {
  std::vector<Json::Value> answers;  // for Orthanc's DICOM writer (WorklistAnswerJson)
  bool incomplete = false;           // more matched than MaxAnswers
};

class WorklistService {
 public:
  WorklistService(OrderStore& store, const WorklistSettings& settings, IAuditSink& audit,
                  const IClock& clock);

  // `query`: Orthanc's Full JSON of the C-FIND identifier. Throws DomainError:
  // forbidden (caller refused, audited) or invalid (malformed query).
  WorklistAnswers Answer(const Json::Value& query, const std::string& callingAet,
                         const std::string& calledAet);
  WorklistCallers& Callers() { return callers_; }
  Json::Value Status() const;

 private:
  void Refuse(const std::string& callingAet, const std::string& calledAet);

  OrderStore& store_;
  const WorklistSettings& settings_;
  IAuditSink& audit_;
  const IClock& clock_;
  WorklistCallers callers_;
  mutable std::mutex mutex_;
  std::map<std::string, int64_t> lastRefusal_;  // AE title → when its refusal was last audited
  int64_t queries_ = 0;
  int64_t refused_ = 0;
  int64_t failed_ = 0;
  int64_t lastQueryMs_ = 0;
};

// What SQL can narrow for `query` (exact values, the date range).
WorklistPrefilter PrefilterOf(const WorklistQuery& query, const std::vector<std::string>& statuses);

}  // namespace HospitalBridge
