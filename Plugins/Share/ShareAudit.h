#pragma once
// How every part of the share module reports on a link: one share.* audit
// event naming the link, its patient and the study concerned.
#include <json/json.h>

#include <string>

#include "Common/AuditSink.h"
#include "Common/AuditVocabulary.h"
#include "Share/ShareStore.h"

namespace HospitalBridge {

// `studyUid` names the study concerned; by default the share's only study,
// if it has one.
void AuditShare(IAuditSink& audit, const std::string& action, const Share& share, const AuditActor& actor,
                const std::string& outcome = "success", Json::Value detail = Json::Value(Json::objectValue),
                const std::string& studyUid = "");

// The PBKDF2 hash a link's PIN or birth date is kept as.
std::string HashShareSecret(const std::string& secret, const std::string& salt, uint32_t iterations);

}  // namespace HospitalBridge
