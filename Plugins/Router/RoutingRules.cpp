#include "Router/RoutingRules.h"

#include <regex.h>

#include <algorithm>
#include <cctype>

namespace HospitalBridge {
namespace {
std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string Trimmed(const std::string& text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(' ') - begin + 1);
}

bool AnyIn(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  if (wanted.empty()) return true;
  for (const std::string& w : wanted) {
    for (const std::string& h : have) {
      if (Upper(Trimmed(w)) == Upper(Trimmed(h))) return true;
    }
  }
  return false;
}
}  // namespace

bool RuleSelects(const RouterRule& rule, const StudyFacts& facts) {
  if (!AnyIn(rule.modalities, facts.modalities)) return false;
  if (!AnyIn(rule.callingAets, facts.callingAets)) return false;
  if (!AnyIn(rule.institutions, {facts.institution})) return false;
  if (!rule.descriptionPattern.empty()) {
    regex_t compiled;
    if (regcomp(&compiled, rule.descriptionPattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
      return false;
    const bool matches = regexec(&compiled, facts.description.c_str(), 0, nullptr, 0) == 0;
    regfree(&compiled);
    if (!matches) return false;
  }
  return true;
}

bool ConsentPermits(RuleConsent needed, const PatientConsent& consent) {
  switch (needed) {
    case RuleConsent::kNone:
      return true;
    case RuleConsent::kShare:
      return consent.sharePermitted;
    case RuleConsent::kFederation:
      return consent.federationPermitted;
    case RuleConsent::kResearch:
      return consent.researchPermitted;
  }
  return false;
}

const char* RuleConsentName(RuleConsent consent) {
  switch (consent) {
    case RuleConsent::kNone:
      return "none";
    case RuleConsent::kShare:
      return "share";
    case RuleConsent::kFederation:
      return "federation";
    case RuleConsent::kResearch:
      return "research";
  }
  return "?";
}

int64_t BackoffMs(int64_t attempt, int64_t minMs, int64_t maxMs, double random01) {
  int64_t delay = minMs;
  for (int64_t i = 1; i < attempt && delay < maxMs; i++) delay *= 2;
  delay = std::min(delay, maxMs);
  random01 = std::clamp(random01, 0.0, 1.0);
  return delay / 2 + static_cast<int64_t>(static_cast<double>(delay - delay / 2) * random01);
}

std::string FirstBytes(const std::string& body, size_t count) {
  std::string out;
  for (size_t i = 0; i < body.size() && out.size() < count; i++) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += '.';
    }
  }
  if (body.size() > count) out += "...";
  return out.empty() ? "(empty)" : out;
}

DeliveryProblem ProblemOf(const HttpResult& result, const std::string& what) {
  if (!result.reached && result.certificateRejected) {
    return DeliveryProblem::Fail(what + "'s certificate is not trusted (" + result.error +
                                 "); nothing was sent: fix its certificate or the destination's CaFile, "
                                 "then resend");
  }
  if (!result.reached) return DeliveryProblem::Retry(what + " did not answer: " + result.error);
  const std::string said =
      what + " answered HTTP " + std::to_string(result.status) + ": " + FirstBytes(result.body);
  if (result.status == 408 || result.status == 429 || result.status >= 500)
    return DeliveryProblem::Retry(said);
  return DeliveryProblem::Fail(said);
}

std::string Scrub(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "[secret]");
  }
  return text;
}

}  // namespace HospitalBridge
