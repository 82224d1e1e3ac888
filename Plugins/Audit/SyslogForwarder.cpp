#include "Audit/SyslogForwarder.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "Common/Log.h"
#include "Common/PluginState.h"
#include "Common/Time.h"

namespace HospitalBridge {
namespace {
const char kCursorKey[] = "syslog_cursor";
// Facility 10 (security/authorization), severity 5 (notice): as ATNA does.
const int kPriority = 10 * 8 + 5;
const int kBatch = 200;
}  // namespace

SyslogForwarder::SyslogForwarder(IDatabase& database, AuditStore& store, const AuditSettings& settings,
                                 AuditSource source, ILeases* leases)
    : database_(database),
      store_(store),
      settings_(settings),
      source_(std::move(source)),
      worker_("audit syslog", [this] { return Tick(); }) {
  char name[256] = {0};
  hostname_ = gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0' ? name : "-";
  cursor_ = StoredCursor();
  if (leases != nullptr) worker_.RequireLease(*leases, "syslog");
}

int64_t SyslogForwarder::StoredCursor() {
  const std::string cursor = GetPluginState(database_, kCursorKey);
  return cursor.empty() ? 0 : std::stoll(cursor);
}

SyslogForwarder::~SyslogForwarder() { Stop(); }

std::string SyslogForwarder::Format(const AuditEvent& event) const {
  return "<" + std::to_string(kPriority) + ">1 " + Time::FormatIsoUtcMilliseconds(event.timeMs) + " " +
         hostname_ + " HospitalBridge " + std::to_string(getpid()) + " IHE+RFC-3881 - " +
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + ToDicomAuditMessage(event, source_);
}

void SyslogForwarder::Start() { worker_.Start(); }

void SyslogForwarder::Stop() {
  worker_.Stop();
  Disconnect();
}

SyslogForwarder::Status SyslogForwarder::GetStatus() {
  std::lock_guard<std::mutex> lock(mutex_);
  Status status;
  status.backlog = std::max<int64_t>(0, store_.LastId() - cursor_);
  status.sent = sent_;
  status.lastError = lastError_;
  return status;
}

void SyslogForwarder::Disconnect() {
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
}

bool SyslogForwarder::Connect(std::string& error) {
  if (socket_ >= 0 && settings_.syslogTcp) {
    // A repository that went away closes the connection; a send into it could
    // be swallowed, so check before writing.
    struct pollfd check {
      socket_, POLLIN, 0
    };
    char byte;
    if (poll(&check, 1, 0) > 0 && recv(socket_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) Disconnect();
  }
  if (socket_ >= 0) return true;
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = settings_.syslogTcp ? SOCK_STREAM : SOCK_DGRAM;
  struct addrinfo* found = nullptr;
  int code =
      getaddrinfo(settings_.syslogHost.c_str(), std::to_string(settings_.syslogPort).c_str(), &hints, &found);
  if (code != 0) {
    error = "cannot resolve " + settings_.syslogHost + ": " + gai_strerror(code);
    return false;
  }
  for (struct addrinfo* address = found; address != nullptr; address = address->ai_next) {
    int fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
    if (fd < 0) continue;
    struct timeval timeout {
      5, 0
    };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (connect(fd, address->ai_addr, address->ai_addrlen) == 0) {
      socket_ = fd;
      break;
    }
    error = std::string("cannot connect to ") + settings_.syslogHost + ":" +
            std::to_string(settings_.syslogPort) + ": " + strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  return socket_ >= 0;
}

bool SyslogForwarder::SendMessage(const std::string& message, std::string& error) {
  // RFC 6587 octet counting on TCP; a datagram is its own frame.
  const std::string frame = settings_.syslogTcp ? std::to_string(message.size()) + " " + message : message;
  size_t offset = 0;
  while (offset < frame.size()) {
    // MSG_NOSIGNAL: a closed connection must not raise SIGPIPE in Orthanc.
    ssize_t written = send(socket_, frame.data() + offset, frame.size() - offset, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      error = std::string("sending to the audit repository failed: ") + strerror(errno);
      Disconnect();
      return false;
    }
    offset += static_cast<size_t>(written);
  }
  return true;
}

bool SyslogForwarder::SendBatch(std::string& error) {
  {
    // Where the database says sending got (another node may have sent).
    const int64_t stored = StoredCursor();
    std::lock_guard<std::mutex> lock(mutex_);
    cursor_ = stored;
  }
  std::vector<AuditEvent> events = store_.After(cursor_, kBatch);
  if (events.empty()) return true;
  if (!Connect(error)) return false;
  for (const AuditEvent& event : events) {
    if (!SendMessage(Format(event), error)) {
      SetPluginState(database_, kCursorKey, std::to_string(cursor_));  // what went out stays out
      return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    cursor_ = event.id;
    sent_++;
  }
  SetPluginState(database_, kCursorKey, std::to_string(cursor_));
  return true;
}

std::chrono::milliseconds SyslogForwarder::Tick() {
  std::string error;
  bool ok = false;
  try {
    ok = SendBatch(error);
  } catch (const std::exception& e) {
    error = e.what();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    lastError_ = ok ? "" : error;
  }
  if (ok && failing_) Log::Info("audit: the syslog audit repository accepts messages again");
  if (!ok && !failing_) Log::Warning("audit: " + error + "; events wait and will be sent later");
  failing_ = !ok;
  // After a failure the configured retry interval is waited; new events
  // are picked up within a second; a backlog is sent batch after batch.
  if (!ok) return std::chrono::milliseconds(settings_.syslogRetryMs);
  std::lock_guard<std::mutex> lock(mutex_);
  return store_.LastId() > cursor_ ? std::chrono::milliseconds(0) : std::chrono::milliseconds(1000);
}

}  // namespace HospitalBridge
