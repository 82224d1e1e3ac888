#include "Reports/ReportDelivery.h"

#include "Common/Crypto.h"
#include "Common/Json.h"
#include "Common/Log.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Reports/FhirDiagnosticReport.h"

namespace HospitalBridge {
namespace {

// DICOM DA and TM of a Unix time, in UTC.
void DicomDateTime(int64_t seconds, std::string& da, std::string& tm) {
  const std::string iso = Time::FormatIsoUtc(seconds);  // 2026-11-27T10:15:00Z
  da = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
  tm = iso.substr(11, 2) + iso.substr(14, 2) + iso.substr(17, 2);
}

Json::Value Code(const char* value, const char* scheme, const char* meaning) {
  Json::Value code(Json::objectValue);
  code["CodeValue"] = value;
  code["CodingSchemeDesignator"] = scheme;
  code["CodeMeaning"] = meaning;
  Json::Value sequence(Json::arrayValue);
  sequence.append(code);
  return sequence;
}

// A DICOM LO/ST value: printable, within `max` characters.
std::string DicomText(const std::string& text, size_t max) {
  std::string clean = Text::ToValidUtf8(text);
  if (clean.size() > max) clean = clean.substr(0, max);
  while (!clean.empty() && (static_cast<unsigned char>(clean.back()) & 0xC0) == 0x80) clean.pop_back();
  return clean;
}

}  // namespace

ReportDelivery::ReportDelivery(ReportService& service, IOrthancRest& orthanc, IReportOrders* orders,
                               const SiteSettings& site, const ReportsSettings& settings, ChangeFeed& feed,
                               IAuditSink& audit, ILeases& leases)
    : service_(service),
      orthanc_(orthanc),
      orders_(orders),
      site_(site),
      settings_(settings),
      feed_(feed),
      audit_(audit),
      worker_(
          "report delivery", [this] { return RunOnce(); }, std::chrono::milliseconds(500),
          std::chrono::milliseconds(60000)) {
  worker_.RequireLease(leases, "report-delivery");
}

void ReportDelivery::Stop() {
  worker_.Stop();
  settled_.notify_all();
}

std::string ReportDelivery::DerivedUid(const std::string& seed) {
  // The first 128 bits of the digest as a decimal number, by long division.
  const std::string digest = Crypto::Sha256(seed);
  std::vector<unsigned> number(digest.begin(), digest.begin() + 16);
  for (unsigned& byte : number) byte &= 0xFFu;
  std::string digits;
  bool zero = false;
  while (!zero) {
    unsigned remainder = 0;
    zero = true;
    for (unsigned& byte : number) {
      const unsigned current = remainder * 256 + byte;
      byte = current / 10;
      remainder = current % 10;
      if (byte != 0) zero = false;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + remainder));
  }
  return "2.25." + digits;
}

std::chrono::milliseconds ReportDelivery::RunOnce() {
  const std::vector<ReportVersion> pending = service_.Store().Undelivered(20);
  std::string failure;
  for (const ReportVersion& version : pending) {
    if (worker_.StopRequested()) break;
    try {
      Deliver(version);
    } catch (const OrthancUnavailable& e) {
      service_.Store().MarkDeliveryError(version.id, e.what());
      Settled(version.id);
      throw;  // Orthanc is away: the worker backs off and tries again
    } catch (const std::exception& e) {
      // Orthanc refused what was sent: said on the version, tried again later.
      Log::Warning("report version " + std::to_string(version.id) + " not stored in Orthanc: " + e.what());
      service_.Store().MarkDeliveryError(version.id, e.what());
      Settled(version.id);
      failure = e.what();
    }
  }
  if (!failure.empty()) return std::chrono::milliseconds(30000);
  return pending.size() >= 20 ? std::chrono::milliseconds(0) : std::chrono::milliseconds(60000);
}

