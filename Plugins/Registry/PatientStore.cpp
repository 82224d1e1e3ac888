#include "Registry/PatientStore.h"

#include <sstream>

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kColumns[] =
    "id, coalesce(national_id, ''), first_name, last_name, birth_date, sex, phone, status, merged_into, "
    "created_at, "
    "updated_at";

Patient Read(Statement& row) {
  Patient p;
  p.id = row.ColumnText(0);
  p.nationalId = row.ColumnText(1);
  p.firstName = row.ColumnText(2);
  p.lastName = row.ColumnText(3);
  p.birthDate = row.ColumnText(4);
  p.sex = row.ColumnText(5);
  p.phone = row.ColumnText(6);
  p.status = row.ColumnText(7);
  p.mergedInto = row.ColumnText(8);
  p.createdAt = row.ColumnInt(9);
  p.updatedAt = row.ColumnInt(10);
  return p;
}

// Ten characters of an unambiguous alphabet: about 50 bits, so that two
// sites (or a million entries) never draw the same id.
std::string NewPatientId() {
  static const char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string bytes = Crypto::RandomBytes(10);
  std::string id = "PAT-";
  for (unsigned char c : bytes) id.push_back(kAlphabet[c % 32]);
  return id;
}

void BindNationalId(Statement& statement, int index, const std::string& nationalId) {
  if (nationalId.empty()) {
    statement.BindNull(index);
  } else {
    statement.Bind(index, nationalId);
  }
}

}  // namespace

std::string Patient::DisplayName() const {
  if (lastName.empty()) return firstName;
  if (firstName.empty()) return lastName;
  return lastName + ", " + firstName;
}

Json::Value Patient::ToJson() const {
  Json::Value json(Json::objectValue);
  json["id"] = id;
  json["national_id"] = nationalId;
  json["first_name"] = firstName;
  json["last_name"] = lastName;
  json["name"] = DisplayName();
  json["date_of_birth"] = Time::DicomDateToIso(birthDate);
  json["gender"] = sex;
  json["phone"] = phone;
  json["status"] = status;
  json["merged_into"] = mergedInto;
  json["identifiers"] = Json::Value(Json::arrayValue);
  for (const PatientIdentifier& identifier : identifiers) {
    Json::Value item(Json::objectValue);
    item["site_id"] = identifier.siteId;
    item["patient_id"] = identifier.localId;
    item["issuer"] = identifier.issuer;
    json["identifiers"].append(item);
  }
  json["created_at"] = Time::FormatIsoUtc(createdAt);
  json["updated_at"] = Time::FormatIsoUtc(updatedAt);
  return json;
}

std::vector<PatientIdentifier> PatientStore::Identifiers(Transaction& transaction,
                                                         const std::string& patientId) {
  Statement select(transaction,
                   "SELECT site_id, local_id, issuer FROM patient_identifiers WHERE patient_id = ? "
                   "ORDER BY site_id, local_id");
  select.Bind(1, patientId);
  std::vector<PatientIdentifier> identifiers;
  while (select.Step())
    identifiers.push_back({select.ColumnText(0), select.ColumnText(1), select.ColumnText(2)});
  return identifiers;
}

std::optional<Patient> PatientStore::FindWhere(Transaction& transaction, const std::string& where,
                                               const std::string& value) {
  Statement select(transaction, std::string("SELECT ") + kColumns + " FROM patients WHERE " + where);
  select.Bind(1, value);
  if (!select.Step()) return std::nullopt;
  Patient patient = Read(select);
  patient.identifiers = Identifiers(transaction, patient.id);
  return patient;
}

std::optional<Patient> PatientStore::Find(Transaction& transaction, const std::string& id) {
  return FindWhere(transaction, "id = ?", id);
}

std::optional<Patient> PatientStore::Find(const std::string& id) {
  return InRead(database_, [&](Transaction& t) { return Find(t, id); });
}

std::optional<Patient> PatientStore::FindByNationalId(Transaction& transaction,
                                                      const std::string& nationalId) {
  if (nationalId.empty()) return std::nullopt;
  return FindWhere(transaction, "national_id = ?", nationalId);
}

std::optional<Patient> PatientStore::FindByNationalId(const std::string& nationalId) {
  return InRead(database_, [&](Transaction& t) { return FindByNationalId(t, nationalId); });
}

std::optional<Patient> PatientStore::FindByIdentifier(Transaction& transaction, const std::string& siteId,
                                                      const std::string& localId) {
  std::string patientId;
  {
    Statement select(transaction,
                     "SELECT patient_id FROM patient_identifiers WHERE site_id = ? AND local_id = ?");
    select.Bind(1, siteId).Bind(2, localId);
    if (!select.Step()) return std::nullopt;
    patientId = select.ColumnText(0);
  }
  return Find(transaction, patientId);
}

