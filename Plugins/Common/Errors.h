#pragma once
// Exceptions that carry what a caller needs to answer a client or stop the
// plugin with a useful message.
#include <stdexcept>
#include <string>

namespace HospitalBridge {

// A fault that must stop the plugin at start (bad configuration, unusable
// database). The message is shown to the administrator as is.
class StartupError : public std::runtime_error {
 public:
  explicit StartupError(const std::string& message) : std::runtime_error(message) {}
};

// A request the client must correct or is not allowed to make. Turned into
// {"error": message, "detail": detail} with the given HTTP status.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message, const std::string& detail = "")
      : std::runtime_error(message), status_(status), detail_(detail) {}
  int Status() const { return status_; }
  const std::string& Detail() const { return detail_; }

 private:
  int status_;
  std::string detail_;
};

// A failure of the plugin's own database.
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(const std::string& message, int code) : std::runtime_error(message), code_(code) {}
  int Code() const { return code_; }

 private:
  int code_;
};

}  // namespace HospitalBridge
