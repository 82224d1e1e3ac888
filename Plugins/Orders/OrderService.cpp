#include "Orders/OrderService.h"

#include <ctime>

#include "Common/Crypto.h"
#include "Common/Errors.h"
#include "Common/Text.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {

DomainError Invalid(const std::string& field, const std::string& why) {
  return DomainError::Invalid("Invalid field: " + field, field + " " + why);
}

bool HasControl(const std::string& text, bool allowNewlines) {
  for (unsigned char c : text) {
    if (c < 0x20 && !(allowNewlines && (c == '\n' || c == '\r' || c == '\t'))) return true;
    if (c == 0x7F) return true;
  }
  return false;
}

// A DICOM string value: valid UTF-8, no control character, no backslash
// (DICOM's value separator), at most `max` bytes.
std::string CheckText(const std::string& field, const std::string& value, size_t max,
                      bool allowNewlines = false) {
  const std::string text = allowNewlines ? value : Text::Trim(value);
  if (!Text::IsValidUtf8(text)) throw Invalid(field, "must be valid UTF-8");
  if (text.size() > max) throw Invalid(field, "must be at most " + std::to_string(max) + " bytes");
  if (HasControl(text, allowNewlines)) throw Invalid(field, "must not hold control characters");
  if (!allowNewlines && text.find('\\') != std::string::npos) throw Invalid(field, "must not hold '\\'");
  return text;
}

std::string CheckPersonName(const std::string& field, const std::string& value) {
  const std::string name = CheckText(field, value, 320);
  for (const char c : name) {
    if (c == '*' || c == '?') throw Invalid(field, "must not hold '*' or '?'");
  }
  return name;
}

std::string CheckDate(const std::string& field, const std::string& value) {
  if (value.empty()) return "";
  std::string da;
  if (!Time::ParseDateParameter(value, da)) throw Invalid(field, "must be a date as YYYY-MM-DD");
  return da;
}

std::string Decimal(std::string bytes) {
  // Repeated division by ten of a big-endian number.
  std::string digits;
  while (!bytes.empty()) {
    unsigned remainder = 0;
    std::string quotient;
    for (unsigned char byte : bytes) {
      const unsigned value = remainder * 256 + byte;
      const unsigned q = value / 10;
      remainder = value % 10;
      if (!quotient.empty() || q != 0) quotient += static_cast<char>(q);
    }
    digits += static_cast<char>('0' + remainder);
    bytes = quotient;
  }
  if (digits.empty()) digits = "0";
  return std::string(digits.rbegin(), digits.rend());
}

std::string FormatDa(const struct tm& t) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%04d%02d%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
  return buffer;
}

std::string FormatTm(const struct tm& t) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%02d%02d%02d", t.tm_hour, t.tm_min, t.tm_sec);
  return buffer;
}

}  // namespace

std::string DescribeOrder(const Order& order) {
  return "order #" + std::to_string(order.id) + " (" + order.accession + ")";
}

OrderService::OrderService(OrderStore& store, PatientStore* patients, AuditStore* audit,
                           const SiteSettings& site, const OrdersSettings& settings, const IClock& clock)
    : store_(store), patients_(patients), audit_(audit), site_(site), settings_(settings), clock_(clock) {}

bool OrderService::ParseScheduledStart(const std::string& text, std::string& da, std::string& tm,
                                       int64_t& unix) {
  // YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]][Z|(+|-)HH[:]MM]]
  auto digits = [&text](size_t at, size_t count, int& value) {
    if (at + count > text.size() || !Text::IsDigits(text.substr(at, count), count, count)) return false;
    value = std::stoi(text.substr(at, count));
    return true;
  };
  struct tm t {};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' ||
      !digits(8, 2, day)) {
    return false;
  }
  size_t at = 10;
  std::string zone;
  bool zoned = false;
  if (at < text.size()) {
    if ((text[at] != 'T' && text[at] != ' ') || !digits(at + 1, 2, hour) || at + 3 >= text.size() ||
        text[at + 3] != ':' || !digits(at + 4, 2, minute)) {
      return false;
    }
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(at + 1, 2, second)) return false;
      at += 3;
      if (at < text.size() && text[at] == '.') {
        at++;
        const size_t fraction = at;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) at++;
        if (at == fraction) return false;
      }
    }
    if (at < text.size()) {
      zone = text.substr(at);
      zoned = true;
      const bool utc = zone == "Z";
      const bool offset = (zone.size() == 6 && zone[3] == ':' && Text::IsDigits(zone.substr(1, 2), 2, 2) &&
                           Text::IsDigits(zone.substr(4, 2), 2, 2)) ||
                          (zone.size() == 5 && Text::IsDigits(zone.substr(1), 4, 4));
      if (!utc && !(offset && (zone[0] == '+' || zone[0] == '-'))) return false;
    }
  }
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 ||
      t.tm_sec > 60) {
    return false;
  }
  if (zoned) {
    int64_t offset = 0;
    if (zone != "Z") {
      const std::string numbers = zone.substr(1);
      const int hours = std::stoi(numbers.substr(0, 2));
      const int minutes = std::stoi(numbers.substr(numbers.size() - 2));
      offset = (hours * 60 + minutes) * 60 * (zone[0] == '-' ? -1 : 1);
    }
    const time_t utc = timegm(&t);
    if (t.tm_mday != day || t.tm_mon != month - 1) return false;  // 31 February
    unix = static_cast<int64_t>(utc) - offset;
    const time_t seconds = static_cast<time_t>(unix);
    struct tm local {};
    localtime_r(&seconds, &local);
    da = FormatDa(local);
    tm = FormatTm(local);
    return true;
  }
  t.tm_isdst = -1;
  struct tm copy = t;
  unix = static_cast<int64_t>(mktime(&copy));
  if (copy.tm_mday != day || copy.tm_mon != month - 1) return false;
  da = FormatDa(t);
  tm = FormatTm(t);
  return true;
}