std::optional<Patient> PatientStore::FindByIdentifier(const std::string& siteId, const std::string& localId) {
  return InRead(database_, [&](Transaction& t) { return FindByIdentifier(t, siteId, localId); });
}

Patient PatientStore::Create(Transaction& transaction, Patient patient) {
  if (FindByNationalId(transaction, patient.nationalId)) {
    throw DomainError::Conflict("A patient with this national ID is already registered", patient.nationalId);
  }
  patient.id = NewPatientId();
  patient.createdAt = patient.updatedAt = Time::NowSeconds();
  Statement insert(
      transaction,
      "INSERT INTO patients (id, national_id, first_name, last_name, birth_date, sex, phone, status, "
      "merged_into, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)");
  insert.Bind(1, patient.id);
  BindNationalId(insert, 2, patient.nationalId);
  insert.Bind(3, patient.firstName)
      .Bind(4, patient.lastName)
      .Bind(5, patient.birthDate)
      .Bind(6, patient.sex)
      .Bind(7, patient.phone)
      .Bind(8, patient.status)
      .Bind(9, patient.createdAt)
      .Bind(10, patient.updatedAt)
      .Run();
  for (const PatientIdentifier& identifier : patient.identifiers)
    AddIdentifier(transaction, patient.id, identifier);
  return *Find(transaction, patient.id);
}

Patient PatientStore::Create(Patient patient) {
  return InWrite(database_, [&](Transaction& t) { return Create(t, patient); });
}

void PatientStore::Update(Transaction& transaction, const Patient& patient) {
  std::optional<Patient> holder = FindByNationalId(transaction, patient.nationalId);
  if (holder && holder->id != patient.id) {
    throw DomainError::Conflict("Another patient has this national ID", holder->id);
  }
  Statement update(
      transaction,
      "UPDATE patients SET national_id = ?, first_name = ?, last_name = ?, birth_date = ?, sex = ?, "
      "phone = ?, status = ?, updated_at = ? WHERE id = ?");
  BindNationalId(update, 1, patient.nationalId);
  update.Bind(2, patient.firstName)
      .Bind(3, patient.lastName)
      .Bind(4, patient.birthDate)
      .Bind(5, patient.sex)
      .Bind(6, patient.phone)
      .Bind(7, patient.status)
      .Bind(8, Time::NowSeconds())
      .Bind(9, patient.id)
      .Run();
}

void PatientStore::Update(const Patient& patient) {
  InWrite(database_, [&](Transaction& t) { Update(t, patient); });
}

void PatientStore::AddIdentifier(Transaction& transaction, const std::string& patientId,
                                 const PatientIdentifier& identifier) {
  {
    Statement holder(transaction,
                     "SELECT patient_id FROM patient_identifiers WHERE site_id = ? AND local_id = ?");
    holder.Bind(1, identifier.siteId).Bind(2, identifier.localId);
    if (holder.Step()) {
      if (holder.ColumnText(0) == patientId) return;
      throw DomainError::Conflict("This identifier belongs to another patient entry",
                                  identifier.siteId + " " + identifier.localId + " is held by " +
                                      holder.ColumnText(0) + "; merge the two entries instead");
    }
  }
  Statement insert(
      transaction,
      "INSERT INTO patient_identifiers (site_id, local_id, issuer, patient_id) VALUES (?, ?, ?, ?)");
  insert.Bind(1, identifier.siteId)
      .Bind(2, identifier.localId)
      .Bind(3, identifier.issuer)
      .Bind(4, patientId)
      .Run();
}

void PatientStore::AddIdentifier(const std::string& patientId, const PatientIdentifier& identifier) {
  InWrite(database_, [&](Transaction& t) { AddIdentifier(t, patientId, identifier); });
}

