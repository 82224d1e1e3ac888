#pragma once
// The patient index: one entry per person, with each site's own PatientID.
#include <json/json.h>

#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"

namespace HospitalBridge {

struct PatientIdentifier {
  std::string siteId;
  std::string localId;  // the PatientID at that site
  std::string issuer;   // IssuerOfPatientID, when known
};

struct Patient {
  std::string id;
  std::string nationalId;
  std::string firstName;
  std::string lastName;
  std::string birthDate;  // DICOM DA
  std::string sex;
  std::string phone;
  std::string status = "registered";  // or "unlinked": created from DICOM, to be checked by staff
  std::string mergedInto;
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
  std::vector<PatientIdentifier> identifiers;

  std::string DisplayName() const;  // "Last, First"
  Json::Value ToJson() const;
};

struct PatientMerge {
  std::string survivor;
  std::string merged;
  Json::Value identifiers;
  std::string byUser;
  std::string reason;
  int64_t at = 0;
};

struct PatientFilter {
  std::string nationalId;
  std::string name;       // words found in the first or last name
  std::string birthDate;  // DICOM DA
  std::string status;
  int limit = 50;
  int offset = 0;
};

struct PatientPage {
  std::vector<Patient> patients;
  int64_t total = 0;
};

// Every operation opens a transaction of its own, or joins the caller's
// (the overload taking a Transaction) when it is part of a larger change.
class PatientStore {
 public:
  explicit PatientStore(IDatabase& database) : database_(database) {}

  // Gives the entry a new id. DomainError (conflict) when its national ID or
  // one of its identifiers belongs to another entry.
  Patient Create(Patient patient);
  Patient Create(Transaction& transaction, Patient patient);
  std::optional<Patient> Find(const std::string& id);
  std::optional<Patient> Find(Transaction& transaction, const std::string& id);
  std::optional<Patient> FindByNationalId(const std::string& nationalId);
  std::optional<Patient> FindByNationalId(Transaction& transaction, const std::string& nationalId);
  std::optional<Patient> FindByIdentifier(const std::string& siteId, const std::string& localId);
  std::optional<Patient> FindByIdentifier(Transaction& transaction, const std::string& siteId,
                                          const std::string& localId);
  // Demographics and national ID (conflict when the national ID is taken).
  void Update(const Patient& patient);
  void Update(Transaction& transaction, const Patient& patient);
  // Conflict when another entry holds it.
  void AddIdentifier(const std::string& patientId, const PatientIdentifier& identifier);
  void AddIdentifier(Transaction& transaction, const std::string& patientId,
                     const PatientIdentifier& identifier);
  // Moves every identifier (and the national ID, if the survivor has none)
  // of `mergedId` to `survivorId` and records why. Conflict for two
  // different national IDs or an entry merged already.
  void Merge(const std::string& survivorId, const std::string& mergedId, const std::string& byUser,
             const std::string& reason);
  std::vector<PatientMerge> MergesInto(const std::string& survivorId);
  PatientPage Search(const PatientFilter& filter);
  int64_t Count();

 private:
  static std::vector<PatientIdentifier> Identifiers(Transaction& transaction, const std::string& patientId);
  static std::optional<Patient> FindWhere(Transaction& transaction, const std::string& where,
                                          const std::string& value);
  IDatabase& database_;
};

}  // namespace HospitalBridge
