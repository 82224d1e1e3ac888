#include "Index/StudyIndexStore.h"

#include <sstream>

#include "Common/PluginState.h"
#include "Common/Text.h"
#include "Common/Time.h"
#include "Index/StudyEventLog.h"

namespace HospitalBridge {
namespace {
// origin_site comes from study_origins, kept apart because the index is
// rebuilt from Orthanc, which does not know where a study came from.
const char kColumns[] =
    "orthanc_id, study_uid, patient_id, patient_name, patient_birth_date, patient_sex, study_date, "
    "study_time, "
    "description, accession_number, modalities, series_count, instance_count, first_received, last_received, "
    "orthanc_last_update, sources, "
    "coalesce((SELECT site_id FROM study_origins o WHERE o.study_uid = studies.study_uid), ''), "
    "coalesce((SELECT federation FROM study_restrictions r WHERE r.study_uid = studies.study_uid), 0), "
    "coalesce((SELECT share FROM study_restrictions r WHERE r.study_uid = studies.study_uid), 0), stable";
const char kNewestFirst[] = " ORDER BY study_date DESC, study_time DESC, first_received DESC, orthanc_id";

std::string JoinModalities(const std::vector<std::string>& modalities) {
  std::string joined;
  for (const std::string& modality : modalities) joined += (joined.empty() ? "" : "\\") + modality;
  return joined;
}

std::vector<std::string> SplitModalities(const std::string& joined) {
  std::vector<std::string> modalities;
  std::stringstream stream(joined);
  std::string item;
  while (std::getline(stream, item, '\\')) {
    if (!item.empty()) modalities.push_back(item);
  }
  return modalities;
}

StudyRecord Read(Statement& row) {
  StudyRecord r;
  r.orthancId = row.ColumnText(0);
  r.studyUid = row.ColumnText(1);
  r.patientId = row.ColumnText(2);
  r.patientName = row.ColumnText(3);
  r.patientBirthDate = row.ColumnText(4);
  r.patientSex = row.ColumnText(5);
  r.studyDate = row.ColumnText(6);
  r.studyTime = row.ColumnText(7);
  r.description = row.ColumnText(8);
  r.accessionNumber = row.ColumnText(9);
  r.modalities = SplitModalities(row.ColumnText(10));
  r.seriesCount = row.ColumnInt(11);
  r.instanceCount = row.ColumnInt(12);
  r.firstReceived = row.ColumnInt(13);
  r.lastReceived = row.ColumnInt(14);
  r.orthancLastUpdate = row.ColumnText(15);
  r.sources = StudyRecord::SourcesFromStorage(row.ColumnText(16));
  r.originSite = row.ColumnText(17);
  r.restrictedFederation = row.ColumnInt(18) != 0;
  r.restrictedShare = row.ColumnInt(19) != 0;
  r.stable = row.ColumnInt(20) != 0;
  return r;
}

}  // namespace

void StudyIndexStore::Upsert(Transaction& transaction, const StudyRecord& r) {
  Statement upsert(
      transaction,
      "INSERT INTO studies (orthanc_id, study_uid, patient_id, patient_name, patient_birth_date, "
      "patient_sex, study_date, study_time, description, accession_number, modalities, series_count, "
      "instance_count, first_received, last_received, orthanc_last_update, sources, indexed_at, stable) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (orthanc_id) DO UPDATE SET study_uid = excluded.study_uid, "
      "patient_id = excluded.patient_id, patient_name = excluded.patient_name, "
      "patient_birth_date = excluded.patient_birth_date, patient_sex = excluded.patient_sex, "
      "study_date = excluded.study_date, study_time = excluded.study_time, "
      "description = excluded.description, accession_number = excluded.accession_number, "
      "modalities = excluded.modalities, series_count = excluded.series_count, "
      "instance_count = excluded.instance_count, first_received = excluded.first_received, "
      "last_received = excluded.last_received, orthanc_last_update = excluded.orthanc_last_update, "
      "sources = excluded.sources, indexed_at = excluded.indexed_at, stable = excluded.stable");
  upsert.Bind(1, r.orthancId)
      .Bind(2, r.studyUid)
      .Bind(3, r.patientId)
      .Bind(4, r.patientName)
      .Bind(5, r.patientBirthDate)
      .Bind(6, r.patientSex)
      .Bind(7, r.studyDate)
      .Bind(8, r.studyTime)
      .Bind(9, r.description)
      .Bind(10, r.accessionNumber)
      .Bind(11, JoinModalities(r.modalities))
      .Bind(12, r.seriesCount)
      .Bind(13, r.instanceCount)
      .Bind(14, r.firstReceived)
      .Bind(15, r.lastReceived)
      .Bind(16, r.orthancLastUpdate)
      .Bind(17, r.SourcesToStorage())
      .Bind(18, Time::NowSeconds())
      .Bind(19, r.stable ? 1 : 0)
      .Run();
  Statement clear(transaction, "DELETE FROM study_modalities WHERE orthanc_id = ?");
  clear.Bind(1, r.orthancId).Run();
  Statement add(transaction,
                "INSERT INTO study_modalities (modality, orthanc_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
  for (const std::string& modality : r.modalities) {
    add.Reset();
    add.Bind(1, modality).Bind(2, r.orthancId).Run();
  }
}

void StudyIndexStore::Upsert(const StudyRecord& record) {
  InWrite(database_, [&](Transaction& t) { Upsert(t, record); });
}

void StudyIndexStore::Record(const StudyRecord& record) {
  InWrite(database_, [&](Transaction& t) {
    Upsert(t, record);
    StudyEventLog::Append(t, record.orthancId, record.studyUid, record.stable ? "stable" : "indexed",
                          Time::NowSeconds());
  });
}

void StudyIndexStore::Forget(const std::string& orthancId) {
  InWrite(database_, [&](Transaction& t) {
    std::optional<StudyRecord> previous = FindByOrthancId(t, orthancId);
    if (!previous) return;
    Remove(t, orthancId);
    StudyEventLog::Append(t, orthancId, previous->studyUid, "deleted", Time::NowSeconds());
  });
}

std::vector<std::string> StudyIndexStore::NotStable() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction, "SELECT orthanc_id FROM studies WHERE stable = 0");
  std::vector<std::string> ids;
  while (select.Step()) ids.push_back(select.ColumnText(0));
  return ids;
}