std::string OrderService::MintStudyUid() const {
  if (!settings_.studyUidRoot.empty()) {
    std::string random = Crypto::RandomBytes(6);
    return settings_.studyUidRoot + "." + std::to_string(clock_.NowMs()) + "." + Decimal(random);
  }
  std::string uuid = Crypto::RandomBytes(16);
  uuid[6] = static_cast<char>((static_cast<unsigned char>(uuid[6]) & 0x0F) | 0x40);  // version 4
  uuid[8] = static_cast<char>((static_cast<unsigned char>(uuid[8]) & 0x3F) | 0x80);  // RFC 4122 variant
  return "2.25." + Decimal(uuid);
}

std::string OrderService::NextAccession(Transaction& transaction, const std::string& scheduledDate) {
  std::string prefix;
  ExpandAccessionPattern(settings_.accessionPattern, scheduledDate, site_.siteId, 0, &prefix);
  for (int attempt = 0; attempt < 1000; attempt++) {
    const int64_t sequence = store_.NextCounter(transaction, prefix);
    const std::string accession =
        ExpandAccessionPattern(settings_.accessionPattern, scheduledDate, site_.siteId, sequence);
    if (accession.size() > 16) {
      throw DomainError::Conflict(
          "No accession number left",
          "the counter of Orders.AccessionPattern outgrew 16 characters for " + prefix);
    }
    // One given by hand may have taken it.
    if (!store_.FindByAccession(transaction, accession)) return accession;
  }
  throw DomainError::Conflict("No accession number left", "every number tried was taken");
}

void OrderService::LinkRegistryPatient(Order& order) {
  if (patients_ == nullptr) return;
  std::optional<Patient> patient;
  if (!order.nationalId.empty()) patient = patients_->FindByNationalId(order.nationalId);
  if (!patient && !order.patientId.empty())
    patient = patients_->FindByIdentifier(site_.siteId, order.patientId);
  if (patient) order.registryPatient = patient->mergedInto.empty() ? patient->id : patient->mergedInto;
}