void ReportDelivery::Deliver(const ReportVersion& version) {
  ReportStore& store = service_.Store();
  std::optional<Report> found = store.Find(version.reportId);
  if (!found) return;
  const Report report = *found;
  const int64_t now = service_.Clock().NowSeconds();
  std::string body;
  if (report.studyGone || !orthanc_.Get("/studies/" + report.orthancId, body)) {
    // Nowhere to put it: the report stays readable here, and says so.
    InWrite(store.Database(), [&](Transaction& transaction) {
      store.MarkDelivered(transaction, version.id, "", "", now);
      store.AddChange(transaction, report.id, "delivered", "HospitalBridge", now);
    });
    store.MarkDeliveryError(version.id, "the study " + report.studyUid + " is no longer in Orthanc");
    Settled(version.id);
    return;
  }
  std::string pdf;
  if (!store.Pdf(report.id, version.version, pdf)) throw std::runtime_error("the signed PDF is missing");
  const std::string pdfInstance = StorePdf(report, version, pdf);
  const ReportTemplate reportTemplate = service_.TemplateOf(version);
  const std::string srInstance = settings_.basicTextSr ? StoreSr(report, version, reportTemplate) : "";
  int64_t seq = 0;
  InWrite(store.Database(), [&](Transaction& transaction) {
    store.MarkDelivered(transaction, version.id, pdfInstance, srInstance, now);
    seq = store.AddChange(transaction, report.id, "delivered", "HospitalBridge", now);
  });
  feed_.Notify(seq);
  if (orders_ != nullptr && report.orderId != 0 && ReportStatus::IsFinal(version.signedStatus)) {
    // The report is stored either way; the order's status is the orders
    // module's to keep (a failure is logged, not retried).
    try {
      orders_->MarkReported(report.orderId, AuditActor::System("reports"));
    } catch (const std::exception& e) {
      Log::Warning("order " + std::to_string(report.orderId) + " not marked reported: " + e.what());
    }
  }
  Json::Value detail(Json::objectValue);
  detail["version"] = version.version;
  detail["status"] = version.signedStatus;
  detail["pdf_instance"] = pdfInstance;
  if (!srInstance.empty()) detail["sr_instance"] = srInstance;
  detail["sha256"] = version.contentHash;
  service_.Audit("report.stored", report, AuditActor::System("reports"), detail);
  Log::Info("report " + std::to_string(report.id) + " version " + std::to_string(version.version) +
            " stored in Orthanc as instance " + pdfInstance);
  Settled(version.id);
  if (!listeners_.empty()) {
    ReportVersion delivered = version;
    delivered.pdfInstance = pdfInstance;
    delivered.srInstance = srInstance;
    delivered.deliveredAt = now;
    delivered.hasPdf = true;
    SignedReport signedReport{report, delivered, service_.Fhir(report, delivered)};
    for (const Listener& listener : listeners_) {
      try {
        listener(signedReport);
      } catch (const std::exception& e) {
        Log::Warning(std::string("a report listener failed: ") + e.what());
      }
    }
  }
}

std::string ReportDelivery::StorePdf(const Report& report, const ReportVersion& version,
                                     const std::string& pdf) {
  // The report's series: where an earlier version's PDF went, else a new
  // one in the study.
  std::string parent = report.orthancId;
  for (const ReportVersion& earlier : service_.Store().Versions(report.id)) {
    if (earlier.version >= version.version || earlier.pdfInstance.empty()) continue;
    Json::Value instance;
    if (orthanc_.GetJson("/instances/" + earlier.pdfInstance, instance) &&
        instance["ParentSeries"].isString()) {
      parent = instance["ParentSeries"].asString();
    }
  }
  std::string da, tm;
  DicomDateTime(version.signedAt, da, tm);
  const std::string seed = site_.siteId + "|report|" + std::to_string(report.id);
  Json::Value request(Json::objectValue);
  request["Parent"] = parent;
  request["Force"] = true;  // the UIDs below are ours
  request["Content"] = "data:application/pdf;base64," + Crypto::Base64Encode(pdf);
  Json::Value& tags = request["Tags"];
  if (parent == report.orthancId) {
    tags["SeriesInstanceUID"] = DerivedUid(seed + "|series");
    tags["Modality"] = "DOC";
    tags["SeriesDescription"] = "Radiology report";
    tags["SeriesNumber"] = "9901";
  }
  tags["SOPInstanceUID"] = DerivedUid(seed + "|version|" + std::to_string(version.version) + "|pdf");
  tags["InstanceNumber"] = std::to_string(version.version);
  tags["DocumentTitle"] = DicomText(
      "Radiology report (" + version.signedStatus + ") SHA-256 " + version.contentHash.substr(0, 16), 64);
  tags["ConceptNameCodeSequence"] = Code("18748-4", "LN", "Diagnostic imaging report");
  tags["BurnedInAnnotation"] = "YES";
  tags["ContentDate"] = da;
  tags["ContentTime"] = tm;
  tags["AcquisitionDateTime"] = da + tm;
  tags["Manufacturer"] = "HospitalBridge";
  std::string answer;
  if (!orthanc_.Post("/tools/create-dicom", JsonText::Write(request), answer)) {
    throw std::runtime_error("Orthanc did not create the report's DICOM instance");
  }
  Json::Value created;
  if (!JsonText::Parse(answer, created) || !created["ID"].isString()) {
    throw std::runtime_error("Orthanc's answer to create-dicom has no ID");
  }
  return created["ID"].asString();
}

