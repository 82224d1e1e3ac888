#pragma once
// Exceptions that carry what a caller needs to answer a client or stop the
// plugin with a useful message. None of them knows HTTP.
#include <stdexcept>
#include <string>

namespace HospitalBridge {

// A fault that must stop the plugin at start (bad configuration, unusable
// database). The message is shown to the administrator as is.
class StartupError : public std::runtime_error {
 public:
  explicit StartupError(const std::string& message) : std::runtime_error(message) {}
};

// What went wrong, in the domain's own terms. Stores, services, workers and
// intakes (a DICOM callback, a FHIR message) throw it and never reason in HTTP
// statuses; the HTTP layer maps the kind to a status in one place
// (HttpStatusOf in Common/Http.h). The message is for the person who asked,
// the detail says which field or value.
class DomainError : public std::runtime_error {
 public:
  enum class Kind {
    kInvalid,      // the request or data must be corrected
    kNotFound,     // no such thing
    kConflict,     // it clashes with what exists (a duplicate, a state that forbids it)
    kForbidden,    // this caller may not
    kGone,         // it existed and is no more (expired, revoked, deleted)
    kTooLarge,     // more than is accepted
    kUnavailable,  // cannot be done now (Orthanc stopping, a peer down): try again
  };
  DomainError(Kind kind, const std::string& message, const std::string& detail = "")
      : std::runtime_error(message), kind_(kind), detail_(detail) {}
  Kind GetKind() const { return kind_; }
  const std::string& Detail() const { return detail_; }

  static DomainError Invalid(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kInvalid, message, detail);
  }
  static DomainError NotFound(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kNotFound, message, detail);
  }
  static DomainError Conflict(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kConflict, message, detail);
  }
  static DomainError Forbidden(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kForbidden, message, detail);
  }
  static DomainError Gone(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kGone, message, detail);
  }
  static DomainError TooLarge(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kTooLarge, message, detail);
  }
  static DomainError Unavailable(const std::string& message, const std::string& detail = "") {
    return DomainError(Kind::kUnavailable, message, detail);
  }

 private:
  Kind kind_;
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
