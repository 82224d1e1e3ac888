#include "Router/Senders.h"

#include <algorithm>
#include <future>
#include <map>

#include "Common/Crypto.h"
#include "Common/Json.h"
#include "Common/Log.h"

namespace HospitalBridge {
namespace {
std::string Tag(const Json::Value& resource, const char* name) {
  return resource["MainDicomTags"].get(name, "").asString();
}

int64_t Number(const std::string& text) {
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (const std::exception&) {
    return 0;
  }
}

// The SOP Instance UIDs of a DICOM JSON sequence (00081199, 00081198).
std::vector<std::string> SopsOf(const Json::Value& answer, const char* sequence,
                                std::vector<std::string>* reasons) {
  std::vector<std::string> sops;
  const Json::Value& items = answer[sequence]["Value"];
  if (!items.isArray()) return sops;
  for (const Json::Value& item : items) {
    const Json::Value& sop = item["00081155"]["Value"];
    if (sop.isArray() && !sop.empty() && sop[0].isString()) sops.push_back(sop[0].asString());
    if (reasons != nullptr) {
      const Json::Value& reason = item["00081197"]["Value"];
      reasons->push_back(reason.isArray() && !reason.empty() ? JsonText::Write(reason[0]) : "?");
    }
  }
  return sops;
}
}  // namespace

size_t StudyContent::InstanceCount() const {
  size_t count = 0;
  for (const SeriesContent& s : series) count += s.instances.size();
  return count;
}

std::vector<std::string> StudyContent::Modalities() const {
  std::vector<std::string> out;
  for (const SeriesContent& s : series) {
    if (!s.modality.empty() && std::find(out.begin(), out.end(), s.modality) == out.end())
      out.push_back(s.modality);
  }
  return out;
}

std::vector<const InstanceContent*> StudyContent::Missing(const std::set<std::string>& sent) const {
  std::vector<const InstanceContent*> out;
  for (const SeriesContent& s : series) {
    for (const InstanceContent& i : s.instances) {
      if (sent.count(i.sopInstanceUid) == 0) out.push_back(&i);
    }
  }
  return out;
}

StudyContent ReadStudyContent(IOrthancRest& orthanc, const std::string& orthancId, bool withSopClasses) {
  StudyContent content;
  Json::Value study;
  if (!orthanc.GetJson("/studies/" + orthancId, study))
    throw DeliveryProblem::Fail("the study is no longer in Orthanc");
  content.orthancId = orthancId;
  content.studyUid = Tag(study, "StudyInstanceUID");
  content.accession = Tag(study, "AccessionNumber");
  content.description = Tag(study, "StudyDescription");
  content.studyDate = Tag(study, "StudyDate");
  content.studyTime = Tag(study, "StudyTime");
  content.institution = Tag(study, "InstitutionName");
  const Json::Value& patient = study["PatientMainDicomTags"];
  content.patientId = patient.get("PatientID", "").asString();
  content.patientName = patient.get("PatientName", "").asString();
  content.patientBirthDate = patient.get("PatientBirthDate", "").asString();
  content.patientSex = patient.get("PatientSex", "").asString();

  Json::Value series;
  if (!orthanc.GetJson("/studies/" + orthancId + "/series", series) || !series.isArray())
    throw DeliveryProblem::Fail("the study is no longer in Orthanc");
  std::map<std::string, size_t> seriesIndex;
  for (const Json::Value& s : series) {
    SeriesContent item;
    item.orthancId = s.get("ID", "").asString();
    item.seriesUid = Tag(s, "SeriesInstanceUID");
    item.modality = Tag(s, "Modality");
    item.description = Tag(s, "SeriesDescription");
    item.bodyPart = Tag(s, "BodyPartExamined");
    item.number = Number(Tag(s, "SeriesNumber"));
    seriesIndex[item.orthancId] = content.series.size();
    content.series.push_back(item);
  }
  Json::Value instances;
  if (!orthanc.GetJson("/studies/" + orthancId + "/instances", instances) || !instances.isArray())
    throw DeliveryProblem::Fail("the study is no longer in Orthanc");
  for (const Json::Value& i : instances) {
    auto at = seriesIndex.find(i.get("ParentSeries", "").asString());
    if (at == seriesIndex.end()) continue;
    InstanceContent item;
    item.orthancId = i.get("ID", "").asString();
    item.sopInstanceUid = Tag(i, "SOPInstanceUID");
    item.number = Number(Tag(i, "InstanceNumber"));
    if (withSopClasses) {
      std::string sopClass;
      if (orthanc.Get("/instances/" + item.orthancId + "/metadata/SopClassUid", sopClass))
        item.sopClassUid = sopClass;
    }
    content.series[at->second].instances.push_back(item);
  }
  std::sort(content.series.begin(), content.series.end(),
            [](const SeriesContent& a, const SeriesContent& b) { return a.number < b.number; });
  for (SeriesContent& s : content.series) {
    std::sort(s.instances.begin(), s.instances.end(),
              [](const InstanceContent& a, const InstanceContent& b) { return a.number < b.number; });
  }
  return content;
}

std::string ReadInstanceFile(IOrthancRest& orthanc, const InstanceContent& instance) {
  std::string file;
  if (!orthanc.Get("/instances/" + instance.orthancId + "/file", file))
    throw DeliveryProblem::Fail("instance " + instance.sopInstanceUid + " is no longer in Orthanc");
  return file;
}

// --- Orthanc jobs -----------------------------------------------------------

std::string OrthancStoreSender::Send(DeliveryAttempt& attempt) {
  const RouterDestination& d = attempt.destination;
  const StudyContent content = ReadStudyContent(orthanc_, attempt.delivery.orthancId, false);
  attempt.queue.SetReceived(attempt.delivery.id, static_cast<int64_t>(content.InstanceCount()));
  std::string asked;  // what the destination said it had, for the note
  if ((attempt.delivery.attempts > 0 || attempt.delivery.reason.rfind("interrupted", 0) == 0) &&
      !content.Missing(attempt.sent).empty()) {
    // A job cut short may have stored part of its batch: what the
    // destination has is confirmed and not sent again.
    std::set<std::string> there;
    std::string why;
    if (InstancesThere(d, content, there, why)) {
      std::vector<std::string> confirmed;
      for (const InstanceContent* instance : content.Missing(attempt.sent)) {
        if (there.count(instance->sopInstanceUid) != 0) confirmed.push_back(instance->sopInstanceUid);
      }
      if (!confirmed.empty()) attempt.Confirm(confirmed);
      asked = " (" + std::to_string(confirmed.size()) + " of those not confirmed before were there already)";
      Log::Info("router: delivery #" + std::to_string(attempt.delivery.id) + ": " + d.name + " already has " +
                std::to_string(confirmed.size()) + " of the instances not confirmed yet; the rest is sent");
    } else {
      asked = " (" + d.name + " could not say what it had: those not confirmed before were sent again)";
      Log::Warning("router: delivery #" + std::to_string(attempt.delivery.id) + ": cannot ask " + d.name +
                   " what it already has (" + why + "); the instances not confirmed yet are sent again");
    }
  }
  const std::vector<const InstanceContent*> missing = content.Missing(attempt.sent);
  const size_t batch = static_cast<size_t>(d.batchInstances);
  for (size_t start = 0; start < missing.size(); start += batch) {
    attempt.CheckStopping();
    std::vector<std::string> ids;
    std::vector<std::string> sops;
    for (size_t i = start; i < std::min(missing.size(), start + batch); i++) {
      ids.push_back(missing[i]->orthancId);
      sops.push_back(missing[i]->sopInstanceUid);
    }
    RunJob(attempt, ids);
    attempt.Confirm(sops);
  }
  return std::to_string(content.InstanceCount()) + " instances at " + d.target + asked;
}

bool OrthancStoreSender::InstancesThere(const RouterDestination& d, const StudyContent& content,
                                        std::set<std::string>& sops, std::string& why) {
  try {
    return d.kind == DestinationKind::kPeer ? FindAtPeer(d, content, sops, why)
                                            : FindAtModality(d, content, sops, why);
  } catch (const std::exception& e) {
    why = e.what();
    return false;
  }
}

bool OrthancStoreSender::FindAtModality(const RouterDestination& d, const StudyContent& content,
                                        std::set<std::string>& sops, std::string& why) {
  // One C-FIND per series (IMAGE level, hierarchical: study and series
  // UIDs given) for PACS that answer no broader query.
  for (const SeriesContent& series : content.series) {
    Json::Value request(Json::objectValue);
    request["Level"] = "Instance";
    request["Query"]["StudyInstanceUID"] = content.studyUid;
    request["Query"]["SeriesInstanceUID"] = series.seriesUid;
    request["Query"]["SOPInstanceUID"] = "";
    std::string answer;
    if (!orthanc_.Post("/modalities/" + d.target + "/query", JsonText::Write(request), answer)) {
      why = "Orthanc has no modality " + d.target;
      return false;
    }
    Json::Value query;
    if (!JsonText::Parse(answer, query) || !query["ID"].isString()) {
      why = "Orthanc started no C-FIND: " + FirstBytes(answer);
      return false;
    }
    const std::string id = query["ID"].asString();
    Json::Value answers;
    const bool read = orthanc_.GetJson("/queries/" + id + "/answers?expand&simplify", answers);
    try {
      orthanc_.Delete("/queries/" + id);
    } catch (const std::exception&) {
      // Orthanc forgets old queries by itself.
    }
    if (!read || !answers.isArray()) {
      why = "Orthanc lost the answers of C-FIND " + id;
      return false;
    }
    for (const Json::Value& item : answers) {
      // Simplified ({"SOPInstanceUID": "..."}) or full ({"0008,0018": {"Value": "..."}}).
      const Json::Value& simple = item["SOPInstanceUID"];
      const Json::Value& full = item["0008,0018"]["Value"];
      if (simple.isString()) {
        sops.insert(simple.asString());
      } else if (full.isString()) {
        sops.insert(full.asString());
      }
    }
  }
  return true;
}

bool OrthancStoreSender::FindAtPeer(const RouterDestination& d, const StudyContent& content,
                                    std::set<std::string>& sops, std::string& why) {
  if (peers_ == nullptr) {
    why = "no peer client";
    return false;
  }
  const PeerAnswer answer =
      peers_->Get(d.target, "/studies/" + content.orthancId + "/instances", d.timeoutMs);
  if (!answer.reached) {
    why = answer.error;
    return false;
  }
  if (answer.httpStatus == 404) return true;  // none of the study
  Json::Value instances;
  if (answer.httpStatus != 200 || !JsonText::Parse(answer.body, instances) || !instances.isArray()) {
    why = "peer " + d.target + " answered HTTP " + std::to_string(answer.httpStatus) + ": " +
          FirstBytes(answer.body);
    return false;
  }
  for (const Json::Value& instance : instances) {
    const std::string sop = Tag(instance, "SOPInstanceUID");
    if (!sop.empty()) sops.insert(sop);
  }
  return true;
}

void OrthancStoreSender::RunJob(DeliveryAttempt& attempt, const std::vector<std::string>& ids) {
  const bool peer = attempt.destination.kind == DestinationKind::kPeer;
  const std::string uri = (peer ? "/peers/" : "/modalities/") + attempt.destination.target + "/store";
  Json::Value request(Json::objectValue);
  request["Resources"] = Json::Value(Json::arrayValue);
  for (const std::string& id : ids) request["Resources"].append(id);
  request["Synchronous"] = false;
  std::string answer;
  bool found = false;
  try {
    found = orthanc_.Post(uri, JsonText::Write(request), answer);
  } catch (const OrthancRejected& e) {
    throw DeliveryProblem::Fail(std::string("Orthanc refused the store job: ") + e.what());
  }
  if (!found)
    throw DeliveryProblem::Fail(std::string("Orthanc has no ") + (peer ? "peer " : "modality ") +
                                attempt.destination.target);
  Json::Value job;
  if (!JsonText::Parse(answer, job) || !job["ID"].isString())
    throw DeliveryProblem::Retry("Orthanc started no store job: " + FirstBytes(answer));
  const std::string jobId = job["ID"].asString();
  int pause = 20;
  while (true) {
    Json::Value state;
    if (!orthanc_.GetJson("/jobs/" + jobId, state))
      throw DeliveryProblem::Retry("Orthanc forgot store job " + jobId);
    const std::string s = state.get("State", "").asString();
    if (s == "Success") return;
    if (s == "Failure") {
      std::string why = state.get("ErrorDescription", "").asString();
      const std::string details = state.get("ErrorDetails", "").asString();
      if (!details.empty()) why += ": " + details;
      throw DeliveryProblem::Retry(std::string(peer ? "peer " : "modality ") + attempt.destination.target +
                                   " did not take the images (" + why + ")");
    }
    if (attempt.stopping && attempt.stopping()) {
      std::string ignored;
      orthanc_.Post("/jobs/" + jobId + "/cancel", "", ignored);
      throw DeliveryPaused();
    }
    sleepMs_(pause);
    pause = std::min(pause * 2, 500);
  }
}

// --- authentication ---------------------------------------------------------

std::string TokenSource::Get(bool renew) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!renew && !token_.empty() && clock_.NowMs() < expiresAtMs_) return token_;
  HttpCall call;
  call.method = "POST";
  call.url = destination_.tokenUrl;
  call.caFile = destination_.caFile;
  call.timeoutMs = destination_.timeoutMs;
  call.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  call.body = "client_id=" + UrlEncodeComponent(destination_.username) +
              "&client_secret=" + UrlEncodeComponent(destination_.secret);
  if (!satusehat_) call.body = "grant_type=client_credentials&" + call.body;
  const HttpResult result = http_.Send(call);
  if (!result.reached || result.status != 200) {
    DeliveryProblem problem = ProblemOf(result, "the token service");
    throw DeliveryProblem(problem.GetKind(), Scrub(problem.what(), destination_.secret));
  }
  Json::Value answer;
  if (!JsonText::Parse(result.body, answer) || !answer["access_token"].isString() ||
      answer["access_token"].asString().empty()) {
    throw DeliveryProblem::Fail("the token service answered no access_token: " +
                                Scrub(FirstBytes(result.body), destination_.secret));
  }
  int64_t seconds = 300;
  const Json::Value& expires = answer["expires_in"];
  if (expires.isIntegral()) {
    seconds = expires.asInt64();
  } else if (expires.isString()) {
    seconds = Number(expires.asString());
  }
  // Renewed a minute before it expires (at most half of a short life).
  const int64_t margin = std::min<int64_t>(60, seconds / 2);
  token_ = answer["access_token"].asString();
  expiresAtMs_ = clock_.NowMs() + (seconds - margin) * 1000;
  return token_;
}

