#pragma once
// What the core may ask of Orthanc: reads on Orthanc's own REST API. The
// adapter implements it with the plugin SDK (in process, no HTTP); unit tests
// give canned answers. Never call it from an Orthanc callback's thread.
#include <json/json.h>

#include <stdexcept>
#include <string>

#include "Common/Errors.h"

namespace HospitalBridge {

// Orthanc could not answer (stopping, internal error): try again later.
class OrthancUnavailable : public DomainError {
 public:
  explicit OrthancUnavailable(const std::string& message) : DomainError(Kind::kUnavailable, message) {}
};

// Orthanc refused the content itself (not DICOM, bad request): retrying the
// same request cannot help.
class OrthancRejected : public DomainError {
 public:
  explicit OrthancRejected(const std::string& message) : DomainError(Kind::kInvalid, message) {}
};

class IOrthancRest {
 public:
  virtual ~IOrthancRest() = default;
  // GET `uri`. False when Orthanc has no such resource; throws
  // OrthancUnavailable for any other failure.
  virtual bool Get(const std::string& uri, std::string& body) = 0;
  // GET with an Accept header (e.g. "image/jpeg" for rendered images).
  // Fakes without content negotiation may ignore `accept`.
  virtual bool GetAs(const std::string& uri, const std::string& accept, std::string& body) {
    (void)accept;
    return Get(uri, body);
  }
  // POST `body` to `uri`; same conventions as Get, and OrthancRejected when
  // Orthanc refuses the body.
  virtual bool Post(const std::string& uri, const std::string& body, std::string& answer) = 0;
  // DELETE `uri`; false when Orthanc has no such resource. Fakes that never
  // delete need not implement it.
  virtual bool Delete(const std::string& uri) {
    (void)uri;
    throw OrthancUnavailable("DELETE is not available here");
  }

  // Same, parsed as JSON; throws OrthancUnavailable if the answer is not JSON.
  bool GetJson(const std::string& uri, Json::Value& value);
};

}  // namespace HospitalBridge
