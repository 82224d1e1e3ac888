#include "Reports/ReportStore.h"

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {

const char kReportColumns[] =
    "id, orthanc_id, study_uid, accession, patient_id, patient_name, patient_birth_date, patient_sex, "
    "study_date, study_time, description, modalities, site, order_id, order_ref, referring, reason, "
    "priority, "
    "status, assigned_to, assigned_at, queued_at, due_at, study_gone, latest_version, signed_version, "
    "final_at, "
    "critical, updated_at";

const char kVersionColumns[] =
    "id, report_id, version, kind, template_id, content, author, created_at, updated_at, signed_status, "
    "signed_by, signed_role, signed_at, canonical, content_hash, pdf_instance, sr_instance, delivered_at, "
    "delivery_error, pdf IS NOT NULL";

const char kTemplateColumns[] =
    "id, template_key, version, name, modalities, exam, definition, active, created_at, created_by";

std::string JoinModalities(const std::vector<std::string>& modalities) {
  if (modalities.empty()) return "";
  std::string joined = "\\";
  for (const std::string& modality : modalities) joined += modality + "\\";
  return joined;
}

std::vector<std::string> SplitModalities(const std::string& text) {
  std::vector<std::string> modalities;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\\', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) modalities.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return modalities;
}

Report ReadReport(Statement& row) {
  Report report;
  report.id = row.ColumnInt(0);
  report.orthancId = row.ColumnText(1);
  report.studyUid = row.ColumnText(2);
  report.accession = row.ColumnText(3);
  report.patientId = row.ColumnText(4);
  report.patientName = row.ColumnText(5);
  report.patientBirthDate = row.ColumnText(6);
  report.patientSex = row.ColumnText(7);
  report.studyDate = row.ColumnText(8);
  report.studyTime = row.ColumnText(9);
  report.description = row.ColumnText(10);
  report.modalities = SplitModalities(row.ColumnText(11));
  report.site = row.ColumnText(12);
  report.orderId = row.ColumnInt(13);
  report.orderRef = row.ColumnText(14);
  report.referring = row.ColumnText(15);
  report.reason = row.ColumnText(16);
  report.priority = row.ColumnText(17);
  report.status = row.ColumnText(18);
  report.assignedTo = row.ColumnText(19);
  report.assignedAt = row.ColumnInt(20);
  report.queuedAt = row.ColumnInt(21);
  report.dueAt = row.ColumnInt(22);
  report.studyGone = row.ColumnInt(23) != 0;
  report.latestVersion = static_cast<int>(row.ColumnInt(24));
  report.signedVersion = static_cast<int>(row.ColumnInt(25));
  report.finalAt = row.ColumnInt(26);
  report.critical = row.ColumnInt(27) != 0;
  report.updatedAt = row.ColumnInt(28);
  return report;
}

ReportVersion ReadVersion(Statement& row) {
  ReportVersion version;
  version.id = row.ColumnInt(0);
  version.reportId = row.ColumnInt(1);
  version.version = static_cast<int>(row.ColumnInt(2));
  version.kind = row.ColumnText(3);
  version.templateId = row.ColumnInt(4);
  if (!JsonText::Parse(row.ColumnText(5), version.content) || !version.content.isObject()) {
    version.content = Json::Value(Json::objectValue);
  }
  version.author = row.ColumnText(6);
  version.createdAt = row.ColumnInt(7);
  version.updatedAt = row.ColumnInt(8);
  version.signedStatus = row.ColumnText(9);
  version.signedBy = row.ColumnText(10);
  version.signedRole = row.ColumnText(11);
  version.signedAt = row.ColumnInt(12);
  version.canonical = row.ColumnText(13);
  version.contentHash = row.ColumnText(14);
  version.pdfInstance = row.ColumnText(15);
  version.srInstance = row.ColumnText(16);
  version.deliveredAt = row.ColumnInt(17);
  version.deliveryError = row.ColumnText(18);
  version.hasPdf = row.ColumnInt(19) != 0;
  return version;
}

ReportTemplate ReadTemplate(Statement& row) {
  ReportTemplate reportTemplate;
  reportTemplate.id = row.ColumnInt(0);
  reportTemplate.key = row.ColumnText(1);
  reportTemplate.version = static_cast<int>(row.ColumnInt(2));
  reportTemplate.name = row.ColumnText(3);
  reportTemplate.modalities = SplitModalities(row.ColumnText(4));
  reportTemplate.exam = row.ColumnText(5);
  Json::Value definition;
  if (JsonText::Parse(row.ColumnText(6), definition))
    reportTemplate.sections = SectionsFromDefinition(definition);
  reportTemplate.active = row.ColumnInt(7) != 0;
  reportTemplate.createdAt = row.ColumnInt(8);
  reportTemplate.createdBy = row.ColumnText(9);
  return reportTemplate;
}

void BindReport(Statement& statement, int first, const Report& report) {
  int i = first;
  auto text = [&](const std::string& value) { statement.Bind(i++, value); };
  auto number = [&](int64_t value) { statement.Bind(i++, value); };
  text(report.orthancId);
  text(report.studyUid);
  text(report.accession);
  text(report.patientId);
  text(report.patientName);
  text(report.patientBirthDate);
  text(report.patientSex);
  text(report.studyDate);
  text(report.studyTime);
  text(report.description);
  text(JoinModalities(report.modalities));
  text(report.site);
  number(report.orderId);
  text(report.orderRef);
  text(report.referring);
  text(report.reason);
  text(report.priority);
  number(PriorityRank(report.priority));
  text(report.status);
  number(ReportStatus::IsOpen(report.status) && !report.studyGone ? 1 : 0);
  text(report.assignedTo);
  number(report.assignedAt);
  number(report.queuedAt);
  number(report.dueAt);
  number(report.studyGone ? 1 : 0);
  number(report.latestVersion);
  number(report.signedVersion);
  number(report.finalAt);
  number(report.critical ? 1 : 0);
  number(report.updatedAt);
}

const char kReportValueColumns[] =
    "orthanc_id, study_uid, accession, patient_id, patient_name, patient_birth_date, patient_sex, "
    "study_date, "
    "study_time, description, modalities, site, order_id, order_ref, referring, reason, priority, "
    "priority_rank, status, open, assigned_to, assigned_at, queued_at, due_at, study_gone, latest_version, "
    "signed_version, final_at, critical, updated_at";

}  // namespace