void PatientStore::Merge(const std::string& survivorId, const std::string& mergedId,
                         const std::string& byUser, const std::string& reason) {
  if (survivorId == mergedId) throw DomainError::Invalid("An entry cannot be merged into itself", "from");
  Transaction transaction(database_, TransactionMode::kWrite);
  std::optional<Patient> survivor = Find(transaction, survivorId);
  std::optional<Patient> merged = Find(transaction, mergedId);
  if (!survivor) throw DomainError::NotFound("No such patient", survivorId);
  if (!merged) throw DomainError::NotFound("No such patient", mergedId);
  if (!survivor->mergedInto.empty() || !merged->mergedInto.empty()) {
    throw DomainError::Conflict("One of the entries was merged already",
                                survivor->mergedInto.empty()
                                    ? mergedId + " was merged into " + merged->mergedInto
                                    : survivorId + " was merged into " + survivor->mergedInto);
  }
  if (!survivor->nationalId.empty() && !merged->nationalId.empty() &&
      survivor->nationalId != merged->nationalId) {
    throw DomainError::Conflict("The two entries have different national IDs",
                                "they are most likely two people; correct the national ID first");
  }
  Json::Value moved(Json::arrayValue);
  for (const PatientIdentifier& identifier : merged->identifiers) {
    Json::Value item(Json::objectValue);
    item["site_id"] = identifier.siteId;
    item["patient_id"] = identifier.localId;
    item["issuer"] = identifier.issuer;
    moved.append(item);
  }
  Statement move(transaction, "UPDATE patient_identifiers SET patient_id = ? WHERE patient_id = ?");
  move.Bind(1, survivorId).Bind(2, mergedId).Run();
  const int64_t now = Time::NowSeconds();
  Statement retire(transaction,
                   "UPDATE patients SET merged_into = ?, national_id = NULL, updated_at = ? WHERE id = ?");
  retire.Bind(1, survivorId).Bind(2, now).Bind(3, mergedId).Run();
  if (survivor->nationalId.empty() && !merged->nationalId.empty()) {
    survivor->nationalId = merged->nationalId;
  }
  survivor->status = "registered";
  Update(transaction, *survivor);
  Statement record(transaction,
                   "INSERT INTO patient_merges (survivor, merged, identifiers, by_user, reason, at) "
                   "VALUES (?, ?, ?, ?, ?, ?)");
  record.Bind(1, survivorId)
      .Bind(2, mergedId)
      .Bind(3, JsonText::Write(moved))
      .Bind(4, byUser)
      .Bind(5, reason)
      .Bind(6, now)
      .Run();
  transaction.Commit();
}

std::vector<PatientMerge> PatientStore::MergesInto(const std::string& survivorId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT survivor, merged, identifiers, by_user, reason, at FROM patient_merges WHERE survivor = ? "
      "ORDER BY at, id");
  select.Bind(1, survivorId);
  std::vector<PatientMerge> merges;
  while (select.Step()) {
    PatientMerge merge;
    merge.survivor = select.ColumnText(0);
    merge.merged = select.ColumnText(1);
    JsonText::Parse(select.ColumnText(2), merge.identifiers);
    merge.byUser = select.ColumnText(3);
    merge.reason = select.ColumnText(4);
    merge.at = select.ColumnInt(5);
    merges.push_back(merge);
  }
  return merges;
}

PatientPage PatientStore::Search(const PatientFilter& filter) {
  std::string where = "WHERE merged_into = ''";
  std::vector<std::string> parameters;
  if (!filter.nationalId.empty()) {
    where += " AND national_id = ?";
    parameters.push_back(filter.nationalId);
  }
  if (!filter.birthDate.empty()) {
    where += " AND birth_date = ?";
    parameters.push_back(filter.birthDate);
  }
  if (!filter.status.empty()) {
    where += " AND status = ?";
    parameters.push_back(filter.status);
  }
  std::stringstream words(filter.name);
  std::string word;
  while (words >> word) {
    where += " AND (first_name LIKE ? ESCAPE '\\' OR last_name LIKE ? ESCAPE '\\')";
    parameters.push_back(Text::LikeContains(word));
    parameters.push_back(Text::LikeContains(word));
  }
  Transaction transaction(database_, TransactionMode::kRead);
  PatientPage page;
  {
    Statement count(transaction, "SELECT count(*) FROM patients " + where);
    for (size_t i = 0; i < parameters.size(); i++) count.Bind(static_cast<int>(i + 1), parameters[i]);
    count.Step();
    page.total = count.ColumnInt(0);
  }
  {
    Statement select(transaction,
                     std::string("SELECT ") + kColumns + " FROM patients " + where +
                         " ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT " +
                         std::to_string(filter.limit) + " OFFSET " + std::to_string(filter.offset));
    for (size_t i = 0; i < parameters.size(); i++) select.Bind(static_cast<int>(i + 1), parameters[i]);
    while (select.Step()) page.patients.push_back(Read(select));
  }
  for (Patient& patient : page.patients) patient.identifiers = Identifiers(transaction, patient.id);
  return page;
}

int64_t PatientStore::Count() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement count(transaction, "SELECT count(*) FROM patients WHERE merged_into = ''");
  count.Step();
  return count.ColumnInt(0);
}

}  // namespace HospitalBridge
