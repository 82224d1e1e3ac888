#pragma once
// Lets a patient's phone download a whole study as Orthanc itself streams it.
// Orthanc 1.10's plugin interface cannot stream an answer, so a study of
// 2000 images would be built whole in memory before the first byte. Instead
// the share route hands out a ticket (128 bits, single use, a minute at
// most, bound to one study and the address that asked) and redirects the
// phone to Orthanc's own streaming /studies/{id}/media?ticket=...; the gate
// admits that one request on the ticket alone. A ticket is worthless once
// used, so it may travel in the URL.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace HospitalBridge {

struct DownloadTicket {
  int64_t shareId = 0;
  std::string studyOrthancId;
  std::string studyUid;
  std::string address;
  std::string format;  // "dicom"
  int64_t expiresAt = 0;
};

class DownloadTickets {
 public:
  explicit DownloadTickets(int validSeconds = 60) : validSeconds_(validSeconds) {}

  // The ticket's token (never stored: its hash is the key).
  std::string Issue(DownloadTicket ticket, int64_t now);
  // The ticket for this study and address, used up by this call; nothing
  // when unknown, used, expired, for another study or from another address.
  std::optional<DownloadTicket> Redeem(const std::string& token, const std::string& studyOrthancId,
                                       const std::string& address, int64_t now);

 private:
  const int validSeconds_;
  std::mutex mutex_;
  std::map<std::string, DownloadTicket> tickets_;  // by SHA-256 of the token
};

}  // namespace HospitalBridge