HttpResult SendAuthenticated(IHttpClient& http, const RouterDestination& destination, TokenSource* tokens,
                             HttpCall call) {
  call.caFile = destination.caFile;
  call.timeoutMs = destination.timeoutMs;
  switch (destination.auth) {
    case DestinationAuth::kNone:
      return http.Send(call);
    case DestinationAuth::kBasic:
      call.username = destination.username;
      call.password = destination.secret;
      return http.Send(call);
    case DestinationAuth::kBearer:
      call.headers.emplace_back("Authorization", "Bearer " + destination.secret);
      return http.Send(call);
    case DestinationAuth::kOAuth2:
      break;
  }
  HttpCall first = call;
  first.headers.emplace_back("Authorization", "Bearer " + tokens->Get(false));
  HttpResult result = http.Send(first);
  if (result.reached && result.status == 401) {
    call.headers.emplace_back("Authorization", "Bearer " + tokens->Get(true));
    result = http.Send(call);
  }
  return result;
}

// --- STOW-RS ----------------------------------------------------------------

namespace {
// One multipart/related STOW-RS body: instances [from, end) of `missing`,
// at most `count` of them and about 32 MiB (one larger file still goes alone).
struct StowBatch {
  std::string boundary;
  std::string body;
  std::vector<std::string> sops;
  size_t end = 0;