void OrderService::Apply(const OrderDraft& draft, Order& order, std::vector<std::string>& warnings,
                         bool creating) {
  if (draft.patientId) order.patientId = CheckText("patient_id", *draft.patientId, 64);
  if (draft.issuer) order.issuer = CheckText("issuer", *draft.issuer, 64);
  if (draft.patientName) order.patientName = CheckPersonName("patient_name", *draft.patientName);
  if (draft.birthDate) order.birthDate = CheckDate("birth_date", *draft.birthDate);
  if (draft.sex) {
    order.sex = Text::Trim(*draft.sex);
    if (order.sex != "" && order.sex != "M" && order.sex != "F" && order.sex != "O") {
      throw Invalid("sex", "must be M, F, O or empty");
    }
  }
  if (draft.nationalId) order.nationalId = CheckText("national_id", *draft.nationalId, 64);
  if (draft.procedureCode) order.procedureCode = CheckText("procedure.code", *draft.procedureCode, 16);
  if (draft.procedureScheme)
    order.procedureScheme = CheckText("procedure.scheme", *draft.procedureScheme, 16);
  if (draft.procedureDescription) {
    order.procedureDescription = CheckText("procedure.description", *draft.procedureDescription, 64);
  }
  if (draft.modality) {
    order.modality = Text::Trim(*draft.modality);
    if (!Text::IsIdentifier(order.modality, "", 1, 16)) {
      throw Invalid("modality", "must be a DICOM modality code such as CT or MR");
    }
    for (char& c : order.modality) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (draft.stationAet) {
    order.stationAet = Text::Trim(*draft.stationAet);
    if (!order.stationAet.empty() && !Text::IsIdentifier(order.stationAet, " -_.", 1, 16)) {
      throw Invalid("station_aet", "must be an AE title: 1 to 16 letters, digits, ' ', '-', '_' or '.'");
    }
  }
  if (draft.stationName) order.stationName = CheckText("station_name", *draft.stationName, 16);
  if (draft.location) order.location = CheckText("location", *draft.location, 16);
  if (draft.priority) {
    order.priority = Text::Trim(*draft.priority);
    if (order.priority != "stat" && order.priority != "urgent" && order.priority != "routine") {
      throw Invalid("priority", "must be stat, urgent or routine");
    }
  }
  if (draft.referringPhysician) {
    order.referringPhysician = CheckPersonName("referring_physician", *draft.referringPhysician);
  }
  if (draft.reason) order.reason = CheckText("reason", *draft.reason, 64);
  if (draft.notes) order.notes = CheckText("notes", *draft.notes, 10240, true);
  if (draft.scheduledStart || creating) {
    int64_t unix = clock_.NowSeconds();
    if (draft.scheduledStart && !draft.scheduledStart->empty()) {
      if (!ParseScheduledStart(*draft.scheduledStart, order.scheduledDate, order.scheduledTime, unix)) {
        throw Invalid("scheduled_start",
                      "must be a date and time as YYYY-MM-DDTHH:MM[:SS], local or with a zone, got \"" +
                          *draft.scheduledStart + "\"");
      }
    } else {
      const time_t now = static_cast<time_t>(unix);
      struct tm local {};
      localtime_r(&now, &local);
      order.scheduledDate = FormatDa(local);
      order.scheduledTime = FormatTm(local);
    }
    if (unix < clock_.NowSeconds() - static_cast<int64_t>(settings_.pastGraceMinutes) * 60) {
      warnings.push_back("The order is scheduled in the past (" + order.ScheduledStart() + ").");
    }
  }
  if (order.patientId.empty()) throw Invalid("patient_id", "is required");
  if (order.patientName.empty()) throw Invalid("patient_name", "is required");
  if (order.modality.empty()) throw Invalid("modality", "is required");
}

CreatedOrder OrderService::Create(const OrderDraft& draft, const AuditActor& actor) {
  CreatedOrder created;
  Order& order = created.order;
  Apply(draft, order, created.warnings, true);
  if (draft.accession && !Text::Trim(*draft.accession).empty()) {
    order.accession = CheckText("accession_number", *draft.accession, 16);
  }
  order.source = draft.source;
  order.placerId = draft.placerId;
  order.fhirResource = draft.fhirResource;
  order.status = OrderStatus::kScheduled;
  order.studyUid = MintStudyUid();
  order.createdAt = order.updatedAt = clock_.NowSeconds();
  order.createdBy = actor.name;
  LinkRegistryPatient(order);
  Transaction transaction(store_.Database(), TransactionMode::kWrite);
  if (order.accession.empty()) order.accession = NextAccession(transaction, order.scheduledDate);
  store_.Insert(transaction, order);
  Json::Value detail(Json::objectValue);
  detail["source"] = order.source;
  detail["modality"] = order.modality;
  detail["station_aet"] = order.stationAet;
  detail["scheduled_start"] = order.ScheduledStart();
  if (!created.warnings.empty()) detail["warning"] = created.warnings.front();
  Record(transaction, order, "order.created", actor, "", detail);
  transaction.Commit();
  for (const auto& listener : createdListeners_) listener(order);
  return created;
}

CreatedOrder OrderService::Update(int64_t id, const OrderDraft& changes, const AuditActor& actor) {
  Transaction transaction(store_.Database(), TransactionMode::kWrite);
  std::optional<Order> found = store_.Find(transaction, id);
  if (!found) throw DomainError::NotFound("No such order", "order #" + std::to_string(id));
  CreatedOrder updated{*found, {}};
  Order& order = updated.order;
  if (order.status != OrderStatus::kScheduled && order.status != OrderStatus::kArrived) {
    throw DomainError::Conflict("The order can no longer be changed",
                                DescribeOrder(order) + " is " + order.status);
  }
  if (changes.patientId || changes.accession || changes.nationalId) {
    throw DomainError::Invalid(
        "Invalid field",
        "the patient and accession number of an order cannot change: cancel it and make "
        "a new one");
  }
  const Order before = order;
  Apply(changes, order, updated.warnings, false);
  order.updatedAt = clock_.NowSeconds();
  store_.Update(transaction, order);
  Json::Value detail(Json::objectValue);
  const std::pair<const char*, std::pair<std::string, std::string>> fields[] = {
      {"scheduled_start", {before.ScheduledStart(), order.ScheduledStart()}},
      {"station_aet", {before.stationAet, order.stationAet}},
      {"station_name", {before.stationName, order.stationName}},
      {"modality", {before.modality, order.modality}},
      {"priority", {before.priority, order.priority}},
      {"patient_name", {before.patientName, order.patientName}},
      {"procedure", {before.procedureDescription, order.procedureDescription}},
      {"location", {before.location, order.location}},
      {"notes", {before.notes, order.notes}}};
  for (const auto& [name, values] : fields) {
    if (values.first == values.second) continue;
    detail["changed"][name]["from"] = values.first;
    detail["changed"][name]["to"] = values.second;
  }
  Record(transaction, order, "order.changed", actor, order.status, detail);
  transaction.Commit();
  return updated;
}

Order OrderService::Arrive(int64_t id, const AuditActor& actor) {
  Transaction transaction(store_.Database(), TransactionMode::kWrite);
  std::optional<Order> order = store_.Find(transaction, id);
  if (!order) throw DomainError::NotFound("No such order", "order #" + std::to_string(id));
  if (order->status == OrderStatus::kArrived) return *order;  // twice is once
  ChangeStatus(transaction, *order, OrderStatus::kArrived, actor);
  transaction.Commit();
  return *order;
}

Order OrderService::Cancel(int64_t id, const std::string& reason, const AuditActor& actor) {
  const std::string why = CheckText("reason", reason, 500);
  if (why.empty()) throw Invalid("reason", "is required");
  Transaction transaction(store_.Database(), TransactionMode::kWrite);
  std::optional<Order> order = store_.Find(transaction, id);
  if (!order) throw DomainError::NotFound("No such order", "order #" + std::to_string(id));
  const std::string to =
      order->status == OrderStatus::kInProgress ? OrderStatus::kDiscontinued : OrderStatus::kCancelled;
  ChangeStatus(transaction, *order, to, actor, Json::Value(Json::objectValue), why);
  transaction.Commit();
  return *order;
}

Order OrderService::Get(int64_t id) {
  std::optional<Order> order = store_.Find(id);
  if (!order) throw DomainError::NotFound("No such order", "order #" + std::to_string(id));
  return *order;
}

void OrderService::ChangeStatus(Transaction& transaction, Order& order, const std::string& to,
                                const AuditActor& actor, const Json::Value& detail,
                                const std::string& reason) {
  if (!OrderStatus::CanChange(order.status, to)) {
    throw DomainError::Conflict("The order cannot become " + to,
                                DescribeOrder(order) + " is " + order.status);
  }
  const std::string from = order.status;
  order.status = to;
  if (!reason.empty()) order.statusReason = reason;
  order.updatedAt = clock_.NowSeconds();
  store_.Update(transaction, order);
  static const std::map<std::string, std::string> actions = {
      {OrderStatus::kArrived, "order.arrived"},        {OrderStatus::kInProgress, "order.started"},
      {OrderStatus::kCompleted, "order.completed"},    {OrderStatus::kCancelled, "order.cancelled"},
      {OrderStatus::kDiscontinued, "order.cancelled"}, {OrderStatus::kScheduled, "order.changed"},
      {OrderStatus::kReported, "order.changed"}};
  Json::Value full = detail;
  if (!reason.empty()) full["reason"] = reason;
  Record(transaction, order, actions.at(to), actor, from, full, detail.get("study_uid", "").asString());
}

void OrderService::Record(Transaction& transaction, const Order& order, const std::string& action,
                          const AuditActor& actor, const std::string& fromStatus, const Json::Value& detail,
                          const std::string& studyUid, const std::string& outcome) {
  OrderHistoryEntry entry;
  entry.at = clock_.NowSeconds();
  entry.actor = actor.name;
  entry.action = action;
  entry.fromStatus = fromStatus;
  entry.toStatus = order.status;
  entry.detail = detail;
  store_.AddHistory(transaction, order.id, entry);
  if (audit_ == nullptr) return;
  AuditEvent event = MakeAuditEvent(action, actor, outcome);
  event.timeMs = clock_.NowMs();
  event.patientId = order.registryPatient;
  event.studyUid = studyUid.empty() ? order.studyUid : studyUid;
  event.detail = detail;
  event.detail["order_id"] = static_cast<Json::Int64>(order.id);
  event.detail["accession_number"] = order.accession;
  event.detail["patient_id"] = order.patientId;
  if (!fromStatus.empty()) event.detail["from_status"] = fromStatus;
  event.detail["status"] = order.status;
  std::vector<AuditEvent> events = {event};
  audit_->Append(transaction, events);
}

void OrderService::Audit(AuditEvent event) {
  if (audit_ == nullptr) return;
  event.timeMs = clock_.NowMs();
  std::vector<AuditEvent> events = {std::move(event)};
  audit_->Append(events);
}

}  // namespace HospitalBridge
