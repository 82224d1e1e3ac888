#include "Orders/OrderStore.h"

#include "Common/Errors.h"
#include "Common/Json.h"
#include "Common/Text.h"

namespace HospitalBridge {
namespace {
const char* const kColumns =
    "id, accession, study_uid, registry_patient, national_id, patient_id, issuer, patient_name, birth_date, "
    "sex, procedure_code, procedure_scheme, procedure_description, modality, station_aet, station_name, "
    "location, scheduled_date, scheduled_time, priority, referring_physician, reason, notes, status, "
    "status_reason, source, placer_id, fhir_resource, created_at, created_by, updated_at";

void BindStrings(Statement& statement, const std::vector<std::string>& parameters) {
  for (size_t i = 0; i < parameters.size(); i++) statement.Bind(static_cast<int>(i) + 1, parameters[i]);
}

std::string Placeholders(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; i++) text += i == 0 ? "?" : ", ?";
  return text;
}

// A WHERE clause and its parameters, built condition by condition; an empty
// value adds no condition (the lists' and the worklist's filters both mean
// "any" by an empty field).
class Conditions {
 public:
  void In(const char* column, const std::vector<std::string>& values) {
    if (values.empty()) return;
    where_ += std::string(" AND ") + column + " IN (" + Placeholders(values.size()) + ")";
    parameters_.insert(parameters_.end(), values.begin(), values.end());
  }
  void Compare(const char* column, const char* op, const std::string& value) {
    if (value.empty()) return;
    where_ += std::string(" AND ") + column + " " + op + " ?";
    parameters_.push_back(value);
  }
  void Raw(const std::string& condition, const std::vector<std::string>& parameters) {
    where_ += " AND " + condition;
    parameters_.insert(parameters_.end(), parameters.begin(), parameters.end());
  }
  const std::string& Where() const { return where_; }
  const std::vector<std::string>& Parameters() const { return parameters_; }

 private:
  std::string where_ = "1 = 1";
  std::vector<std::string> parameters_;
};

OrderMismatch ReadMismatch(Statement& select) {
  OrderMismatch m;
  int c = 0;
  m.orthancId = select.ColumnText(c++);
  m.studyUid = select.ColumnText(c++);
  m.kind = select.ColumnText(c++);
  m.orderId = select.ColumnIsNull(c) ? 0 : select.ColumnInt(c);
  c++;
  m.patientId = select.ColumnText(c++);
  m.patientName = select.ColumnText(c++);
  m.accession = select.ColumnText(c++);
  m.studyDate = select.ColumnText(c++);
  m.modalities = select.ColumnText(c++);
  m.description = select.ColumnText(c++);
  m.detectedAt = select.ColumnInt(c++);
  m.resolvedAt = select.ColumnInt(c++);
  m.resolvedBy = select.ColumnText(c++);
  m.resolution = select.ColumnText(c++);
  return m;
}

const char* const kMismatchColumns =
    "orthanc_id, study_uid, kind, order_id, patient_id, patient_name, accession, study_date, modalities, "
    "description, detected_at, resolved_at, resolved_by, resolution";

const char* const kAttachmentColumns =
    "id, order_id, source_orthanc_id, source_study_uid, source_instances, state, job_id, target_orthanc_id, "
    "requested_by, requested_address, requested_at, finished_at, error";

OrderAttachment ReadAttachment(Statement& select) {
  OrderAttachment a;
  int c = 0;
  a.id = select.ColumnInt(c++);
  a.orderId = select.ColumnInt(c++);
  a.sourceOrthancId = select.ColumnText(c++);
  a.sourceStudyUid = select.ColumnText(c++);
  a.sourceInstances = select.ColumnInt(c++);
  a.state = select.ColumnText(c++);
  a.jobId = select.ColumnText(c++);
  a.targetOrthancId = select.ColumnText(c++);
  a.requestedBy = select.ColumnText(c++);
  a.requestedAddress = select.ColumnText(c++);
  a.requestedAt = select.ColumnInt(c++);
  a.finishedAt = select.ColumnInt(c++);
  a.error = select.ColumnText(c++);
  return a;
}

OrderStudyLink ReadLink(Statement& select) {
  return OrderStudyLink{select.ColumnText(0), select.ColumnText(1), select.ColumnInt(2), select.ColumnText(3),
                        select.ColumnInt(4)};
}
}  // namespace