  static StowBatch Read(IOrthancRest& orthanc, const std::vector<const InstanceContent*>& missing,
                        size_t from, size_t count) {
    constexpr size_t kMaxBytes = 32 * 1024 * 1024;
    StowBatch batch;
    batch.boundary = "hb-" + Crypto::ToHex(Crypto::RandomBytes(12));
    batch.end = from;
    while (batch.end < missing.size() && batch.sops.size() < count &&
           (batch.sops.empty() || batch.body.size() < kMaxBytes)) {
      const std::string file = ReadInstanceFile(orthanc, *missing[batch.end]);
      batch.body += "--" + batch.boundary + "\r\nContent-Type: application/dicom\r\n\r\n";
      batch.body += file;
      batch.body += "\r\n";
      batch.sops.push_back(missing[batch.end]->sopInstanceUid);
      batch.end++;
    }
    batch.body += "--" + batch.boundary + "--\r\n";
    return batch;
  }
};

// The SOP Instance UIDs of the study the destination has (QIDO-RS); none
// when it cannot say.
std::vector<std::string> InstancesThere(IHttpClient& http, const RouterDestination& d, TokenSource* tokens,
                                        const std::string& studyUid) {
  HttpCall call;
  call.url = d.url + "/studies/" + studyUid + "/instances?includefield=00080018";
  call.headers = {{"Accept", "application/dicom+json"}};
  const HttpResult result = SendAuthenticated(http, d, tokens, std::move(call));
  std::vector<std::string> sops;
  Json::Value answer;
  if (!result.reached || result.status != 200 || !JsonText::Parse(result.body, answer) || !answer.isArray())
    return sops;
  for (const Json::Value& item : answer) {
    const Json::Value& sop = item["00080018"]["Value"];
    if (sop.isArray() && !sop.empty() && sop[0].isString()) sops.push_back(sop[0].asString());
  }
  return sops;
}
}  // namespace

