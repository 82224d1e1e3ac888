#include "Common/Leases.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>

#include "Common/Crypto.h"

namespace HospitalBridge {
namespace {
std::string HostName() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) return "";
  return std::string(host.data());
}

// "4026531836" from the link /proc/self/ns/pid -> "pid:[4026531836]"; the
// same PID can name different processes in different namespaces (containers).
std::string PidNamespace() {
  std::array<char, 64> target{};
  const ssize_t n = readlink("/proc/self/ns/pid", target.data(), target.size() - 1);
  std::string digits;
  for (ssize_t i = 0; i < n; i++) {
    if (target[static_cast<size_t>(i)] >= '0' && target[static_cast<size_t>(i)] <= '9')
      digits += target[static_cast<size_t>(i)];
  }
  return digits.empty() ? "?" : digits;
}
}  // namespace

bool DatabaseLeases::Acquire(const std::string& name, const std::string& holder, int64_t ttlMs) {
  const int64_t now = clock_.NowMs();
  return InWrite(database_, [&](Transaction& transaction) {
    {
      Statement current(transaction, "SELECT holder FROM leases WHERE name = ? AND expires_at > ?");
      current.Bind(1, name).Bind(2, now);
      if (current.Step() && current.ColumnText(0) != holder && IsDeadHereHolder(current.ColumnText(0))) {
        Statement expire(transaction, "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?");
        expire.Bind(1, name).Bind(2, current.ColumnText(0)).Run();
      }
    }
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
  static const std::string node = HolderOnThisMachine(getpid(), Crypto::ToHex(Crypto::RandomBytes(4)));
  return node;
}

std::string DatabaseLeases::HolderOnThisMachine(long pid, const std::string& random) {
  return HostName() + ":" + PidNamespace() + ":" + std::to_string(pid) + ":" + random;
}

bool DatabaseLeases::IsDeadHereHolder(const std::string& holder) {
  // host:namespace:pid:random, the host possibly holding colons itself.
  const size_t randomAt = holder.rfind(':');
  if (randomAt == std::string::npos || randomAt == 0) return false;
  const size_t pidAt = holder.rfind(':', randomAt - 1);
  if (pidAt == std::string::npos || pidAt == 0) return false;
  const size_t namespaceAt = holder.rfind(':', pidAt - 1);
  if (namespaceAt == std::string::npos) return false;
  if (holder.compare(0, namespaceAt, HostName()) != 0 || namespaceAt != HostName().size()) return false;
  if (holder.substr(namespaceAt + 1, pidAt - namespaceAt - 1) != PidNamespace()) return false;
  const std::string pidText = holder.substr(pidAt + 1, randomAt - pidAt - 1);
  if (pidText.empty() || pidText.find_first_not_of("0123456789") != std::string::npos || pidText.size() > 9)
    return false;
  const long pid = std::stol(pidText);
  if (pid <= 1 || pid == static_cast<long>(getpid())) return false;
  return kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

}  // namespace HospitalBridge