void StudyIndexStore::Remove(Transaction& transaction, const std::string& orthancId) {
  Statement modalities(transaction, "DELETE FROM study_modalities WHERE orthanc_id = ?");
  modalities.Bind(1, orthancId).Run();
  Statement study(transaction, "DELETE FROM studies WHERE orthanc_id = ?");
  study.Bind(1, orthancId).Run();
}

void StudyIndexStore::Remove(const std::string& orthancId) {
  InWrite(database_, [&](Transaction& t) { Remove(t, orthancId); });
}

std::vector<StudyRecord> StudyIndexStore::Select(Transaction& transaction, const std::string& whereClause,
                                                 const std::vector<std::string>& parameters,
                                                 const std::string& tail) {
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM studies " + whereClause + tail);
  for (size_t i = 0; i < parameters.size(); i++) select.Bind(static_cast<int>(i + 1), parameters[i]);
  std::vector<StudyRecord> records;
  while (select.Step()) records.push_back(Read(select));
  return records;
}

std::optional<StudyRecord> StudyIndexStore::FindByOrthancId(Transaction& transaction,
                                                            const std::string& orthancId) {
  std::vector<StudyRecord> found = Select(transaction, "WHERE orthanc_id = ?", {orthancId}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<StudyRecord> StudyIndexStore::FindByOrthancId(const std::string& orthancId) {
  return InRead(database_, [&](Transaction& t) { return FindByOrthancId(t, orthancId); });
}

std::optional<StudyRecord> StudyIndexStore::FindByUid(const std::string& studyUid) {
  Transaction transaction(database_, TransactionMode::kRead);
  std::vector<StudyRecord> found = Select(transaction, "WHERE study_uid = ?", {studyUid},
                                          " ORDER BY last_received DESC, orthanc_id LIMIT 1");
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<StudyRecord> StudyIndexStore::FindByAccession(const std::string& accessionNumber) {
  if (accessionNumber.empty()) return {};
  Transaction transaction(database_, TransactionMode::kRead);
  return Select(transaction, "WHERE accession_number = ?", {accessionNumber},
                " ORDER BY study_date DESC, study_time DESC, last_received DESC, orthanc_id LIMIT 20");
}

StudyPage StudyIndexStore::Search(const StudyFilter& filter) {
  std::string where = "WHERE 1 = 1";
  std::vector<std::string> parameters;
  if (!filter.patientId.empty()) {
    where += " AND patient_id = ?";
    parameters.push_back(filter.patientId);
  }
  if (!filter.fromDate.empty()) {
    where += " AND study_date <> '' AND study_date >= ?";
    parameters.push_back(filter.fromDate);
  }
  if (!filter.toDate.empty()) {
    where += " AND study_date <> '' AND study_date <= ?";
    parameters.push_back(filter.toDate);
  }
  if (filter.receivedFrom > 0) {
    where += " AND last_received >= CAST(? AS INTEGER)";
    parameters.push_back(std::to_string(filter.receivedFrom));
  }
  if (!filter.modality.empty()) {
    where += " AND orthanc_id IN (SELECT orthanc_id FROM study_modalities WHERE modality = ?)";
    parameters.push_back(filter.modality);
  }
  // Every word must appear in the name, the description or the accession
  // number ("john doe" finds "DOE^JOHN").
  std::stringstream words(filter.text);
  std::string word;
  while (words >> word) {
    where +=
        " AND (patient_name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR accession_number LIKE ? "
        "ESCAPE '\\')";
    for (int i = 0; i < 3; i++) parameters.push_back(Text::LikeContains(word));
  }

  StudyPage page;
  Transaction transaction(database_, TransactionMode::kRead);
  {
    Statement count(transaction, "SELECT count(*) FROM studies " + where);
    for (size_t i = 0; i < parameters.size(); i++) count.Bind(static_cast<int>(i + 1), parameters[i]);
    count.Step();
    page.total = count.ColumnInt(0);
  }
  page.studies = Select(transaction, where, parameters,
                        std::string(kNewestFirst) + " LIMIT " + std::to_string(filter.limit) + " OFFSET " +
                            std::to_string(filter.offset));
  return page;
}

std::map<std::string, std::string> StudyIndexStore::LastUpdates() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction, "SELECT orthanc_id, orthanc_last_update FROM studies");
  std::map<std::string, std::string> result;
  while (select.Step()) result[select.ColumnText(0)] = select.ColumnText(1);
  return result;
}

IndexCounts StudyIndexStore::Counts() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT count(*), count(DISTINCT patient_id), coalesce(sum(instance_count), 0) FROM studies");
  select.Step();
  return IndexCounts{select.ColumnInt(0), select.ColumnInt(1), select.ColumnInt(2)};
}

std::string StudyIndexStore::GetState(const std::string& key) { return GetPluginState(database_, key); }

void StudyIndexStore::SetState(const std::string& key, const std::string& value) {
  SetPluginState(database_, key, value);
}

}  // namespace HospitalBridge