std::vector<Order> OrderStore::Select(Transaction& transaction, const std::string& where,
                                      const std::vector<std::string>& parameters, const std::string& tail) {
  Statement select(transaction,
                   std::string("SELECT ") + kColumns + " FROM orders WHERE " + where + " " + tail);
  BindStrings(select, parameters);
  std::vector<Order> orders;
  while (select.Step()) {
    Order o;
    int c = 0;
    o.id = select.ColumnInt(c++);
    o.accession = select.ColumnText(c++);
    o.studyUid = select.ColumnText(c++);
    o.registryPatient = select.ColumnText(c++);
    o.nationalId = select.ColumnText(c++);
    o.patientId = select.ColumnText(c++);
    o.issuer = select.ColumnText(c++);
    o.patientName = select.ColumnText(c++);
    o.birthDate = select.ColumnText(c++);
    o.sex = select.ColumnText(c++);
    o.procedureCode = select.ColumnText(c++);
    o.procedureScheme = select.ColumnText(c++);
    o.procedureDescription = select.ColumnText(c++);
    o.modality = select.ColumnText(c++);
    o.stationAet = select.ColumnText(c++);
    o.stationName = select.ColumnText(c++);
    o.location = select.ColumnText(c++);
    o.scheduledDate = select.ColumnText(c++);
    o.scheduledTime = select.ColumnText(c++);
    o.priority = select.ColumnText(c++);
    o.referringPhysician = select.ColumnText(c++);
    o.reason = select.ColumnText(c++);
    o.notes = select.ColumnText(c++);
    o.status = select.ColumnText(c++);
    o.statusReason = select.ColumnText(c++);
    o.source = select.ColumnText(c++);
    o.placerId = select.ColumnText(c++);
    o.fhirResource = select.ColumnText(c++);
    o.createdAt = select.ColumnInt(c++);
    o.createdBy = select.ColumnText(c++);
    o.updatedAt = select.ColumnInt(c++);
    orders.push_back(std::move(o));
  }
  return orders;
}

void OrderStore::Insert(Transaction& transaction, Order& order) {
  if (FindByAccession(transaction, order.accession)) {
    throw DomainError::Conflict("Duplicate accession number",
                                "an order with accession number " + order.accession + " exists");
  }
  if (FindByStudyUid(transaction, order.studyUid)) {
    throw DomainError::Conflict("Duplicate StudyInstanceUID",
                                "an order with StudyInstanceUID " + order.studyUid + " exists");
  }
  Statement insert(
      transaction,
      "INSERT INTO orders (accession, study_uid, registry_patient, national_id, patient_id, issuer, "
      "patient_name, birth_date, sex, procedure_code, procedure_scheme, procedure_description, "
      "modality, station_aet, station_name, location, scheduled_date, scheduled_time, priority, "
      "referring_physician, reason, notes, status, status_reason, source, placer_id, "
      "fhir_resource, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  BindStrings(insert,
              {order.accession,     order.studyUid,      order.registryPatient, order.nationalId,
               order.patientId,     order.issuer,        order.patientName,     order.birthDate,
               order.sex,           order.procedureCode, order.procedureScheme, order.procedureDescription,
               order.modality,      order.stationAet,    order.stationName,     order.location,
               order.scheduledDate, order.scheduledTime, order.priority,        order.referringPhysician,
               order.reason,        order.notes,         order.status,          order.statusReason,
               order.source,        order.placerId,      order.fhirResource});
  insert.Bind(28, order.createdAt).Bind(29, order.createdBy).Bind(30, order.updatedAt);
  insert.Step();
  order.id = insert.ColumnInt(0);
  insert.Reset();
}

void OrderStore::Update(Transaction& transaction, const Order& order) {
  Statement update(
      transaction,
      "UPDATE orders SET registry_patient = ?, national_id = ?, patient_name = ?, birth_date = ?, "
      "sex = ?, procedure_code = ?, procedure_scheme = ?, procedure_description = ?, modality = ?, "
      "station_aet = ?, station_name = ?, location = ?, scheduled_date = ?, scheduled_time = ?, "
      "priority = ?, referring_physician = ?, reason = ?, notes = ?, status = ?, status_reason = "
      "?, fhir_resource = ?, updated_at = ? WHERE id = ?");
  BindStrings(update, {order.registryPatient,
                       order.nationalId,
                       order.patientName,
                       order.birthDate,
                       order.sex,
                       order.procedureCode,
                       order.procedureScheme,
                       order.procedureDescription,
                       order.modality,
                       order.stationAet,
                       order.stationName,
                       order.location,
                       order.scheduledDate,
                       order.scheduledTime,
                       order.priority,
                       order.referringPhysician,
                       order.reason,
                       order.notes,
                       order.status,
                       order.statusReason,
                       order.fhirResource});
  update.Bind(22, order.updatedAt).Bind(23, order.id).Run();
}