std::string ReportDelivery::StoreSr(const Report& report, const ReportVersion& version,
                                    const ReportTemplate& reportTemplate) {
  std::string da, tm;
  DicomDateTime(version.signedAt, da, tm);
  const std::string seed = site_.siteId + "|report|" + std::to_string(report.id);
  Json::Value request(Json::objectValue);
  request["Parent"] = report.orthancId;
  request["Force"] = true;
  Json::Value& tags = request["Tags"];
  tags["SOPClassUID"] = "1.2.840.10008.5.1.4.1.1.88.11";  // Basic Text SR
  tags["SOPInstanceUID"] = DerivedUid(seed + "|version|" + std::to_string(version.version) + "|sr");
  tags["SeriesInstanceUID"] = DerivedUid(seed + "|version|" + std::to_string(version.version) + "|sr-series");
  tags["Modality"] = "SR";
  tags["SeriesDescription"] = "Radiology report (structured)";
  tags["SeriesNumber"] = "9902";
  tags["InstanceNumber"] = std::to_string(version.version);
  tags["ValueType"] = "CONTAINER";
  tags["ContinuityOfContent"] = "SEPARATE";
  tags["ConceptNameCodeSequence"] = Code("18748-4", "LN", "Diagnostic imaging report");
  const bool verified = ReportStatus::IsFinal(version.signedStatus);
  tags["CompletionFlag"] = verified ? "COMPLETE" : "PARTIAL";
  tags["VerificationFlag"] = verified ? "VERIFIED" : "UNVERIFIED";
  tags["ContentDate"] = da;
  tags["ContentTime"] = tm;
  if (verified) {
    Json::Value observer(Json::objectValue);
    observer["VerifyingObserverName"] = DicomText(version.signedBy, 64);
    observer["VerificationDateTime"] = da + tm;
    observer["VerifyingOrganization"] = DicomText(site_.siteName, 64);
    observer["VerifyingObserverIdentificationCodeSequence"] = Json::Value(Json::arrayValue);
    tags["VerifyingObserverSequence"].append(observer);
  }
  Json::Value content(Json::arrayValue);
  const Json::Value& values = version.content["sections"];
  for (const TemplateSection& section : reportTemplate.sections) {
    const std::string text = SectionText(values.isObject() ? values[section.id] : Json::Value());
    if (Text::Trim(text).empty()) continue;
    Json::Value item(Json::objectValue);
    item["RelationshipType"] = "CONTAINS";
    item["ValueType"] = "TEXT";
    item["ConceptNameCodeSequence"] =
        section.id == "impression" ? Code("121073", "DCM", "Impression") : Code("121071", "DCM", "Finding");
    item["ConceptNameCodeSequence"][0]["CodeMeaning"] =
        section.id == "impression" ? "Impression" : DicomText(section.label, 64);
    item["TextValue"] = DicomText(text, 10240);
    content.append(item);
  }
  if (version.kind == "addendum") {
    Json::Value item(Json::objectValue);
    item["RelationshipType"] = "CONTAINS";
    item["ValueType"] = "TEXT";
    item["ConceptNameCodeSequence"] = Code("121071", "DCM", "Finding");
    item["ConceptNameCodeSequence"][0]["CodeMeaning"] = "Addendum";
    item["TextValue"] = DicomText(version.content.get("addendum", "").asString(), 10240);
    content.append(item);
  }
  Json::Value hash(Json::objectValue);
  hash["RelationshipType"] = "CONTAINS";
  hash["ValueType"] = "TEXT";
  hash["ConceptNameCodeSequence"] = Code("121071", "DCM", "Finding");
  hash["ConceptNameCodeSequence"][0]["CodeMeaning"] = "Content SHA-256";
  hash["TextValue"] = version.contentHash;
  content.append(hash);
  tags["ContentSequence"] = content;
  std::string answer;
  if (!orthanc_.Post("/tools/create-dicom", JsonText::Write(request), answer)) {
    throw std::runtime_error("Orthanc did not create the report's SR instance");
  }
  Json::Value created;
  if (!JsonText::Parse(answer, created) || !created["ID"].isString()) {
    throw std::runtime_error("Orthanc's answer to create-dicom has no ID");
  }
  return created["ID"].asString();
}

void ReportDelivery::Settled(int64_t versionId) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    settledVersions_.insert(versionId);
    if (settledVersions_.size() > 1000) settledVersions_.erase(settledVersions_.begin());
  }
  settled_.notify_all();
}

bool ReportDelivery::WaitDelivered(int64_t versionId, std::chrono::milliseconds timeout) {
  worker_.Wake();
  std::unique_lock<std::mutex> lock(mutex_);
  return settled_.wait_for(lock, timeout, [&] { return settledVersions_.count(versionId) > 0; });
}

}  // namespace HospitalBridge
