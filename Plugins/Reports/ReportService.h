#pragma once
// The rules of reading and reporting: which study enters the queue with
// which priority and due time, claim / assign / release, the draft and its
// template, sign-off (re-authentication, the canonical content and its
// SHA-256, the PDF rendered before anything is written, the signature in the
// audit chain in the same transaction), amendments as new versions, and the
// critical-finding record. Every change is numbered for the live queue.
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "Audit/AuditStore.h"
#include "Common/AuditSink.h"
#include "Common/AuditVocabulary.h"
#include "Common/Clock.h"
#include "Common/OrthancRest.h"
#include "Common/Settings.h"
#include "Common/StudyRecord.h"
#include "Index/StudyIndexStore.h"
#include "Reports/ChangeFeed.h"
#include "Reports/Report.h"
#include "Reports/ReportOrders.h"
#include "Reports/ReportPdf.h"
#include "Reports/ReportStore.h"
#include "Reports/ReportsSettings.h"

namespace HospitalBridge {

// The hospital as the PDF's header names it.
struct HospitalInfo {
  std::string name;
  std::string address;
  std::string phone;
  std::string email;
};

// A request's caller: who, from where.
struct Caller {
  const Identity& identity;
  std::string address;
  AuditActor Actor() const { return AuditActor::Of(identity, address); }
};

// What the sign-off route answers with.
struct SignOutcome {
  Report report;
  ReportVersion version;
};

// What listeners (the router) learn once a signed version is in Orthanc.
struct SignedReport {
  Report report;
  ReportVersion version;         // signed, with its PDF instance
  Json::Value diagnosticReport;  // FHIR R4
};

class ReportService {
 public:
  // The password check of sign-off (the security module's): true when the
  // password is the user's; false, with `retryAfter` > 0, when checks for
  // that user are locked for a while.
  using PasswordCheck = std::function<bool(const std::string& username, const std::string& password,
                                           const std::string& address, int64_t& retryAfter)>;
  // Whether a user name belongs to an active radiologist (assignment).
  using RadiologistCheck = std::function<bool(const std::string& username)>;

  struct Needs {
    ReportStore& store;
    StudyIndexStore& studies;
    IOrthancRest& orthanc;
    IReportRenderer& renderer;
    IAuditSink& audit;
    AuditStore* auditStore;  // null when the audit trail is off
    IReportOrders* orders;   // null without the orders module
    ChangeFeed& feed;
    PasswordCheck checkPassword;
    RadiologistCheck isRadiologist;
    std::function<HospitalInfo()> hospital;
  };

  ReportService(Needs needs, const SiteSettings& site, const ReportsSettings& settings, const IClock& clock);

  const ReportPermissions& Permissions() const { return permissions_; }
  ReportStore& Store() { return store_; }
  const ReportsSettings& Settings() const { return settings_; }
  const IClock& Clock() const { return clock_; }

  // --- the queue
  // Whether the study needs a report by itself (an order, a listed modality).
  bool NeedsReport(const StudyRecord& study, const std::optional<ReportOrderInfo>& order) const;
  // Puts the study in the queue (once), or refreshes what it copies of the
  // study and its order. Idempotent.
  void Enqueue(const StudyRecord& study, const std::optional<ReportOrderInfo>& order);
  // Considers one study: its order, whether it needs a report.
  void Consider(const StudyRecord& study);
  // Orthanc deleted the study: its report leaves the queue.
  void StudyGone(const std::string& orthancId);

  // --- one report
  Report Get(int64_t id);
  // POST /bridge/reports: the study's report (queued or new), claimed by the
  // caller, with a first draft from the template.
  Report Create(const std::string& studyUid, const std::string& templateKey, const Caller& caller);
  Report Claim(int64_t id, const Caller& caller);
  Report Assign(int64_t id, const std::string& username, const Caller& caller);
  Report Release(int64_t id, const Caller& caller);
  // PUT: {"template", "sections", "critical", "addendum"} on the draft.
  Report Save(int64_t id, const Json::Value& body, const Caller& caller);
  SignOutcome Sign(int64_t id, const std::string& password, const Caller& caller);
  // A new draft version (an addendum) of a final report, claimed by the caller.
  Report Amend(int64_t id, const std::string& reason, const Caller& caller);
  CriticalCommunication RecordCritical(int64_t id, const Json::Value& body, const Caller& caller);

  // The version a caller reads: the newest for readers, the newest signed
  // final one for the other staff roles. Throws not found.
  ReportVersion VersionFor(const Report& report, const Identity& identity, int version = 0);
  // The template a version was written with.
  ReportTemplate TemplateOf(const ReportVersion& version);
  // The FHIR DiagnosticReport of a signed version.
  Json::Value Fhir(const Report& report, const ReportVersion& version);

  // --- templates
  ReportTemplate CreateTemplate(const Json::Value& body, const Caller& caller);
  ReportTemplate UpdateTemplate(const std::string& key, const Json::Value& body, const Caller& caller);

  // The study's Orthanc presence; throws Gone (naming the study) when
  // Orthanc no longer has it, and records that.
  void RequireStudyInOrthanc(const Report& report);
  // The PDF document of a version (for the renderer), from what was signed.
  ReportDocument DocumentOf(const Report& report, const ReportVersion& version,
                            const ReportTemplate& reportTemplate, const std::string& status);

  // An audit event about a report (patient, study), through the sink.
  void Audit(const std::string& action, const Report& report, const AuditActor& actor,
             Json::Value detail = Json::Value(Json::objectValue), const std::string& outcome = "success");

 private:
  Report Load(Transaction& transaction, int64_t id);
  // Records change `kind` and, after commit, wakes the live queue.
  int64_t Change(Transaction& transaction, const Report& report, const std::string& kind,
                 const std::string& actor);
  void Committed(int64_t seq);
  ReportVersion NewDraft(Transaction& transaction, Report& report, const std::string& kind,
                         const ReportTemplate& reportTemplate, const Json::Value& content,
                         const std::string& author);
  Json::Value Canonical(const Report& report, const ReportVersion& version,
                        const ReportTemplate& reportTemplate, const std::string& status,
                        const std::string& predecessorHash);
  void AuditInTransaction(Transaction& transaction, AuditEvent event);
  std::optional<ReportOrderInfo> OrderOf(const StudyRecord& study);
  Report FromStudy(const StudyRecord& study, const std::optional<ReportOrderInfo>& order) const;

  ReportStore& store_;
  StudyIndexStore& studies_;
  IOrthancRest& orthanc_;
  IReportRenderer& renderer_;
  IAuditSink& audit_;
  AuditStore* auditStore_;
  IReportOrders* orders_;
  ChangeFeed& feed_;
  PasswordCheck checkPassword_;
  RadiologistCheck isRadiologist_;
  std::function<HospitalInfo()> hospital_;
  const SiteSettings& site_;
  const ReportsSettings& settings_;
  const IClock& clock_;
  const ReportPermissions permissions_;
};

// "DOE, JANE" from a DICOM PN, for the PDF and the pages.
std::string ReportPatientName(const Report& report);

}  // namespace HospitalBridge
