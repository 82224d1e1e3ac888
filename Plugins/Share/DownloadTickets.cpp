#include "Share/DownloadTickets.h"

#include "Common/Crypto.h"

namespace HospitalBridge {

std::string DownloadTickets::Issue(DownloadTicket ticket, int64_t now) {
  const std::string token = Crypto::NewToken();
  ticket.expiresAt = now + validSeconds_;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = tickets_.begin(); it != tickets_.end();) {
    it = it->second.expiresAt <= now ? tickets_.erase(it) : std::next(it);
  }
  tickets_[Crypto::Sha256(token)] = std::move(ticket);
  return token;
}

std::optional<DownloadTicket> DownloadTickets::Redeem(const std::string& token,
                                                      const std::string& studyOrthancId,
                                                      const std::string& address, int64_t now) {
  if (token.empty() || token.size() > 64) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = tickets_.find(Crypto::Sha256(token));
  if (found == tickets_.end()) return std::nullopt;
  DownloadTicket ticket = found->second;
  // Used up by any attempt, right or wrong: a ticket is tried once.
  tickets_.erase(found);
  if (ticket.expiresAt <= now || ticket.studyOrthancId != studyOrthancId || ticket.address != address) {
    return std::nullopt;
  }
  return ticket;
}

}  // namespace HospitalBridge