std::string DicomWebSender::Send(DeliveryAttempt& attempt) {
  const RouterDestination& d = attempt.destination;
  const StudyContent content = ReadStudyContent(orthanc_, attempt.delivery.orthancId, false);
  attempt.queue.SetReceived(attempt.delivery.id, static_cast<int64_t>(content.InstanceCount()));
  if (attempt.delivery.attempts > 0 || attempt.delivery.reason.rfind("interrupted", 0) == 0) {
    // Not the first attempt: a request may have reached the destination
    // without its answer reaching us (a crash, a timeout). What it already
    // has is confirmed and not sent again.
    const std::vector<std::string> there = InstancesThere(http_, d, tokens_, content.studyUid);
    std::vector<std::string> confirmed;
    for (const InstanceContent* instance : content.Missing(attempt.sent)) {
      if (std::find(there.begin(), there.end(), instance->sopInstanceUid) != there.end())
        confirmed.push_back(instance->sopInstanceUid);
    }
    if (!confirmed.empty()) attempt.Confirm(confirmed);
  }
  const std::vector<const InstanceContent*> missing = content.Missing(attempt.sent);
  const auto build = [this, &missing, &d](size_t from) {
    return StowBatch::Read(orthanc_, missing, from, static_cast<size_t>(d.batchInstances));
  };
  // The next batch is read from Orthanc while the current one is on the
  // wire: reading and sending overlap, at the cost of one more batch in
  // memory (at most ~2 x 32 MiB). The sends themselves stay in order.
  std::future<StowBatch> prefetched;
  StowBatch batch = missing.empty() ? StowBatch() : build(0);
  while (!batch.sops.empty()) {
    attempt.CheckStopping();
    if (batch.end < missing.size()) prefetched = std::async(std::launch::async, build, batch.end);
    HttpCall call;
    call.method = "POST";
    call.url = d.url + "/studies";
    call.headers = {
        {"Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + batch.boundary},
        {"Accept", "application/dicom+json"}};
    call.body = std::move(batch.body);
    const std::vector<std::string> sops = std::move(batch.sops);
    const HttpResult result = SendAuthenticated(http_, d, tokens_, std::move(call));
    if (!result.reached || (result.status != 200 && result.status != 202)) {
      throw DeliveryProblem(ProblemOf(result, d.name).GetKind(),
                            Scrub(ProblemOf(result, d.name).what(), d.secret));
    }
    Json::Value answer;
    if (!JsonText::Parse(result.body, answer) || !answer.isObject()) {
      throw DeliveryProblem::Fail(d.name + " answered HTTP " + std::to_string(result.status) +
                                  " with no DICOM JSON: " + FirstBytes(result.body));
    }
    std::vector<std::string> reasons;
    const std::vector<std::string> stored = SopsOf(answer, "00081199", nullptr);
    const std::vector<std::string> failed = SopsOf(answer, "00081198", &reasons);
    std::vector<std::string> confirmed;
    for (const std::string& sop : sops) {
      if (std::find(stored.begin(), stored.end(), sop) != stored.end()) confirmed.push_back(sop);
    }
    if (!confirmed.empty()) attempt.Confirm(confirmed);
    if (!failed.empty()) {
      throw DeliveryProblem::Fail(
          d.name + " refused instance " + failed[0] + " (failure reason " + reasons[0] + ")" +
          (failed.size() > 1 ? " and " + std::to_string(failed.size() - 1) + " more" : ""));
    }
    if (confirmed.size() != sops.size()) {
      throw DeliveryProblem::Retry(d.name + " confirmed " + std::to_string(confirmed.size()) + " of " +
                                   std::to_string(sops.size()) + " instances");
    }
    batch = prefetched.valid() ? prefetched.get() : StowBatch();
  }
  attempt.queue.SetRemote(attempt.delivery.id, "", d.url + "/studies/" + content.studyUid);
  return std::to_string(content.InstanceCount()) + " instances stored";
}

}  // namespace HospitalBridge