Json::Value CriticalCommunication::ToJson() const {
  Json::Value json(Json::objectValue);
  json["version"] = version;
  json["to"] = to;
  json["at"] = Time::FormatIsoUtc(at);
  json["method"] = method;
  json["note"] = note;
  json["recorded_by"] = recordedBy;
  json["recorded_at"] = Time::FormatIsoUtc(recordedAt);
  return json;
}

// --- templates ---------------------------------------------------------------

std::vector<ReportTemplate> ReportStore::Templates(bool includeInactive) {
  return InRead(database_, [&](Transaction& transaction) {
    Statement rows(transaction, std::string("SELECT ") + kTemplateColumns +
                                    " FROM report_templates t WHERE version = (SELECT max(version) FROM "
                                    "report_templates u WHERE u.template_key = t.template_key)" +
                                    (includeInactive ? "" : " AND active = 1") +
                                    " ORDER BY name, template_key");
    std::vector<ReportTemplate> templates;
    while (rows.Step()) templates.push_back(ReadTemplate(rows));
    return templates;
  });
}

std::optional<ReportTemplate> ReportStore::FindTemplate(const std::string& key, int version) {
  return InRead(database_, [&](Transaction& transaction) { return FindTemplate(transaction, key, version); });
}

std::optional<ReportTemplate> ReportStore::FindTemplate(Transaction& transaction, const std::string& key,
                                                        int version) {
  Statement row(transaction, std::string("SELECT ") + kTemplateColumns +
                                 " FROM report_templates WHERE template_key = ?" +
                                 (version > 0 ? " AND version = ?" : "") + " ORDER BY version DESC LIMIT 1");
  row.Bind(1, key);
  if (version > 0) row.Bind(2, version);
  if (!row.Step()) return std::nullopt;
  return ReadTemplate(row);
}

