#pragma once
// Share links, their studies, the slips still to print and the unlocked
// phones' sessions, in the plugin's database (migration 004). Knows SQL, not
// rules: ShareService decides.
#include <json/json.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "Common/Storage.h"

namespace HospitalBridge {

struct ShareStudyRef {
  std::string orthancId;
  std::string studyUid;
};

struct Share {
  int64_t id = 0;
  std::string tokenHash;  // raw SHA-256
  std::string scope;      // study | patient
  std::string patientId;  // DICOM PatientID here
  std::string registryPatient;
  std::string patientName;
  std::string birthDate;     // DICOM DA
  std::string secondFactor;  // pin | birth-date | none
  std::string secretSalt;
  std::string secretHash;
  bool canDownload = true;
  int64_t maxUses = 0;  // 0 = unlimited
  int64_t uses = 0;
  int64_t failedAttempts = 0;
  int64_t lockedAt = 0;
  int64_t createdAt = 0;
  std::string createdBy;
  int64_t expiresAt = 0;
  int64_t revokedAt = 0;
  std::string revokedBy;
  std::string revokeReason;
  int64_t lastUsedAt = 0;
  int64_t printedAt = 0;
  bool automatic = false;
  int64_t replaces = 0;
  int64_t replacedBy = 0;
  std::string note;
  bool slipPending = false;  // read from share_pending_slips
  std::vector<ShareStudyRef> studies;

  // active | revoked | expired | locked | used-up, at `now`.
  std::string Status(int64_t now) const;
};

// In the database `token` and `pin` are sealed (SlipSeal); ShareService
// unseals them for the slip.
struct PendingSlip {
  int64_t shareId = 0;
  std::string token;
  std::string pin;
  std::string publicUrl;
  int64_t createdAt = 0;
};

struct ShareFilter {
  std::string status;  // "" or "all" = every status
  std::string patientId;
  std::string studyOrthancId;
  std::string text;  // in patient name or ID
  int limit = 50;
  int offset = 0;
};

struct SharePage {
  std::vector<Share> shares;
  int64_t total = 0;
};

class ShareStore {
 public:
  explicit ShareStore(IDatabase& database) : database_(database) {}

  // Inserts the share, its studies and the slip to print in one transaction;
  // returns the new id.
  int64_t Insert(const Share& share, const PendingSlip& slip);
  std::optional<Share> Find(int64_t id);
  std::optional<Share> FindByTokenHash(const std::string& tokenHash);
  SharePage List(const ShareFilter& filter, int64_t now);
  std::vector<Share> PendingSlips(int64_t now);

  // False when it was already revoked.
  bool Revoke(int64_t id, const std::string& by, const std::string& reason, int64_t now);
  void SetReplacedBy(int64_t id, int64_t newId);
  // Takes one of the share's `maxFailures` unlock tries before its secret is
  // checked; it stays counted as a failure unless RecordUse follows. The try
  // that takes the last place locks the share. Returns the try's number
  // (1 to maxFailures), or 0 when no try is left.
  int64_t ReserveUnlockAttempt(int64_t id, int maxFailures, int64_t now);
  void ClearLock(int64_t id);
  // Counts a successful unlock unless the uses are exhausted (false then).
  bool RecordUse(int64_t id, int64_t now);
  std::vector<int64_t> ActiveForRegistryPatient(const std::string& registryPatient, int64_t now);
  bool HasAutomaticShare(const std::string& orthancStudyId);
  int64_t CountActive(int64_t now);
  int64_t CountPendingSlips();

  std::optional<PendingSlip> FindPendingSlip(int64_t shareId);
  // Forgets the token and PIN of a printed slip.
  void MarkPrinted(int64_t shareId, int64_t now);
  // Forgets slips older than `before` without marking them printed.
  int PurgePendingSlips(int64_t before);

  void CreateSession(const std::string& sessionHash, int64_t shareId, int64_t expiresAt,
                     const std::string& ip, int64_t now);
  struct Session {
    int64_t shareId = 0;
    int64_t expiresAt = 0;
  };
  // A live session, if any.
  std::optional<Session> FindSession(const std::string& sessionHash, int64_t now);
  void DeleteSession(const std::string& sessionHash);
  void DeleteSessionsOfShare(int64_t shareId);
  int PurgeSessions(int64_t now);

 private:
  struct Parameter {
    bool isText = false;
    std::string text;
    int64_t number = 0;
  };
  static Parameter TextParam(const std::string& value) { return Parameter{true, value, 0}; }
  static Parameter NumberParam(int64_t value) { return Parameter{false, "", value}; }
  static void BindAll(Statement& statement, const std::vector<Parameter>& parameters);
  // `whereClause` and `tail` are SQL written here, values only as parameters.
  std::vector<Share> Select(Transaction& transaction, const std::string& whereClause,
                            const std::vector<Parameter>& parameters, const std::string& tail);
  void LoadStudies(Transaction& transaction, Share& share);

  IDatabase& database_;
};

}  // namespace HospitalBridge
