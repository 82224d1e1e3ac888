#pragma once
// The router's pure decisions, kept apart so unit tests can state them: which
// rules select a study, whether the patient's consent lets it go, how long to
// wait before the next attempt, and what an HTTP answer means for a delivery.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "Common/StudyEvents.h"
#include "Router/HttpClient.h"
#include "Router/RouterSettings.h"

namespace HospitalBridge {

// What the rules look at.
struct StudyFacts {
  std::vector<std::string> modalities;
  std::vector<std::string> callingAets;
  std::string institution;
  std::string description;
  std::string accession;
};

// Whether every condition of the rule holds (orders and consent aside).
bool RuleSelects(const RouterRule& rule, const StudyFacts& facts);
// Whether the patient's one consent decision lets the rule send.
bool ConsentPermits(RuleConsent needed, const PatientConsent& consent);
const char* RuleConsentName(RuleConsent consent);

// The wait before attempt `attempt` + 1 (attempt >= 1): doubling from min to
// a cap, then "equal jitter": half fixed, half random (`random01` in [0, 1)).
int64_t BackoffMs(int64_t attempt, int64_t minMs, int64_t maxMs, double random01);

// A send that did not deliver, and what to do about it.
class DeliveryProblem : public std::runtime_error {
 public:
  enum class Kind {
    kRetry,  // may succeed later: no answer, a timeout, 5xx, 429
    kWait,   // a business precondition is missing (ServiceRequest not found)
    kFail,   // retrying the same request cannot help (4xx, garbage)
  };
  DeliveryProblem(Kind kind, const std::string& reason) : std::runtime_error(reason), kind_(kind) {}
  Kind GetKind() const { return kind_; }
  static DeliveryProblem Retry(const std::string& reason) { return DeliveryProblem(Kind::kRetry, reason); }
  static DeliveryProblem Wait(const std::string& reason) { return DeliveryProblem(Kind::kWait, reason); }
  static DeliveryProblem Fail(const std::string& reason) { return DeliveryProblem(Kind::kFail, reason); }

 private:
  Kind kind_;
};

// Orthanc is stopping in the middle of a delivery: it goes back to the queue.
class DeliveryPaused : public std::runtime_error {
 public:
  DeliveryPaused() : std::runtime_error("paused: Orthanc is stopping") {}
};

// The first bytes of an answer, printable, for a reason staff read.
std::string FirstBytes(const std::string& body, size_t count = 160);
// `what` answered `result`, and it was not what was hoped for: the problem,
// classified by the answer (no answer, 408, 429, 5xx: retry; other: fail).
DeliveryProblem ProblemOf(const HttpResult& result, const std::string& what);
// `text` with every occurrence of `secret` replaced.
std::string Scrub(std::string text, const std::string& secret);

}  // namespace HospitalBridge
