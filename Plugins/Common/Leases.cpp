#include "Common/Leases.h"

#include <unistd.h>

#include "Common/Crypto.h"

namespace HospitalBridge {

bool DatabaseLeases::Acquire(const std::string& name, const std::string& holder, int64_t ttlMs) {
  const int64_t now = clock_.NowMs();
  return InWrite(database_, [&](Transaction& transaction) {
    // Taken when free, expired or already ours; left alone otherwise.
    Statement take(
        transaction,
        "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?");
    take.Bind(1, name).Bind(2, holder).Bind(3, now + ttlMs).Bind(4, now).Run();
    Statement check(transaction, "SELECT holder FROM leases WHERE name = ?");
    check.Bind(1, name);
    return check.Step() && check.ColumnText(0) == holder;
  });
}

void DatabaseLeases::Release(const std::string& name, const std::string& holder) {
  InWrite(database_, [&](Transaction& transaction) {
    Statement release(transaction, "DELETE FROM leases WHERE name = ? AND holder = ?");
    release.Bind(1, name).Bind(2, holder).Run();
  });
}

const std::string& DatabaseLeases::ThisNode() {
  static const std::string node = [] {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + Crypto::ToHex(Crypto::RandomBytes(4));
  }();
  return node;
}

}  // namespace HospitalBridge