int64_t OrderStore::NextCounter(Transaction& transaction, const std::string& prefix) {
  Statement upsert(
      transaction,
      "INSERT INTO order_counters (prefix, value) VALUES (?, 1) ON CONFLICT (prefix) DO UPDATE SET "
      "value = order_counters.value + 1 RETURNING value");
  upsert.Bind(1, prefix);
  upsert.Step();
  const int64_t value = upsert.ColumnInt(0);
  upsert.Reset();
  return value;
}

std::optional<Order> OrderStore::Find(int64_t id) {
  Transaction transaction(database_, TransactionMode::kRead);
  return Find(transaction, id);
}

std::optional<Order> OrderStore::Find(Transaction& transaction, int64_t id) {
  std::vector<Order> found = Select(transaction, "id = ?", {std::to_string(id)}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<Order> OrderStore::FindByAccession(Transaction& transaction, const std::string& accession) {
  std::vector<Order> found = Select(transaction, "accession = ?", {accession}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::optional<Order> OrderStore::FindByStudyUid(Transaction& transaction, const std::string& studyUid) {
  std::vector<Order> found = Select(transaction, "study_uid = ?", {studyUid}, "");
  if (found.empty()) return std::nullopt;
  return found.front();
}

OrderPage OrderStore::List(const OrderFilter& filter) {
  Conditions conditions;
  conditions.In("status", filter.statuses);
  conditions.Compare("scheduled_date", ">=", filter.fromDate);
  conditions.Compare("scheduled_date", "<=", filter.toDate);
  conditions.Compare("modality", "=", filter.modality);
  conditions.Compare("station_aet", "=", filter.stationAet);
  conditions.Compare("patient_id", "=", filter.patientId);
  if (!filter.text.empty()) {
    const std::string pattern = Text::LikeContains(filter.text);
    conditions.Raw(
        "(patient_name LIKE ? ESCAPE '\\' OR patient_id LIKE ? ESCAPE '\\' OR accession LIKE ? ESCAPE '\\' "
        "OR procedure_description LIKE ? ESCAPE '\\')",
        {pattern, pattern, pattern, pattern});
  }
  OrderPage page;
  Transaction transaction(database_, TransactionMode::kRead);
  {
    Statement count(transaction, "SELECT count(*) FROM orders WHERE " + conditions.Where());
    BindStrings(count, conditions.Parameters());
    if (count.Step()) page.total = count.ColumnInt(0);
  }
  page.orders = Select(transaction, conditions.Where(), conditions.Parameters(),
                       "ORDER BY scheduled_date, scheduled_time, id LIMIT " + std::to_string(filter.limit) +
                           " OFFSET " + std::to_string(filter.offset));
  return page;
}

std::vector<Order> OrderStore::WorklistCandidates(const WorklistPrefilter& filter) {
  Conditions conditions;
  conditions.In("status", filter.statuses);
  conditions.Compare("scheduled_date", ">=", filter.fromDate);
  conditions.Compare("scheduled_date", "<=", filter.toDate);
  conditions.Compare("modality", "=", filter.modality);
  conditions.Compare("station_aet", "=", filter.stationAet);
  conditions.Compare("accession", "=", filter.accession);
  conditions.Compare("patient_id", "=", filter.patientId);
  conditions.In("study_uid", filter.studyUids);
  std::string tail = "ORDER BY scheduled_date, scheduled_time, id";
  if (filter.limit > 0) tail += " LIMIT " + std::to_string(filter.limit);
  Transaction transaction(database_, TransactionMode::kRead);
  return Select(transaction, conditions.Where(), conditions.Parameters(), tail);
}

std::vector<Order> OrderStore::Candidates(const std::string& patientId, const std::vector<std::string>& dates,
                                          const std::string& modality, int limit) {
  std::vector<std::string> parameters = {patientId};
  std::string where = "status IN ('scheduled', 'arrived', 'in-progress') AND (patient_id = ?";
  if (!dates.empty()) {
    where += " OR (scheduled_date IN (" + Placeholders(dates.size()) + ") AND (? = '' OR modality = ?))";
    parameters.insert(parameters.end(), dates.begin(), dates.end());
    parameters.push_back(modality);
    parameters.push_back(modality);
  }
  where += ")";
  parameters.push_back(patientId);
  Transaction transaction(database_, TransactionMode::kRead);
  return Select(transaction, where, parameters,
                "ORDER BY CASE WHEN patient_id = ? THEN 0 ELSE 1 END, scheduled_date DESC, scheduled_time "
                "DESC, id DESC LIMIT " +
                    std::to_string(limit));
}

int64_t OrderStore::CountByStatus(const std::string& status) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement count(transaction, "SELECT count(*) FROM orders WHERE status = ?");
  count.Bind(1, status);
  return count.Step() ? count.ColumnInt(0) : 0;
}

void OrderStore::AddHistory(Transaction& transaction, int64_t orderId, const OrderHistoryEntry& entry) {
  Statement insert(transaction,
                   "INSERT INTO order_history (order_id, at, actor, action, from_status, to_status, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, orderId)
      .Bind(2, entry.at)
      .Bind(3, entry.actor)
      .Bind(4, entry.action)
      .Bind(5, entry.fromStatus)
      .Bind(6, entry.toStatus)
      .Bind(7, JsonText::Write(entry.detail))
      .Run();
}

std::vector<OrderHistoryEntry> OrderStore::History(int64_t orderId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(
      transaction,
      "SELECT at, actor, action, from_status, to_status, detail FROM order_history WHERE order_id "
      "= ? ORDER BY id");
  select.Bind(1, orderId);
  std::vector<OrderHistoryEntry> history;
  while (select.Step()) {
    OrderHistoryEntry entry;
    entry.at = select.ColumnInt(0);
    entry.actor = select.ColumnText(1);
    entry.action = select.ColumnText(2);
    entry.fromStatus = select.ColumnText(3);
    entry.toStatus = select.ColumnText(4);
    if (!JsonText::Parse(select.ColumnText(5), entry.detail)) entry.detail = Json::Value(Json::objectValue);
    history.push_back(std::move(entry));
  }
  return history;
}

bool OrderStore::Link(Transaction& transaction, const OrderStudyLink& link) {
  Statement insert(
      transaction,
      "INSERT INTO order_studies (orthanc_id, study_uid, order_id, matched_by, linked_at) VALUES "
      "(?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  insert.Bind(1, link.orthancId)
      .Bind(2, link.studyUid)
      .Bind(3, link.orderId)
      .Bind(4, link.matchedBy)
      .Bind(5, link.linkedAt)
      .Run();
  return transaction.Changes() > 0;
}

std::optional<OrderStudyLink> OrderStore::LinkOf(Transaction& transaction, const std::string& orthancId) {
  Statement select(transaction,
                   "SELECT orthanc_id, study_uid, order_id, matched_by, linked_at FROM order_studies WHERE "
                   "orthanc_id = ?");
  select.Bind(1, orthancId);
  if (!select.Step()) return std::nullopt;
  return ReadLink(select);
}

std::vector<OrderStudyLink> OrderStore::LinksOfOrder(int64_t orderId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   "SELECT orthanc_id, study_uid, order_id, matched_by, linked_at FROM order_studies WHERE "
                   "order_id = ? ORDER BY linked_at");
  select.Bind(1, orderId);
  std::vector<OrderStudyLink> links;
  while (select.Step()) links.push_back(ReadLink(select));
  return links;
}

std::vector<OrderStudyLink> OrderStore::LinksOfStudies(const std::vector<std::string>& studyUids) {
  std::vector<OrderStudyLink> links;
  if (studyUids.empty()) return links;
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   "SELECT orthanc_id, study_uid, order_id, matched_by, linked_at FROM order_studies WHERE "
                   "study_uid IN (" +
                       Placeholders(studyUids.size()) + ")");
  BindStrings(select, studyUids);
  while (select.Step()) links.push_back(ReadLink(select));
  return links;
}

void OrderStore::Unlink(Transaction& transaction, const std::string& orthancId) {
  Statement remove(transaction, "DELETE FROM order_studies WHERE orthanc_id = ?");
  remove.Bind(1, orthancId).Run();
}

bool OrderStore::AddMismatch(Transaction& transaction, const OrderMismatch& m) {
  Statement insert(
      transaction,
      "INSERT INTO order_mismatches (orthanc_id, study_uid, kind, order_id, patient_id, "
      "patient_name, accession, study_date, modalities, description, detected_at) VALUES (?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  insert.Bind(1, m.orthancId).Bind(2, m.studyUid).Bind(3, m.kind);
  if (m.orderId > 0) {
    insert.Bind(4, m.orderId);
  } else {
    insert.BindNull(4);
  }
  insert.Bind(5, m.patientId)
      .Bind(6, m.patientName)
      .Bind(7, m.accession)
      .Bind(8, m.studyDate)
      .Bind(9, m.modalities)
      .Bind(10, m.description)
      .Bind(11, m.detectedAt)
      .Run();
  return transaction.Changes() > 0;
}

std::optional<OrderMismatch> OrderStore::FindMismatch(const std::string& orthancId) {
  Transaction transaction(database_, TransactionMode::kRead);
  return FindMismatch(transaction, orthancId);
}

std::optional<OrderMismatch> OrderStore::FindMismatch(Transaction& transaction,
                                                      const std::string& orthancId) {
  Statement select(transaction,
                   std::string("SELECT ") + kMismatchColumns + " FROM order_mismatches WHERE orthanc_id = ?");
  select.Bind(1, orthancId);
  if (!select.Step()) return std::nullopt;
  return ReadMismatch(select);
}

std::vector<OrderMismatch> OrderStore::Mismatches(bool openOnly, int limit, int offset, int64_t& total) {
  const std::string where = openOnly ? "resolved_at = 0" : "1 = 1";
  Transaction transaction(database_, TransactionMode::kRead);
  {
    Statement count(transaction, "SELECT count(*) FROM order_mismatches WHERE " + where);
    total = count.Step() ? count.ColumnInt(0) : 0;
  }
  Statement select(transaction, std::string("SELECT ") + kMismatchColumns + " FROM order_mismatches WHERE " +
                                    where + " ORDER BY detected_at DESC, orthanc_id LIMIT " +
                                    std::to_string(limit) + " OFFSET " + std::to_string(offset));
  std::vector<OrderMismatch> list;
  while (select.Step()) list.push_back(ReadMismatch(select));
  return list;
}

bool OrderStore::ResolveMismatch(Transaction& transaction, const std::string& orthancId,
                                 const std::string& by, const std::string& resolution, int64_t now) {
  Statement update(transaction,
                   "UPDATE order_mismatches SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE "
                   "orthanc_id = ? AND resolved_at = 0");
  update.Bind(1, now).Bind(2, by).Bind(3, resolution).Bind(4, orthancId).Run();
  return transaction.Changes() > 0;
}

int64_t OrderStore::InsertAttachment(Transaction& transaction, const OrderAttachment& a) {
  Statement insert(
      transaction,
      "INSERT INTO order_attachments (order_id, source_orthanc_id, source_study_uid, "
      "source_instances, state, requested_by, requested_address, requested_at) VALUES (?, ?, ?, ?, "
      "?, ?, ?, ?) RETURNING id");
  insert.Bind(1, a.orderId)
      .Bind(2, a.sourceOrthancId)
      .Bind(3, a.sourceStudyUid)
      .Bind(4, a.sourceInstances)
      .Bind(5, a.state)
      .Bind(6, a.requestedBy)
      .Bind(7, a.requestedAddress)
      .Bind(8, a.requestedAt);
  insert.Step();
  const int64_t id = insert.ColumnInt(0);
  insert.Reset();
  return id;
}

void OrderStore::UpdateAttachment(Transaction& transaction, const OrderAttachment& a) {
  Statement update(
      transaction,
      "UPDATE order_attachments SET state = ?, job_id = ?, target_orthanc_id = ?, source_instances "
      "= ?, finished_at = ?, error = ? WHERE id = ?");
  update.Bind(1, a.state)
      .Bind(2, a.jobId)
      .Bind(3, a.targetOrthancId)
      .Bind(4, a.sourceInstances)
      .Bind(5, a.finishedAt)
      .Bind(6, a.error)
      .Bind(7, a.id)
      .Run();
}

std::optional<OrderAttachment> OrderStore::FindAttachment(int64_t id) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   std::string("SELECT ") + kAttachmentColumns + " FROM order_attachments WHERE id = ?");
  select.Bind(1, id);
  if (!select.Step()) return std::nullopt;
  return ReadAttachment(select);
}

std::vector<OrderAttachment> OrderStore::UnfinishedAttachments() {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction,
                   std::string("SELECT ") + kAttachmentColumns +
                       " FROM order_attachments WHERE state NOT IN ('done', 'failed') ORDER BY id");
  std::vector<OrderAttachment> list;
  while (select.Step()) list.push_back(ReadAttachment(select));
  return list;
}

std::vector<OrderAttachment> OrderStore::AttachmentsOfStudy(const std::string& sourceOrthancId) {
  Transaction transaction(database_, TransactionMode::kRead);
  Statement select(transaction, std::string("SELECT ") + kAttachmentColumns +
                                    " FROM order_attachments WHERE source_orthanc_id = ? ORDER BY id");
  select.Bind(1, sourceOrthancId);
  std::vector<OrderAttachment> list;
  while (select.Step()) list.push_back(ReadAttachment(select));
  return list;
}

}  // namespace HospitalBridge
