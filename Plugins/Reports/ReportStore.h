#pragma once
// Reports, their versions, the templates, critical-finding communications
// and the numbered changes the live queue waits on, in the plugin's
// database (migration 009). Knows SQL, not rules: ReportService decides.
// Methods taking a Transaction join the caller's, so that a change, its
// change number and its audit event commit together.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"
#include "Reports/Report.h"
#include "Reports/ReportTemplate.h"

namespace HospitalBridge {

struct QueueFilter {
  // "open" (to be read: default), "all", "final" (final or amended), or one status.
  std::string status = "open";
  std::string modality;
  std::string priority;
  std::string assignedTo;  // a user name; "-" for nobody
  std::string site;
  std::string studyUid;
  std::string patientId;
  bool overdueOnly = false;
  int64_t now = 0;
  int limit = 50;
  int offset = 0;
};

struct QueuePage {
  std::vector<Report> reports;
  int64_t total = 0;
};

struct ReportChange {
  int64_t seq = 0;
  int64_t reportId = 0;
  std::string kind;
  std::string actor;
  int64_t at = 0;
};

struct CriticalCommunication {
  int64_t id = 0;
  int64_t reportId = 0;
  int version = 0;
  std::string to;
  int64_t at = 0;
  std::string method;
  std::string note;
  std::string recordedBy;
  int64_t recordedAt = 0;
  Json::Value ToJson() const;
};

class ReportStore {
 public:
  explicit ReportStore(IDatabase& database) : database_(database) {}
  IDatabase& Database() { return database_; }

  // --- templates
  // The newest version of each template (inactive ones too when asked).
  std::vector<ReportTemplate> Templates(bool includeInactive);
  // `version` 0: the newest.
  std::optional<ReportTemplate> FindTemplate(const std::string& key, int version = 0);
  std::optional<ReportTemplate> FindTemplate(Transaction& transaction, const std::string& key,
                                             int version = 0);
  std::optional<ReportTemplate> TemplateById(Transaction& transaction, int64_t id);
  std::optional<ReportTemplate> TemplateById(int64_t id);
  // Adds the next version of `reportTemplate.key` (1 for a new key); sets
  // its id and version.
  void InsertTemplateVersion(Transaction& transaction, ReportTemplate& reportTemplate);

  // --- reports
  // False (and nothing written) when the study has a report already.
  bool InsertIfAbsent(Transaction& transaction, Report& report);
  void Update(Transaction& transaction, const Report& report);
  std::optional<Report> Find(int64_t id);
  std::optional<Report> Find(Transaction& transaction, int64_t id);
  std::optional<Report> FindByOrthancId(Transaction& transaction, const std::string& orthancId);
  std::optional<Report> FindByOrthancId(const std::string& orthancId);
  QueuePage Queue(const QueueFilter& filter);
  int64_t CountOpen();

  // --- versions
  void InsertVersion(Transaction& transaction, ReportVersion& version);
  // Content, template and time of a draft.
  void UpdateDraft(Transaction& transaction, const ReportVersion& version);
  // Makes the draft signed, with its canonical text, hash and PDF.
  void SignVersion(Transaction& transaction, const ReportVersion& version, const std::string& pdf);
  std::optional<ReportVersion> FindVersion(Transaction& transaction, int64_t reportId, int version);
  std::optional<ReportVersion> FindVersion(int64_t reportId, int version);
  std::vector<ReportVersion> Versions(int64_t reportId);
  bool Pdf(int64_t reportId, int version, std::string& pdf);
  // Signed versions whose carriers are not in Orthanc yet, oldest first.
  std::vector<ReportVersion> Undelivered(int limit);
  void MarkDelivered(Transaction& transaction, int64_t versionId, const std::string& pdfInstance,
                     const std::string& srInstance, int64_t at);
  void MarkDeliveryError(int64_t versionId, const std::string& error);

  // --- critical findings
  void AddCritical(Transaction& transaction, CriticalCommunication& communication);
  std::vector<CriticalCommunication> Criticals(int64_t reportId);
  std::vector<CriticalCommunication> Criticals(Transaction& transaction, int64_t reportId);

  // --- changes
  int64_t AddChange(Transaction& transaction, int64_t reportId, const std::string& kind,
                    const std::string& actor, int64_t at);
  int64_t LatestSeq();
  std::vector<ReportChange> ChangesAfter(int64_t seq, int limit);

 private:
  IDatabase& database_;
};

}  // namespace HospitalBridge