std::optional<ReportTemplate> ReportStore::TemplateById(Transaction& transaction, int64_t id) {
  Statement row(transaction,
                std::string("SELECT ") + kTemplateColumns + " FROM report_templates WHERE id = ?");
  row.Bind(1, id);
  if (!row.Step()) return std::nullopt;
  return ReadTemplate(row);
}

std::optional<ReportTemplate> ReportStore::TemplateById(int64_t id) {
  return InRead(database_, [&](Transaction& transaction) { return TemplateById(transaction, id); });
}

void ReportStore::InsertTemplateVersion(Transaction& transaction, ReportTemplate& reportTemplate) {
  Statement max(transaction, "SELECT coalesce(max(version), 0) FROM report_templates WHERE template_key = ?");
  max.Bind(1, reportTemplate.key);
  max.Step();
  reportTemplate.version = static_cast<int>(max.ColumnInt(0)) + 1;
  Statement insert(transaction,
                   "INSERT INTO report_templates (template_key, version, name, modalities, exam, definition, "
                   "active, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  insert.Bind(1, reportTemplate.key)
      .Bind(2, reportTemplate.version)
      .Bind(3, reportTemplate.name)
      .Bind(4, JoinModalities(reportTemplate.modalities))
      .Bind(5, reportTemplate.exam)
      .Bind(6, JsonText::Write(reportTemplate.Definition()))
      .Bind(7, reportTemplate.active ? 1 : 0)
      .Bind(8, reportTemplate.createdAt)
      .Bind(9, reportTemplate.createdBy);
  if (!insert.Step()) throw DatabaseError("the template was not inserted", 0);
  reportTemplate.id = insert.ColumnInt(0);
}

// --- reports -----------------------------------------------------------------

bool ReportStore::InsertIfAbsent(Transaction& transaction, Report& report) {
  Statement insert(transaction,
                   std::string("INSERT INTO reports (") + kReportValueColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                       "?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (orthanc_id) DO NOTHING RETURNING id");
  BindReport(insert, 1, report);
  if (!insert.Step()) return false;
  report.id = insert.ColumnInt(0);
  return true;
}

void ReportStore::Update(Transaction& transaction, const Report& report) {
  Statement update(
      transaction,
      "UPDATE reports SET orthanc_id = ?, study_uid = ?, accession = ?, patient_id = ?, "
      "patient_name = ?, patient_birth_date = ?, patient_sex = ?, study_date = ?, study_time = ?, "
      "description = ?, modalities = ?, site = ?, order_id = ?, order_ref = ?, referring = ?, "
      "reason = ?, priority = ?, priority_rank = ?, status = ?, open = ?, assigned_to = ?, "
      "assigned_at = ?, queued_at = ?, due_at = ?, study_gone = ?, latest_version = ?, "
      "signed_version = ?, final_at = ?, critical = ?, updated_at = ? WHERE id = ?");
  BindReport(update, 1, report);
  update.Bind(31, report.id);
  update.Run();
}

std::optional<Report> ReportStore::Find(int64_t id) {
  return InRead(database_, [&](Transaction& transaction) { return Find(transaction, id); });
}

std::optional<Report> ReportStore::Find(Transaction& transaction, int64_t id) {
  Statement row(transaction, std::string("SELECT ") + kReportColumns + " FROM reports WHERE id = ?");
  row.Bind(1, id);
  if (!row.Step()) return std::nullopt;
  return ReadReport(row);
}

std::optional<Report> ReportStore::FindByOrthancId(Transaction& transaction, const std::string& orthancId) {
  Statement row(transaction, std::string("SELECT ") + kReportColumns + " FROM reports WHERE orthanc_id = ?");
  row.Bind(1, orthancId);
  if (!row.Step()) return std::nullopt;
  return ReadReport(row);
}

std::optional<Report> ReportStore::FindByOrthancId(const std::string& orthancId) {
  return InRead(database_, [&](Transaction& transaction) { return FindByOrthancId(transaction, orthancId); });
}

QueuePage ReportStore::Queue(const QueueFilter& filter) {
  std::string where;
  // Parameters are bound in order: every condition adds its own.
  struct Parameter {
    bool isText;
    std::string text;
    int64_t number;
  };
  std::vector<Parameter> parameters;
  auto add = [&where](const std::string& condition) {
    where += (where.empty() ? " WHERE " : " AND ") + condition;
  };
  const bool openOnly = filter.status == "open";
  if (openOnly) {
    add("open = 1");
  } else if (filter.status == "final") {
    add("status IN ('final', 'amended')");
  } else if (filter.status != "all") {
    add("status = ?");
    parameters.push_back({true, filter.status, 0});
  }
  if (!filter.priority.empty()) {
    add("priority_rank = ?");
    parameters.push_back({false, "", PriorityRank(filter.priority)});
  }
  if (filter.overdueOnly) {
    if (!openOnly) add("open = 1");
    add("due_at < ?");
    parameters.push_back({false, "", filter.now});
  }
  if (!filter.assignedTo.empty()) {
    add("assigned_to = ?");
    parameters.push_back({true, filter.assignedTo == "-" ? "" : filter.assignedTo, 0});
  }
  if (!filter.site.empty()) {
    add("site = ?");
    parameters.push_back({true, filter.site, 0});
  }
  if (!filter.studyUid.empty()) {
    add("study_uid = ?");
    parameters.push_back({true, filter.studyUid, 0});
  }
  if (!filter.patientId.empty()) {
    add("patient_id = ?");
    parameters.push_back({true, filter.patientId, 0});
  }
  if (!filter.modality.empty()) {
    add("modalities LIKE ? ESCAPE '!'");
    std::string escaped;
    for (char c : filter.modality) {
      if (c == '%' || c == '_' || c == '!') escaped += '!';
      escaped += c;
    }
    parameters.push_back({true, "%\\" + escaped + "\\%", 0});
  }
  auto bindAll = [&parameters](Statement& statement) {
    int i = 1;
    for (const Parameter& parameter : parameters) {
      if (parameter.isText) {
        statement.Bind(i++, parameter.text);
      } else {
        statement.Bind(i++, parameter.number);
      }
    }
    return i;
  };
  const std::string order = openOnly || filter.overdueOnly ? " ORDER BY open DESC, priority_rank, due_at, id"
                                                           : " ORDER BY updated_at DESC, id DESC";
  return InRead(database_, [&](Transaction& transaction) {
    QueuePage page;
    Statement count(transaction, "SELECT count(*) FROM reports" + where);
    bindAll(count);
    count.Step();
    page.total = count.ColumnInt(0);
    Statement rows(transaction, std::string("SELECT ") + kReportColumns + " FROM reports" + where + order +
                                    " LIMIT ? OFFSET ?");
    int next = bindAll(rows);
    rows.Bind(next, filter.limit).Bind(next + 1, filter.offset);
    while (rows.Step()) page.reports.push_back(ReadReport(rows));
    return page;
  });
}

int64_t ReportStore::CountOpen() {
  return InRead(database_, [&](Transaction& transaction) {
    Statement count(transaction, "SELECT count(*) FROM reports WHERE open = 1");
    count.Step();
    return count.ColumnInt(0);
  });
}

// --- versions ----------------------------------------------------------------

void ReportStore::InsertVersion(Transaction& transaction, ReportVersion& version) {
  Statement insert(transaction,
                   "INSERT INTO report_versions (report_id, version, kind, template_id, content, author, "
                   "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  insert.Bind(1, version.reportId)
      .Bind(2, version.version)
      .Bind(3, version.kind)
      .Bind(4, version.templateId)
      .Bind(5, JsonText::Write(version.content))
      .Bind(6, version.author)
      .Bind(7, version.createdAt)
      .Bind(8, version.updatedAt);
  if (!insert.Step()) throw DatabaseError("the report version was not inserted", 0);
  version.id = insert.ColumnInt(0);
}

void ReportStore::UpdateDraft(Transaction& transaction, const ReportVersion& version) {
  Statement update(transaction,
                   "UPDATE report_versions SET template_id = ?, content = ?, author = ?, updated_at = ? "
                   "WHERE id = ? AND signed_status = ''");
  update.Bind(1, version.templateId)
      .Bind(2, JsonText::Write(version.content))
      .Bind(3, version.author)
      .Bind(4, version.updatedAt)
      .Bind(5, version.id)
      .Run();
  if (transaction.Changes() != 1) throw DomainError::Conflict("This version is signed already");
}

void ReportStore::SignVersion(Transaction& transaction, const ReportVersion& version,
                              const std::string& pdf) {
  Statement update(
      transaction,
      "UPDATE report_versions SET content = ?, signed_status = ?, signed_by = ?, signed_role = ?, "
      "signed_at = ?, canonical = ?, content_hash = ?, pdf = ?, updated_at = ? "
      "WHERE id = ? AND signed_status = ''");
  update.Bind(1, JsonText::Write(version.content))
      .Bind(2, version.signedStatus)
      .Bind(3, version.signedBy)
      .Bind(4, version.signedRole)
      .Bind(5, version.signedAt)
      .Bind(6, version.canonical)
      .Bind(7, version.contentHash)
      .BindBlob(8, pdf)
      .Bind(9, version.signedAt)
      .Bind(10, version.id)
      .Run();
  if (transaction.Changes() != 1) throw DomainError::Conflict("This report is signed already");
}

std::optional<ReportVersion> ReportStore::FindVersion(Transaction& transaction, int64_t reportId,
                                                      int version) {
  Statement row(transaction, std::string("SELECT ") + kVersionColumns +
                                 " FROM report_versions WHERE report_id = ? AND version = ?");
  row.Bind(1, reportId).Bind(2, version);
  if (!row.Step()) return std::nullopt;
  return ReadVersion(row);
}

std::optional<ReportVersion> ReportStore::FindVersion(int64_t reportId, int version) {
  return InRead(database_,
                [&](Transaction& transaction) { return FindVersion(transaction, reportId, version); });
}

std::vector<ReportVersion> ReportStore::Versions(int64_t reportId) {
  return InRead(database_, [&](Transaction& transaction) {
    Statement rows(transaction, std::string("SELECT ") + kVersionColumns +
                                    " FROM report_versions WHERE report_id = ? ORDER BY version");
    rows.Bind(1, reportId);
    std::vector<ReportVersion> versions;
    while (rows.Step()) versions.push_back(ReadVersion(rows));
    return versions;
  });
}

bool ReportStore::Pdf(int64_t reportId, int version, std::string& pdf) {
  return InRead(database_, [&](Transaction& transaction) {
    Statement row(transaction,
                  "SELECT pdf FROM report_versions WHERE report_id = ? AND version = ? AND pdf IS NOT NULL");
    row.Bind(1, reportId).Bind(2, version);
    if (!row.Step()) return false;
    pdf = row.ColumnBlob(0);
    return true;
  });
}

std::vector<ReportVersion> ReportStore::Undelivered(int limit) {
  return InRead(database_, [&](Transaction& transaction) {
    Statement rows(transaction, std::string("SELECT ") + kVersionColumns +
                                    " FROM report_versions WHERE delivered_at = 0 AND signed_at > 0 "
                                    "ORDER BY signed_at, id LIMIT ?");
    rows.Bind(1, limit);
    std::vector<ReportVersion> versions;
    while (rows.Step()) versions.push_back(ReadVersion(rows));
    return versions;
  });
}

void ReportStore::MarkDelivered(Transaction& transaction, int64_t versionId, const std::string& pdfInstance,
                                const std::string& srInstance, int64_t at) {
  Statement update(transaction,
                   "UPDATE report_versions SET pdf_instance = ?, sr_instance = ?, delivered_at = ?, "
                   "delivery_error = '' WHERE id = ?");
  update.Bind(1, pdfInstance).Bind(2, srInstance).Bind(3, at).Bind(4, versionId).Run();
}

void ReportStore::MarkDeliveryError(int64_t versionId, const std::string& error) {
  InWrite(database_, [&](Transaction& transaction) {
    Statement update(transaction, "UPDATE report_versions SET delivery_error = ? WHERE id = ?");
    update.Bind(1, error.substr(0, 500)).Bind(2, versionId).Run();
  });
}

// --- critical findings -------------------------------------------------------

void ReportStore::AddCritical(Transaction& transaction, CriticalCommunication& communication) {
  Statement insert(transaction,
                   "INSERT INTO report_critical_communications (report_id, version, communicated_to, "
                   "communicated_at, method, note, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                   "RETURNING id");
  insert.Bind(1, communication.reportId)
      .Bind(2, communication.version)
      .Bind(3, communication.to)
      .Bind(4, communication.at)
      .Bind(5, communication.method)
      .Bind(6, communication.note)
      .Bind(7, communication.recordedBy)
      .Bind(8, communication.recordedAt);
  if (!insert.Step()) throw DatabaseError("the communication was not recorded", 0);
  communication.id = insert.ColumnInt(0);
}

std::vector<CriticalCommunication> ReportStore::Criticals(int64_t reportId) {
  return InRead(database_, [&](Transaction& transaction) { return Criticals(transaction, reportId); });
}

std::vector<CriticalCommunication> ReportStore::Criticals(Transaction& transaction, int64_t reportId) {
  Statement rows(
      transaction,
      "SELECT id, report_id, version, communicated_to, communicated_at, method, note, recorded_by, "
      "recorded_at FROM report_critical_communications WHERE report_id = ? ORDER BY id");
  rows.Bind(1, reportId);
  std::vector<CriticalCommunication> list;
  while (rows.Step()) {
    CriticalCommunication c;
    c.id = rows.ColumnInt(0);
    c.reportId = rows.ColumnInt(1);
    c.version = static_cast<int>(rows.ColumnInt(2));
    c.to = rows.ColumnText(3);
    c.at = rows.ColumnInt(4);
    c.method = rows.ColumnText(5);
    c.note = rows.ColumnText(6);
    c.recordedBy = rows.ColumnText(7);
    c.recordedAt = rows.ColumnInt(8);
    list.push_back(c);
  }
  return list;
}

// --- changes -----------------------------------------------------------------

int64_t ReportStore::AddChange(Transaction& transaction, int64_t reportId, const std::string& kind,
                               const std::string& actor, int64_t at) {
  Statement insert(
      transaction,
      "INSERT INTO report_changes (report_id, kind, actor, at) VALUES (?, ?, ?, ?) RETURNING seq");
  insert.Bind(1, reportId).Bind(2, kind).Bind(3, actor).Bind(4, at);
  if (!insert.Step()) throw DatabaseError("the change was not recorded", 0);
  return insert.ColumnInt(0);
}

int64_t ReportStore::LatestSeq() {
  return InRead(database_, [&](Transaction& transaction) {
    Statement max(transaction, "SELECT coalesce(max(seq), 0) FROM report_changes");
    max.Step();
    return max.ColumnInt(0);
  });
}

std::vector<ReportChange> ReportStore::ChangesAfter(int64_t seq, int limit) {
  return InRead(database_, [&](Transaction& transaction) {
    Statement rows(
        transaction,
        "SELECT seq, report_id, kind, actor, at FROM report_changes WHERE seq > ? ORDER BY seq LIMIT ?");
    rows.Bind(1, seq).Bind(2, limit);
    std::vector<ReportChange> changes;
    while (rows.Step()) {
      changes.push_back(ReportChange{rows.ColumnInt(0), rows.ColumnInt(1), rows.ColumnText(2),
                                     rows.ColumnText(3), rows.ColumnInt(4)});
    }
    return changes;
  });
}

}  // namespace HospitalBridge
